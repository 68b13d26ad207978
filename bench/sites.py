"""What keeping sites apart costs a user of one site, page by page.

The filled database has one site, whose reviewer sees every patient, so no
site criteria apply. Two more sites then join, each filled with as many
trials again: the reviewer still sees exactly the same trials, now picked
out of three times as many by the criteria of :mod:`tracker.sites.scope`.
Each page's median server time after, over before, is what the criteria
cost (the target: under :data:`TARGET`). The dashboard is timed at its first
view (``DASHBOARD_CACHE`` off: every view reads and computes afresh).

Run last on a database, and once: it adds two named sites and their trials.
"""

from __future__ import annotations

import sqlalchemy as sa

from bench.fill import fill, settle
from bench.pages import page_times
from bench.writes import PASSWORD, bench_app, ensure_account
from tracker.extensions import db
from tracker.models import Patient, Site

#: At most this much longer with the criteria than without (issue 18).
TARGET = 1.10
#: Above this many trials the two more sites would take longer than the rest.
MOST_TRIALS = 100_000
PAGES = {
    "patient list": "/patients/",
    "trials list": "/trials/",
    "follow-ups due": "/follow-ups/due",
    "dashboard first view": "/dashboard/",
}
NEW_SITES = ("Bench north", "Bench south")
READER = "bench-site-reviewer"


def measure(url: str, trials: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Each page's median seconds with one site, then with three: (before, after)."""
    app = bench_app(url)
    app.config["DASHBOARD_CACHE"] = False
    with app.app_context():
        ensure_account(READER, "reviewer")
    before = _page_times(app, repeat)
    with app.app_context():
        _add_sites(trials)
        db.engine.dispose()
    after = _page_times(app, repeat)
    return {page: (before[page], after[page]) for page in PAGES}


def _page_times(app, repeat: int) -> dict[str, float]:
    client = app.test_client()
    client.post("/auth/login", data={"username": READER, "password": PASSWORD})
    return page_times(client, PAGES, repeat)


def _add_sites(trials: int) -> None:
    """Two more sites, each with ``trials`` made-up trials of its own patients."""
    for seed, name in enumerate(NEW_SITES, start=2):
        site = Site(name=name)
        db.session.add(site)
        db.session.flush()
        site_id = site.id
        first = db.session.scalar(sa.select(sa.func.max(Patient.id)))
        db.session.commit()  # the session's write lock, before fill's connection
        fill(db.engine, trials, seed=seed)
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Patient).where(Patient.id > first).values(site_id=site_id)
            )
    settle(db.engine)
