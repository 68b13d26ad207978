"""A mixed load through the real forms: therapists record, reviewers read.

Therapists log in and record trials and follow-ups through the same forms a
browser uses (CSRF tokens included) while reviewers reload the dashboard and
download the trials export. Every save a client is told about (a redirect to
the saved record) is checked against the database afterwards, with its audit
row: zero lost writes is the requirement, latency the measurement.

    python -m bench.load --trials 100000             # scratch database, gunicorn
    python -m bench.load --base-url http://127.0.0.1:8000 --database-url URL

The accounts ``load-therapist-NN`` and ``load-reviewer-NN`` are created (or
reused) in the database first; see :func:`prepare_accounts`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import requests
import sqlalchemy as sa

PASSWORD = "load test password 2026"
DASHBOARD_URL = "/dashboard/"
EXPORT_URL = "/exports/trials.csv"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_SAVED_TRIAL = re.compile(r"/trials/(\d+)")


@dataclass
class Tally:
    """What every client saw: latencies per request type, failures, saves."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: Requests started before this (monotonic) time are the warm-up's.
    measure_from: float = 0.0
    warm_up_latencies: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    failures: list[str] = field(default_factory=list)
    saved_trials: set[int] = field(default_factory=set)
    saved_follow_ups: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, call, *args, expect=(200,), **kwargs):
        started, started_at = time.perf_counter(), time.monotonic()
        try:
            response = call(*args, timeout=30, allow_redirects=False, **kwargs)
            if kind == "export":
                for _ in response.iter_content(65536):
                    pass
        except requests.RequestException as error:
            self.fail(f"{kind}: {error}")
            return None
        elapsed = time.perf_counter() - started
        measured = started_at >= self.measure_from
        with self.lock:
            (self.latencies if measured else self.warm_up_latencies)[kind].append(
                elapsed
            )
        if response.status_code not in expect:
            self.fail(f"{kind}: HTTP {response.status_code} {response.url}")
            return None
        return response

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)


def prepare_accounts(database_url: str, therapists: int, reviewers: int) -> None:
    """Create the load-test accounts in the app's database, if missing."""
    from tracker import create_app
    from tracker.auth.passwords import hash_password
    from tracker.extensions import db
    from tracker.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    password_hash = hash_password(PASSWORD)
    names = [(f"load-therapist-{n:02d}", "therapist") for n in range(therapists)]
    names += [(f"load-reviewer-{n:02d}", "reviewer") for n in range(reviewers)]
    with app.app_context():
        existing = set(db.session.scalars(sa.select(User.username)))
        for username, role in names:
            if username not in existing:
                db.session.add(
                    User(username=username, role=role, password_hash=password_hash)
                )
        db.session.commit()
        db.engine.dispose()


def _token(response) -> str:
    match = _TOKEN.search(response.text)
    if not match:
        raise RuntimeError(f"no CSRF token on {response.url}")
    return match.group(1)


def _log_in(base: str, username: str, tally: Tally) -> requests.Session | None:
    session = requests.Session()
    page = tally.timed("login_page", session.get, f"{base}/auth/login")
    if page is None:
        return None
    response = tally.timed(
        "login",
        session.post,
        f"{base}/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _token(page)},
        expect=(302,),
    )
    return session if response is not None else None


def _add_patient(base, session, number, tally) -> str | None:
    """Add a new patient through the form; the patient page's URL."""
    form = tally.timed("form_page", session.get, f"{base}/patients/new")
    if form is None:
        return None
    code = f"LOAD-{number:02d}-{time.time_ns() % 10**12}"
    created = tally.timed(
        "patient_save",
        session.post,
        f"{base}/patients/new",
        data={"code": code, "csrf_token": _token(form)},
        expect=(302,),
    )
    return base + created.headers["Location"] if created is not None else None


def _pause(rng: random.Random, think: float, deadline: float) -> None:
    """A clinician's pause between actions, shortened at the deadline."""
    time.sleep(
        max(0.0, min(rng.uniform(0.5, 1.5) * think, deadline - time.monotonic()))
    )


