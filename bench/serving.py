"""A scratch database and the app under gunicorn, for the load benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests


def warmed_app(config: dict):
    """The app with the dashboard's statistics and charts already imported.

    Served with gunicorn's ``--preload``, every worker starts with them, so
    the measured load is the steady state; what a worker's first dashboard
    view pays for the import is measured apart, in ``bench/startup.py``.
    """
    from tracker import create_app

    app = create_app(config)
    import tracker.dashboard.content  # noqa: F401
    import tracker.reporting.charts  # noqa: F401

    return app


@contextmanager
def served(database_url: str, workers: int = 4, threads: int = 8) -> Iterator[str]:
    """The app under gunicorn on 127.0.0.1 with ``workers`` workers; its URL.

    With ``threads`` above 1 each worker is gunicorn's threaded (gthread)
    worker, so a quick save need not queue behind a long export. The app is
    :func:`warmed_app`, loaded once before the workers fork.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "load test"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            # Longer than a clinician's pause: an idle kept-alive connection
            # closed by the server just as a client reuses it is a reset.
            "--keep-alive",
            "30",
            "--bind",
            f"127.0.0.1:{port}",
            "--preload",
            f"bench.serving:warmed_app({config!r})",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served.pid = server.pid  # gunicorn's master; its workers are its children
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=60)
        served.errors = errors


def scratch_database(trials: int, sites: int = 1) -> Iterator[str]:
    """A migrated scratch database holding ``trials`` trials (bulk-filled).

    SQLite in a temporary folder, or a scratch schema of the PostgreSQL
    database that DATABASE_URL names. With ``sites`` above 1 the patients
    are spread evenly over that many sites (see :func:`spread_over_sites`).
    """
    from bench.dashboard import postgresql_databases, sqlite_databases
    from bench.fill import fill, settle
    from tracker import create_app, database_uri
    from tracker.extensions import db
    from tracker.storage.schema import upgrade_database

    if os.environ.get("DATABASE_URL"):
        databases = postgresql_databases(
            database_uri(os.environ["DATABASE_URL"]), trials
        )
    else:
        databases = sqlite_databases(trials)
    for url in databases:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
        with app.app_context():
            upgrade_database()
            fill(db.engine, trials, seed=1)
            spread_over_sites(sites)
            settle(db.engine)
            db.engine.dispose()
        yield url


def spread_over_sites(count: int) -> None:
    """Add sites until there are ``count``; deal the patients out among them."""
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import Patient, Site

    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Site))
    for number in range(existing + 1, count + 1):
        db.session.add(Site(name=f"Load site {number}"))
    db.session.commit()
    site_ids = db.session.scalars(sa.select(Site.id).order_by(Site.id)).all()
    if len(site_ids) < 2:
        return
    for position, site_id in enumerate(site_ids):
        db.session.execute(
            sa.update(Patient)
            .where(Patient.id % len(site_ids) == position)
            .values(site_id=site_id)
        )
    db.session.commit()
