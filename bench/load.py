"""A mixed load through the real forms: therapists record, reviewers read.

Therapists log in and record trials and follow-ups through the same forms a
browser uses (CSRF tokens included) while reviewers reload the dashboard and
download the trials export, and patients, with no login, report their
follow-ups through the links printed on their result sheets. Every save a
client is told about (a redirect to the saved record, or to the patient's
thank-you page) is checked against the database afterwards, with its audit
row: zero lost writes and zero double reports are the requirement, latency
the measurement.

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
from datetime import UTC, date, datetime
from math import ceil
from urllib.parse import urljoin, urlsplit

import requests
import sqlalchemy as sa

from analysis.rule import GLOBAL_RATINGS

PASSWORD = "load test password 2026"
DASHBOARD_URL = "/dashboard/"
EXPORT_URL = "/exports/trials.csv"
REPORT_PATH = "/r/"
THANKS_PATH = "/r/thanks"
#: The p95 each request type must stay under (ms), where there is a target.
TARGETS_MS = {
    "trial_save": 150,
    "dashboard": 1000,
    "report_page": 150,
    "report_submit": 150,
}
#: Who the audit trail names for a patient's report (tracker.audit.SELF_REPORT).
SELF_REPORT = "patient (self-report)"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_SAVED_TRIAL = re.compile(r"/trials/(\d+)")
_SHEET_URL = re.compile(r'id="sheet-url">([^<]+)<')
_LINK_TOKEN = re.compile(rf"({REPORT_PATH})\d+-[\w-]+")


@dataclass(frozen=True)
class ReportLinkOut:
    """A report link printed on a trial's sheet: the trial, the link's path."""

    trial_id: int
    path: str

    @property
    def link_id(self) -> int:
        """The link's id, the token's first part."""
        return int(self.path.removeprefix(REPORT_PATH).split("-", 1)[0])


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
    #: The links whose report the patient was thanked for.
    reported: list[ReportLinkOut] = field(default_factory=list)
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
        # As in the servers' logs, a report link's token is not printed.
        message = _LINK_TOKEN.sub(r"\1[token hidden]", message)
        with self.lock:
            self.failures.append(message)


def prepare_accounts(database_url: str, therapists: int, reviewers: int) -> None:
    """Create the load-test accounts in the app's database, if missing."""
    from tracker import create_app
    from tracker.auth.passwords import hash_password
    from tracker.extensions import db
    from tracker.models import User
    from tracker.sites.membership import default_sites

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    password_hash = hash_password(PASSWORD)
    names = [(f"load-therapist-{n:02d}", "therapist") for n in range(therapists)]
    names += [(f"load-reviewer-{n:02d}", "reviewer") for n in range(reviewers)]
    with app.app_context():
        existing = set(db.session.scalars(sa.select(User.username)))
        for username, role in names:
            if username not in existing:
                db.session.add(
                    User(
                        username=username,
                        role=role,
                        password_hash=password_hash,
                        sites=default_sites(),
                    )
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


def _record_trial(session, patient_url, rng, tally) -> int | None:
    """Record a trial of today through the form; the saved trial's id."""
    form = tally.timed("form_page", session.get, f"{patient_url}/trials/new")
    if form is None:
        return None
    pain_without = rng.randint(0, 9)
    saved = tally.timed(
        "trial_save",
        session.post,
        f"{patient_url}/trials/new",
        data={
            "csrf_token": _token(form),
            "trial_date": date.today().isoformat(),
            "activity": rng.choice(["single_leg_squat", "stairs_down", "running"]),
            "intervention": rng.choice(["insole", "taping", "brace"]),
            "pain_without": str(pain_without),
            "pain_with": str(max(0, pain_without - rng.randint(-1, 3))),
        },
        expect=(302,),
    )
    if saved is None:
        return None
    return int(_SAVED_TRIAL.search(saved.headers["Location"]).group(1))


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
        trial_id = _record_trial(session, patient_url, rng, tally)
        if trial_id is None:
            continue
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


#: How often a sheet that answers "busy" is asked for again, and the first pause
#: (doubled each time, with jitter, so two therapists do not collide again).
SHEET_TRIES, SHEET_RETRY_SECONDS = 10, 0.05


@dataclass(frozen=True)
class ReportLinks:
    """The report links made before the load, and what making them took."""

    links: list[ReportLinkOut]
    #: Sheets answered 423 "Busy, try again" and asked for again: on SQLite
    #: the sheet makes its link in a transaction begun for reading, which
    #: SQLite refuses to turn into a write once another worker has written.
    busy: int
    seconds: float


def _printed_link(
    base, session, trial_id, rng, tally
) -> tuple[ReportLinkOut | None, int]:
    """The link on the trial's sheet, asking again while it is busy; and how often."""
    url = f"{base}/trials/{trial_id}/sheet"
    for busy in range(SHEET_TRIES):
        sheet = tally.timed("sheet", session.get, url, expect=(200, 423))
        if sheet is None:
            return None, busy
        if sheet.status_code == 423:
            time.sleep(SHEET_RETRY_SECONDS * 2**busy * rng.uniform(0.5, 1.5))
            continue
        printed = _SHEET_URL.search(sheet.text)
        if printed is None:
            tally.fail(f"sheet of trial {trial_id}: no report link printed")
            return None, busy
        token = printed[1].rsplit(REPORT_PATH, 1)[1]
        return ReportLinkOut(trial_id, REPORT_PATH + token), busy
    tally.fail(f"sheet of trial {trial_id}: busy {SHEET_TRIES} times")
    return None, SHEET_TRIES


def prepare_report_links(base: str, count: int, therapists: int) -> ReportLinks:
    """``count`` trials of today, recorded through the form, each with its link.

    Each link is read from its trial's sheet (``GET /trials/<id>/sheet``), as
    the therapist prints it, before the load starts; by the first of the
    ``therapists`` load accounts, two at most at once (more only collide
    more often on SQLite's write lock, see :attr:`ReportLinks.busy`).
    """
    started = time.perf_counter()
    tally = Tally()
    accounts = max(1, min(2, therapists, count))

    def make(number: int, links: int) -> tuple[list[ReportLinkOut], int]:
        rng = random.Random(3000 + number)
        session = (
            _log_in(base, f"load-therapist-{number:02d}", tally) if links else None
        )
        made, busy = [], 0
        for index in range(links if session else 0):
            if index % 3 == 0:
                patient_url = _add_patient(base, session, number, tally)
                if patient_url is None:
                    break
            trial_id = _record_trial(session, patient_url, rng, tally)
            if trial_id is None:
                break
            link, tries = _printed_link(base, session, trial_id, rng, tally)
            busy += tries
            if link is None:
                break
            made.append(link)
        return made, busy

    shares = [count // accounts + (n < count % accounts) for n in range(accounts)]
    with ThreadPoolExecutor(accounts) as pool:
        made = list(pool.map(make, range(accounts), shares))
    if tally.failures:
        raise RuntimeError(f"report links not made: {tally.failures[:5]}")
    return ReportLinks(
        [link for links, _ in made for link in links],
        sum(busy for _, busy in made),
        round(time.perf_counter() - started, 1),
    )


def patient(
    base: str,
    number: int,
    links: list[ReportLinkOut],
    deadline: float,
    tally: Tally,
    think: float = 0.0,
) -> None:
    """Report follow-ups through ``links`` until the deadline or the last link.

    No login: the link page, its form sent with the page's CSRF token, then
    the thank-you page the answer redirects to. ``think`` is the mean pause
    in seconds before each report.
    """
    rng = random.Random(2000 + number)
    session = requests.Session()
    for link in links:
        if time.monotonic() >= deadline:
            return
        _pause(rng, think, deadline)
        url = base + link.path
        page = tally.timed("report_page", session.get, url)
        if page is None:
            continue
        sent = tally.timed(
            "report_submit",
            session.post,
            url,
            data={
                "csrf_token": _token(page),
                "pain": str(rng.randint(0, 10)),
                "still_using": rng.choice(["yes", "no"]),
                "global_rating": rng.choice(GLOBAL_RATINGS),
            },
            expect=(302,),
        )
        if sent is None:
            continue
        thanks = urljoin(url, sent.headers["Location"])
        if urlsplit(thanks).path != THANKS_PATH:
            tally.fail(f"report_submit: redirected to {urlsplit(thanks).path}")
            continue
        with tally.lock:
            tally.reported.append(link)
        tally.timed("report_thanks", session.get, thanks)


def run(
    base: str,
    therapists: int,
    reviewers: int,
    seconds: float,
    therapist_think: float = 0.0,
    reviewer_think: float = 0.0,
    warm_up: float = 0.0,
    report_links: list[list[ReportLinkOut]] = (),
    patient_think: float = 0.0,
) -> Tally:
    """Run the clients for ``warm_up`` and then ``seconds``; return what they saw.

    One patient client per list of ``report_links`` reports through its links.
    Latencies in the warm-up (logins, each server process's first read of
    the dashboard's trials) are kept apart; its saves are checked like any.
    """
    start = time.monotonic()
    tally = Tally(measure_from=start + warm_up)
    deadline = start + warm_up + seconds
    with ThreadPoolExecutor(therapists + reviewers + len(report_links)) as pool:
        jobs = [
            pool.submit(therapist, base, n, deadline, tally, therapist_think)
            for n in range(therapists)
        ]
        jobs += [
            pool.submit(reviewer, base, n, deadline, tally, reviewer_think)
            for n in range(reviewers)
        ]
        jobs += [
            pool.submit(patient, base, n, links, deadline, tally, patient_think)
            for n, links in enumerate(report_links)
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


def report_problems(
    database_url: str, links: list[ReportLinkOut], tally: Tally, since: datetime
) -> dict[str, int]:
    """What the database holds against what the patients were told; zeros are right.

    - ``lost``: reports a patient was thanked for, with no patient's
      follow-up on the trial;
    - ``doubles``: patient's follow-ups beyond one on a trial of ``links``;
    - ``links_not_spent``: thanked-for links not marked used with their own
      follow-up, audited as the patient's;
    - ``spent_unthanked``: links used whose patient was never thanked (the
      answer failed or came too late);
    - ``refusals``: refused link requests the throttle counted since ``since``.
    """
    query = sa.text(
        "SELECT r.id, r.used_at IS NOT NULL, "
        "(SELECT count(*) FROM follow_up f WHERE f.trial_id = r.trial_id "
        "AND f.source = 'patient'), "
        "(SELECT count(*) FROM follow_up f JOIN audit_event a "
        "ON a.table_name = 'follow_up' AND a.action = 'create' "
        "AND a.record_id = f.id AND a.username = :self_report "
        "WHERE f.id = r.follow_up_id AND f.trial_id = r.trial_id "
        "AND f.source = 'patient') "
        "FROM report_link r WHERE r.id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    thanked = {link.link_id for link in tally.reported}
    problems = dict.fromkeys(
        ("lost", "doubles", "links_not_spent", "spent_unthanked", "refusals"), 0
    )
    ids = sorted(link.link_id for link in links)
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                query, {"ids": ids[start : start + 500], "self_report": SELF_REPORT}
            )
            for link_id, used, reports, recorded in rows:
                problems["doubles"] += max(0, reports - 1)
                if link_id in thanked:
                    problems["lost"] += reports == 0
                    problems["links_not_spent"] += not (used and recorded == 1)
                else:
                    problems["spent_unthanked"] += bool(used)
        refusals = sa.text(
            "SELECT count(*) FROM report_link_refusal WHERE at >= :since"
        ).bindparams(sa.bindparam("since", type_=sa.DateTime(timezone=True)))
        problems["refusals"] = connection.execute(refusals, {"since": since}).scalar()
    engine.dispose()
    return problems


def links_per_patient(seconds: float, think: float) -> int:
    """Enough links for a patient pausing ``think`` s on average to last ``seconds``."""
    if think <= 0:
        raise ValueError("without a pause, give the number of links")
    return ceil(seconds / think * 1.25) + 1


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
    parser.add_argument(
        "--patients",
        type=int,
        default=10,
        help="patients reporting follow-ups by link, with no login",
    )
    parser.add_argument(
        "--patient-think",
        type=float,
        default=3.0,
        help="mean seconds a patient client pauses before each report",
    )
    parser.add_argument(
        "--report-links",
        type=int,
        help="links made per patient client (default: enough for the run)",
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
            f"{'p99 ms':>9}  p95 target"
        )
        for kind, row in result[key].items():
            target = TARGETS_MS.get(kind) if key == "figures" else None
            verdict = ""
            if target is not None:
                met = "met" if row["p95_ms"] < target else "MISSED"
                verdict = f"  under {target} ms: {met}"
            print(
                f"{kind:<15}{row['requests']:>8}{row['per_second']:>8}"
                f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}{verdict}"
            )
    reports = result["reports"]
    print(
        f"failed requests: {result['failed_requests']}; lost writes: {result['lost']}"
    )
    print(
        f"patients' reports: {reports['links']} links made before the load in "
        f"{reports['prepare_seconds']} s (sheets answered 'busy' and asked again: "
        f"{reports['sheets_busy']}); {reports['thanked']} reports thanked for; "
        f"{reports['problems']}"
    )
    for failure in result["failures"]:
        print("  ", failure)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


def load(base: str, database_url: str, args) -> dict:
    """Run the mixed load against ``base``; figures, failures and lost writes."""
    prepare_accounts(database_url, max(1, args.therapists), args.reviewers)
    per_patient = args.report_links or links_per_patient(
        args.warm_up + args.seconds, args.patient_think
    )
    since = datetime.now(UTC)
    prepared = prepare_report_links(
        base, args.patients * per_patient, max(1, args.therapists)
    )
    links = prepared.links
    tally = run(
        base,
        args.therapists,
        args.reviewers,
        args.seconds,
        args.therapist_think,
        args.reviewer_think,
        args.warm_up,
        [links[n :: args.patients] for n in range(args.patients)],
        args.patient_think,
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
                "patients",
                "patient_think",
            )
        },
        "targets_ms": TARGETS_MS,
        "warm_up_figures": summary(tally.warm_up_latencies, args.warm_up),
        "figures": summary(tally.latencies, args.seconds),
        "failures": tally.failures[:20],
        "failed_requests": len(tally.failures),
        "lost": lost_writes(database_url, tally),
        "saved_trials": len(tally.saved_trials),
        "saved_follow_ups": tally.saved_follow_ups,
        "reports": {
            "links": len(links),
            "prepare_seconds": prepared.seconds,
            "sheets_busy": prepared.busy,
            "thanked": len(tally.reported),
            "problems": report_problems(database_url, links, tally, since),
        },
    }


if __name__ == "__main__":
    main()