def therapist(
    base: str, number: int, deadline: float, tally: Tally, think: float = 0.0
) -> None:
    """Record trials and follow-ups until the deadline, a new patient every few.

    ``think`` is the mean pause in seconds between one save and the next.
    """
    rng = random.Random(number)
    session = _log_in(base, f"load-therapist-{number:02d}", tally)
    if session is None:
        return
    patient_url = None
    trials_of_patient = 0
    today = date.today().isoformat()
    while time.monotonic() < deadline:
        if patient_url is None or trials_of_patient == 3:
            patient_url, trials_of_patient = (
                _add_patient(base, session, number, tally),
                0,
            )
            if patient_url is None:
                return
        trials_of_patient += 1
        _pause(rng, think, deadline)
        form = tally.timed("form_page", session.get, f"{patient_url}/trials/new")
        if form is None:
            continue
        pain_without = rng.randint(0, 9)
        saved = tally.timed(
            "trial_save",
            session.post,
            f"{patient_url}/trials/new",
            data={
                "csrf_token": _token(form),
                "trial_date": today,
                "activity": rng.choice(["single_leg_squat", "stairs_down", "running"]),
                "intervention": rng.choice(["insole", "taping", "brace"]),
                "pain_without": str(pain_without),
                "pain_with": str(max(0, pain_without - rng.randint(-1, 3))),
            },
            expect=(302,),
        )
        if saved is None:
            continue
        trial_id = int(_SAVED_TRIAL.search(saved.headers["Location"]).group(1))
        with tally.lock:
            tally.saved_trials.add(trial_id)
        if rng.random() < 0.3:
            url = f"{base}/trials/{trial_id}/follow-ups/new"
            form = tally.timed("form_page", session.get, url)
            if form is None:
                continue
            recorded = tally.timed(
                "follow_up_save",
                session.post,
                url,
                data={
                    "csrf_token": _token(form),
                    "follow_up_date": today,
                    "pain": "2",
                    "still_using": "yes",
                    "global_rating": "moderately_improved",
                },
                expect=(302,),
            )
            if recorded is not None:
                with tally.lock:
                    tally.saved_follow_ups += 1


def reviewer(
    base: str, number: int, deadline: float, tally: Tally, think: float = 0.0
) -> None:
    """Reload the dashboard, downloading the export every third time.

    Each reviewer starts at another point of that cycle: five reviewers do not
    all ask for an export in the same second.
    """
    rng = random.Random(1000 + number)
    session = _log_in(base, f"load-reviewer-{number:02d}", tally)
    if session is None:
        return
    visits = 0
    while time.monotonic() < deadline:
        tally.timed("dashboard", session.get, base + DASHBOARD_URL)
        if visits % 3 == number % 3:
            tally.timed("export", session.get, base + EXPORT_URL, stream=True)
        visits += 1
        _pause(rng, think, deadline)


def run(
    base: str,
    therapists: int,
    reviewers: int,
    seconds: float,
    therapist_think: float = 0.0,
    reviewer_think: float = 0.0,
    warm_up: float = 0.0,
) -> Tally:
    """Run the clients for ``warm_up`` and then ``seconds``; return what they saw.

    Latencies in the warm-up (logins, each server process's first read of
    the dashboard's trials) are kept apart; its saves are checked like any.
    """
    start = time.monotonic()
    tally = Tally(measure_from=start + warm_up)
    deadline = start + warm_up + seconds
    with ThreadPoolExecutor(therapists + reviewers) as pool:
        jobs = [
            pool.submit(therapist, base, n, deadline, tally, therapist_think)
            for n in range(therapists)
        ]
        jobs += [
            pool.submit(reviewer, base, n, deadline, tally, reviewer_think)
            for n in range(reviewers)
        ]
        for job in jobs:
            job.result()
    return tally


