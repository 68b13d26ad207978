"""Concurrent writes: several processes saving trials through the app at once.

Each process logs in and saves trials through the trial form (reading the
form before each save, as a browser does), so every save pays for
validation, the audit row and SQLite's write lock. The baseline, in the same
run, is the same number of processes each committing plain single-row
``INSERT`` transactions through the same engine settings.

The tests use the same writer as a process of its own:
``python -m bench.writes DATABASE_URL CODE COUNT GO_FILE PASSWORD`` logs in
as the ``therapist`` user, adds patient CODE, waits for GO_FILE to appear (so
several writers start together), then saves COUNT trials, printing the
number of each once it is saved.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from tracker import create_app
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import Patient, User
from tracker.sites.membership import default_sites
from tracker.storage import database

PASSWORD = "bench password 1"


def ensure_account(username: str, role: str) -> None:
    """Add a benchmark account with :data:`PASSWORD` unless it exists."""
    if not db.session.scalar(sa.select(User.id).where(User.username == username)):
        db.session.add(
            User(
                username=username,
                role=role,
                password_hash=hash_password(PASSWORD),
                sites=default_sites(),
            )
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


def new_patient(url: str, username: str, password: str, code: str):
    """A test client signed in as ``username``, and the page of new patient ``code``."""
    client = bench_app(url).test_client()
    response = client.post(
        "/auth/login", data={"username": username, "password": password}
    )
    assert response.status_code == 302, response.text
    response = client.post("/patients/new", data={"code": code})
    assert response.status_code == 302, response.text
    return client, response.headers["Location"]


def save_trials(client, patient_url: str, count: int) -> Iterator[int]:
    """Save ``count`` trials through the form; each save's status (302: saved)."""
    for index in range(count):
        # As a browser does: the form first, so reads and writes interleave.
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
        yield response.status_code


def _through_the_app(url: str, number: int, count: int, ready) -> Timed:
    code = f"BENCH-W-{time.time_ns()}-{number}"
    client, patient_url = new_patient(url, "bench-therapist", PASSWORD, code)
    ready.wait()
    started = time.perf_counter()
    saved = sum(status == 302 for status in save_trials(client, patient_url, count))
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


def main(url: str, code: str, count: int, go_file: str, password: str) -> None:
    """One writer for the tests: see the module's docstring."""
    client, patient_url = new_patient(url, "therapist", password, code)
    while not Path(go_file).exists():
        time.sleep(0.01)
    for number, status in enumerate(save_trials(client, patient_url, count)):
        if status != 302:
            sys.exit(f"trial {number} was not saved: {status}")
        print(number, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
