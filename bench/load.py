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
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from math import ceil

import sqlalchemy as sa

from bench.load_checks import lost_writes, report_problems
from bench.load_clients import (
    PASSWORD,
    ReportLinkOut,
    Tally,
    patient,
    prepare_report_links,
    reviewer,
    therapist,
)
from bench.serving import scratch_database, served

TARGETS_MS = {
    "trial_save": 150,
    "dashboard": 1000,
    "report_page": 150,
    "report_submit": 150,
}


def prepare_accounts(database_url: str, therapists: int, reviewers: int) -> int:
    """Create the load-test accounts in the app's database, if missing.

    Each works at one site, dealt out in turn over the database's sites, so
    with several the site criteria apply to every request. Returns how many
    sites there are.
    """
    from tracker import create_app
    from tracker.auth.passwords import hash_password
    from tracker.extensions import db
    from tracker.models import Site, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    password_hash = hash_password(PASSWORD)
    names = [(f"load-therapist-{n:02d}", "therapist") for n in range(therapists)]
    names += [(f"load-reviewer-{n:02d}", "reviewer") for n in range(reviewers)]
    with app.app_context():
        existing = set(db.session.scalars(sa.select(User.username)))
        sites = db.session.scalars(sa.select(Site).order_by(Site.id)).all()
        for number, (username, role) in enumerate(names):
            if username not in existing:
                db.session.add(
                    User(
                        username=username,
                        role=role,
                        password_hash=password_hash,
                        sites=[sites[number % len(sites)]],
                    )
                )
        db.session.commit()
        db.engine.dispose()
    return len(sites)


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
    parser.add_argument(
        "--sites",
        type=int,
        default=3,
        help="sites the scratch database's patients and the accounts are "
        "dealt out over (each account works at one)",
    )
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
        for url in scratch_database(args.trials, args.sites):
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
    print(f"accounts dealt out over {result['sites']} sites, one each")
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
    sites = prepare_accounts(database_url, max(1, args.therapists), args.reviewers)
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
        "sites": sites,
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