def lost_writes(database_url: str, tally: Tally) -> dict[str, int]:
    """Saves the clients were told about that the database lacks.

    Follow-ups are counted on this run's trials only, which no earlier run
    can have touched.
    """
    queries = {
        "trials": "SELECT count(*) FROM trial WHERE id IN :ids",
        "trial_audit_rows": (
            "SELECT count(*) FROM audit_event WHERE table_name = 'trial' "
            "AND action = 'create' AND record_id IN :ids"
        ),
        "follow_ups": "SELECT count(*) FROM follow_up WHERE trial_id IN :ids",
        "follow_up_audit_rows": (
            "SELECT count(*) FROM audit_event a JOIN follow_up f "
            "ON a.table_name = 'follow_up' AND a.action = 'create' "
            "AND a.record_id = f.id WHERE f.trial_id IN :ids"
        ),
    }
    ids = sorted(tally.saved_trials)
    found = dict.fromkeys(queries, 0)
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            for name, query in queries.items():
                statement = sa.text(query).bindparams(
                    sa.bindparam("ids", expanding=True)
                )
                found[name] += connection.execute(
                    statement, {"ids": ids[start : start + 500]}
                ).scalar()
    engine.dispose()
    expected = {
        "trials": len(ids),
        "trial_audit_rows": len(ids),
        "follow_ups": tally.saved_follow_ups,
        "follow_up_audit_rows": tally.saved_follow_ups,
    }
    return {name: expected[name] - found[name] for name in queries}


def summary(latencies: dict[str, list[float]], seconds: float) -> dict:
    """Throughput and p50/p95/p99 latency (ms) per request type."""
    table = {}
    for kind, times in sorted(latencies.items()):
        ordered = sorted(times)
        cuts = (
            statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
        )
        table[kind] = {
            "requests": len(ordered),
            "per_second": round(len(ordered) / seconds, 1),
            "p50_ms": round(cuts[49] * 1000, 1),
            "p95_ms": round(cuts[94] * 1000, 1),
            "p99_ms": round(cuts[98] * 1000, 1),
        }
    return table


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
            f"bench.load:warmed_app({config!r})",
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


def scratch_database(trials: int) -> Iterator[str]:
    """A migrated scratch database holding ``trials`` trials (bulk-filled).

    SQLite in a temporary folder, or a scratch schema of the PostgreSQL
    database that DATABASE_URL names.
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
            settle(db.engine)
            db.engine.dispose()
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--base-url", help="a server already running")
    target.add_argument(
        "--trials",
        type=int,
        help="serve a scratch database of this many trials with gunicorn "
        "(PostgreSQL if DATABASE_URL is set, else SQLite)",
    )
    parser.add_argument("--database-url", help="the running server's database")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="per worker")
    parser.add_argument("--therapists", type=int, default=20)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--therapist-think",
        type=float,
        default=2.0,
        help="mean seconds a therapist pauses before each trial (0: none)",
    )
    parser.add_argument(
        "--reviewer-think",
        type=float,
        default=5.0,
        help="mean seconds a reviewer pauses between dashboard reloads",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=30,
        help="seconds of load before the measured seconds (reported apart)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.base_url and not args.database_url:
        parser.error("--base-url needs --database-url")
    if args.base_url:
        result = load(args.base_url, args.database_url, args)
    else:
        for url in scratch_database(args.trials):
            with served(url, args.workers, args.threads) as base:
                result = load(base, url, args)
    for title, key in (
        (f"warm-up, {args.warm_up:g} s", "warm_up_figures"),
        (f"measured, {args.seconds:g} s", "figures"),
    ):
        print(title)
        print(
            f"{'request':<15}{'n':>8}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}"
        )
        for kind, row in result[key].items():
            print(
                f"{kind:<15}{row['requests']:>8}{row['per_second']:>8}"
                f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
            )
    print(
        f"failed requests: {result['failed_requests']}; lost writes: {result['lost']}"
    )
    for failure in result["failures"]:
        print("  ", failure)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


def load(base: str, database_url: str, args) -> dict:
    """Run the mixed load against ``base``; figures, failures and lost writes."""
    prepare_accounts(database_url, args.therapists, args.reviewers)
    tally = run(
        base,
        args.therapists,
        args.reviewers,
        args.seconds,
        args.therapist_think,
        args.reviewer_think,
        args.warm_up,
    )
    return {
        "clients": {
            key: getattr(args, key)
            for key in (
                "therapists",
                "reviewers",
                "seconds",
                "therapist_think",
                "reviewer_think",
                "warm_up",
            )
        },
        "warm_up_figures": summary(tally.warm_up_latencies, args.warm_up),
        "figures": summary(tally.latencies, args.seconds),
        "failures": tally.failures[:20],
        "failed_requests": len(tally.failures),
        "lost": lost_writes(database_url, tally),
        "saved_trials": len(tally.saved_trials),
        "saved_follow_ups": tally.saved_follow_ups,
    }


if __name__ == "__main__":
    main()
