"""Server time of the therapist's and reviewer's pages on a filled database.

Each page is fetched through the app's test client, logged in, beside a
baseline in the same run: ``/healthz``, the cheapest request through the same
stack (routing, hooks, one database round trip).
"""

from __future__ import annotations

import sqlalchemy as sa

from bench.dashboard import timed
from bench.writes import PASSWORD, bench_app, ensure_account
from tracker.extensions import db
from tracker.models import Patient, Trial


def measure(url: str, repeat: int = 5) -> dict[str, float]:
    """Median seconds per page, and the ``/healthz`` baseline."""
    app = bench_app(url)
    with app.app_context():
        ensure_account("bench-admin", "admin")
        patient_id = db.session.scalar(sa.select(sa.func.max(Patient.id)))
        trial_id = db.session.scalar(
            sa.select(sa.func.max(Trial.id)).where(Trial.patient_id == patient_id)
        )
    client = app.test_client()
    client.post("/auth/login", data={"username": "bench-admin", "password": PASSWORD})
    pages = {
        "healthz (baseline)": "/healthz",
        "patient list": "/patients/",
        "patient page": f"/patients/{patient_id}",
        "trial form": f"/patients/{patient_id}/trials/new",
        "trial page": f"/trials/{trial_id}",
        "trials list": "/trials/",
        "follow-ups due": "/follow-ups/due",
    }
    figures = page_times(client, pages, repeat)
    with app.app_context():
        db.engine.dispose()
    return figures


def page_times(client, pages: dict[str, str], repeat: int) -> dict[str, float]:
    """Median seconds of each of ``pages`` (name: path) through ``client``."""
    figures = {}
    for name, path in pages.items():

        def get(path=path):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")

        figures[name], _ = timed(get, repeat)
    return figures
