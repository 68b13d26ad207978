"""Concurrent writes: several processes saving trials through the app at once.

Each process logs in and saves trials through the trial form (reading the
form before each save, as a browser does), so every save pays for
validation, the audit row and SQLite's write lock. The baseline, in the same
run, is the same number of processes each committing plain single-row
``INSERT`` transactions through the same engine settings.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, date, datetime

import sqlalchemy as sa

from tracker import create_app
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import Patient, User
from tracker.storage import database

PASSWORD = "bench password 1"


def ensure_account(username: str, role: str) -> None:
    """Add a benchmark account with :data:`PASSWORD` unless it exists."""
    if not db.session.scalar(sa.select(User.id).where(User.username == username)):
        db.session.add(
            User(username=username, role=role, password_hash=hash_password(PASSWORD))
        )
        db.session.commit()


def bench_app(url: str):
    """The app on ``url`` for benchmarks: test client friendly, no CSRF."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
        }
    )


#: A worker's result: writes saved, when its first began, when its last ended.
Timed = tuple[int, float, float]


def _through_the_app(url: str, number: int, count: int, ready) -> Timed:
    app = bench_app(url)
    client = app.test_client()
    client.post(
        "/auth/login", data={"username": "bench-therapist", "password": PASSWORD}
    )
    code = f"BENCH-W-{time.time_ns()}-{number}"
    response = client.post("/patients/new", data={"code": code})
    patient_url = response.headers["Location"]
    ready.wait()
    started = time.perf_counter()
    saved = 0
    for index in range(count):
        client.get(f"{patient_url}/trials/new")
        response = client.post(
            f"{patient_url}/trials/new",
            data={
                "trial_date": date.today().isoformat(),
                "activity": "stairs_down",
                "intervention": "taping",
                "pain_without": str(index % 11),
                "pain_with": "2",
            },
        )
        saved += response.status_code == 302
    return saved, started, time.perf_counter()


def _plain_inserts(url: str, number: int, count: int, ready) -> Timed:
    app = bench_app(url)
    with app.app_context():
        patient_id = db.session.scalar(sa.select(sa.func.min(Patient.id)))
        db.session.close()
        database.write_intent.set(True)
        ready.wait()
        started = time.perf_counter()
        for index in range(count):
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO trial (patient_id, trial_date, intervention, "
                        "product, activity, activity_other, pain_without, "
                        "pain_with, notes, created_at) VALUES (:p, :d, 'taping', "
                        "'', 'stairs_down', '', :w, 2, '', :now)"
                    ),
                    {
                        "p": patient_id,
                        "d": date.today(),
                        "w": index % 11,
                        "now": datetime.now(UTC),
                    },
                )
        ended = time.perf_counter()
        db.engine.dispose()
    return count, started, ended


def _race(worker, url: str, processes: int, count: int) -> float:
    """Writes per second with ``processes`` workers started together.

    Timed from the moment every worker is ready (imported, logged in), so
    that starting Python and the app, which takes seconds, is not counted.
    ``perf_counter`` is the machine's monotonic clock, the same in every
    process on Linux.
    """
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(processes) as pool:
        ready = manager.Barrier(processes)
        results = pool.starmap(
            worker, [(url, n, count, ready) for n in range(processes)]
        )
    saved = sum(result[0] for result in results)
    if saved != processes * count:
        raise SystemExit(f"only {saved} of {processes * count} writes were saved")
    first = min(result[1] for result in results)
    last = max(result[2] for result in results)
    return saved / (last - first)


def measure(url: str, processes: int = 4, count: int = 200) -> dict[str, float]:
    """Trials saved per second through the app, and plain inserts per second."""
    app = bench_app(url)
    with app.app_context():
        ensure_account("bench-therapist", "therapist")
        db.engine.dispose()
    through_app = _race(_through_the_app, url, processes, count)
    plain = _race(_plain_inserts, url, processes, count)
    return {"app_writes_per_s": through_app, "plain_inserts_per_s": plain}
