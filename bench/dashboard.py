"""How long the dashboard's summary takes, beside a raw SQL baseline on the same data.

    python bench/dashboard.py --trials 10000 100000 1000000

Each size gets a scratch SQLite database in a temporary folder (and, when
DATABASE_URL names a PostgreSQL database, a scratch schema in it), filled by
:func:`bench.fill.fill`. Reported per size: the summary behind /api/summary
(trials frame + analysis), its peak traced memory, the baseline (the same
per-aid counts as one GROUP BY in SQL, outcome follow-up chosen with a
window function) and, up to 100k trials, the dashboard page's server time
through the test client: on the first view (nothing read or computed yet, as
after the server starts), on the first view after one trial is corrected
(the kept trials frame brought up to date, the numbers computed again) and
unchanged (the computed page kept), with what the follow-up completeness
figures add to that first view (:func:`completeness_cost`). Times are the
median of --repeat runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fill import fill, settle  # noqa: E402
from tracker import audit, create_app, database_uri  # noqa: E402
from tracker.auth.passwords import hash_password  # noqa: E402
from tracker.dashboard.cache import ComputedCache  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import FollowUp, Patient, Trial, User  # noqa: E402
from tracker.settings import ClinicSettings  # noqa: E402
from tracker.sites.membership import default_sites
from tracker.storage.schema import upgrade_database  # noqa: E402
from tracker.storage.sql import days_between  # noqa: E402

PASSWORD = "bench password 1"
PAGE_LIMIT = 100_000
#: The most the completeness figures may add to the dashboard's first view.
COMPLETENESS_TARGET = 0.10
#: The small columns only the completeness figures read.
COMPLETENESS_COLUMNS = ("outcome_source", "lost")


def baseline_query(settings: ClinicSettings) -> sa.Select:
    """Per aid: trials, patients, assessable, relief, followed up, benefit, in SQL."""
    days = days_between(FollowUp.follow_up_date, Trial.trial_date)
    ranked = (
        sa.select(
            FollowUp.trial_id,
            FollowUp.global_rating,
            sa.func.row_number()
            .over(
                partition_by=FollowUp.trial_id,
                order_by=(
                    sa.func.abs(days - settings.follow_up_due_weeks * 7),
                    days,
                    FollowUp.id,
                ),
            )
            .label("rank"),
        )
        .join(Trial, Trial.id == FollowUp.trial_id)
        .where(
            FollowUp.voided_at.is_(None),
            days >= settings.follow_up_minimum_weeks * 7,
        )
        .subquery()
    )
    assessable = Trial.pain_without > 0
    relief = assessable & (Trial.pain_with < Trial.pain_without)
    followed = assessable & ranked.c.global_rating.is_not(None)
    benefit = assessable & (ranked.c.global_rating == "markedly_improved")

    def count_if(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    return (
        sa.select(
            Trial.intervention,
            sa.func.count(),
            sa.func.count(sa.distinct(Trial.patient_id)),
            count_if(assessable),
            count_if(relief),
            count_if(followed),
            count_if(benefit),
        )
        .join(Patient, Patient.id == Trial.patient_id)
        .outerjoin(ranked, (ranked.c.trial_id == Trial.id) & (ranked.c.rank == 1))
        .where(Trial.voided_at.is_(None), Patient.voided_at.is_(None))
        .group_by(Trial.intervention)
    )


def timed(function, repeat: int) -> tuple[float, object]:
    """The median wall time of ``repeat`` runs after a warm-up, and the last result."""
    result = function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_memory(function) -> int:
    """Peak bytes traced (Python and NumPy allocations) during one run."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def completeness_cost(
    filters, settings: ClinicSettings, repeat: int
) -> tuple[float, float]:
    """Seconds the completeness figures add to the dashboard's first view.

    Two parts: their computation on the page's checked frame (the counted
    trials chosen already, as the rates leave them), and reading their two
    small columns (the trials read with them less without them).
    """
    import analysis
    from tracker.reporting import frames
    from tracker.reporting.summary import completeness, completeness_in_words

    def read(query):
        columns = frames.read_columns(query)
        db.session.rollback()
        return columns

    checked = analysis.check_trials(
        frames.trials_frame(filters, settings), settings.benefit_definition
    )
    checked.counted(filters.unit, outcome_required=False)
    today = date.today()
    computed, _ = timed(
        lambda: completeness_in_words(
            completeness(checked, settings, filters.unit, today)
        ),
        repeat,
    )
    small_columns = frames._small_columns

    def without_them(detail):
        return [c for c in small_columns(detail) if c[0] not in COMPLETENESS_COLUMNS]

    queries = [frames.trials_query(filters, settings)]
    frames._small_columns = without_them
    try:
        queries.append(frames.trials_query(filters, settings))
    finally:
        frames._small_columns = small_columns
    # In pairs, so a machine growing busier slows both reads of a pair alike.
    differences = []
    for _ in range(max(2 * repeat + 1, 9)):
        paired = []
        for query in queries:
            start = time.perf_counter()
            read(query)
            paired.append(time.perf_counter() - start)
        differences.append(paired[0] - paired[1])
    # Timing noise can make the difference negative: it then adds nothing.
    return computed, max(statistics.median(differences), 0.0)


def measure(url: str, trials: int, repeat: int, seed: int) -> dict:
    """Fill a scratch database at ``url`` and time the summary, baseline and page."""

    from tracker.reporting.filters import TrialFilters
    from tracker.reporting.summary import summary

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade_database()
        start = time.perf_counter()
        filled = fill(db.engine, trials, seed)
        fill_seconds = time.perf_counter() - start
        settle(db.engine)
        db.session.add(
            User(
                username="bench-reviewer",
                role="reviewer",
                password_hash=hash_password(PASSWORD),
                sites=default_sites(),
            )
        )
        db.session.commit()

    with app.test_request_context():
        from tracker.storage import database

        database.write_intent.set(False)
        filters = TrialFilters()
        settings = ClinicSettings.from_config(app.config)

        def run_summary():
            result = summary(filters, settings)
            db.session.rollback()
            return result

        def run_baseline():
            rows = db.session.execute(baseline_query(settings)).all()
            db.session.rollback()
            return rows

        summary_seconds, result = timed(run_summary, repeat)
        baseline_seconds, rows = timed(run_baseline, repeat)
        summary_peak = peak_memory(run_summary)
    overall = result.to_dict()["overall"]
    baseline_trials = sum(row[1] for row in rows)
    if overall["trials"] != baseline_trials:
        raise SystemExit(
            f"summary counts {overall['trials']} trials, baseline {baseline_trials}"
        )

    page_seconds = changed_seconds = warm_seconds = None
    completeness_seconds = completeness_read = None
    if trials <= PAGE_LIMIT:
        client = app.test_client()
        client.post(
            "/auth/login", data={"username": "bench-reviewer", "password": PASSWORD}
        )

        def get_page():
            response = client.get("/dashboard/")
            if response.status_code != 200:
                raise SystemExit(f"dashboard answered {response.status_code}")
            return response

        def get_page_first():
            # The first view after the server starts: nothing read or computed.
            app.extensions.pop("kept_frames", None)
            app.extensions.get("dashboard_cache", ComputedCache()).clear()
            return get_page()

        def get_page_after_change():
            # The first view after a therapist corrects one trial.
            with app.app_context():
                trial = db.session.scalars(sa.select(Trial).limit(1)).one()
                trial.pain_with = (trial.pain_with + 1) % 11
                audit.give_reason("benchmark: a corrected score")
                db.session.commit()
            return get_page()

        page_seconds, _ = timed(get_page_first, repeat)
        changed_seconds, _ = timed(get_page_after_change, repeat)
        warm_seconds, _ = timed(get_page, repeat)
        with app.test_request_context():
            computed, completeness_read = completeness_cost(filters, settings, repeat)
        completeness_seconds = computed + completeness_read
    with app.app_context():
        db.engine.dispose()
    return {
        "trials": trials,
        "counted": overall["trials"],
        "follow_ups": filled.follow_ups,
        "fill": fill_seconds,
        "summary": summary_seconds,
        "summary_peak_mb": summary_peak / 2**20,
        "baseline": baseline_seconds,
        "page": page_seconds,
        "page_changed": changed_seconds,
        "page_warm": warm_seconds,
        "completeness": completeness_seconds,
        "completeness_read": completeness_read,
    }


def sqlite_databases(trials: int):
    """A scratch SQLite file per size, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as folder:
        yield f"sqlite:///{Path(folder) / f'bench-{trials}.sqlite'}"


def postgresql_databases(url: str, trials: int):
    """A scratch schema per size in the PostgreSQL database, dropped afterwards."""
    schema = f"bench_{trials}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            sa.make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def report(database: str, figures: dict) -> str:
    """One Markdown table row."""
    page, changed, warm = (
        "—" if figures[key] is None else f"{figures[key] * 1000:.0f} ms"
        for key in ("page", "page_changed", "page_warm")
    )
    ratio = figures["summary"] / figures["baseline"]
    completeness = (
        "—"
        if figures["completeness"] is None
        else f"{figures['completeness'] * 1000:.0f} ms "
        f"({figures['completeness'] / figures['page']:.1%})"
    )
    return (
        f"| {database} | {figures['trials']:,} | {figures['summary']:.2f} s | "
        f"{figures['summary_peak_mb']:.0f} MB | {figures['baseline']:.2f} s | "
        f"{ratio:.1f}× | {page} | {changed} | {warm} | {completeness} | "
        f"{figures['fill']:.1f} s |"
    )


def main() -> None:
    """Run the benchmark for each size on SQLite, and PostgreSQL if configured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trials", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    targets = [("SQLite", sqlite_databases)]
    if os.environ.get("DATABASE_URL"):
        server = database_uri(os.environ["DATABASE_URL"])
        targets.append(("PostgreSQL", lambda n: postgresql_databases(server, n)))
    print(
        "| Database | Trials | Summary | Summary peak memory | SQL baseline "
        "| Summary ÷ baseline | Dashboard page: first view | after a change "
        "| unchanged | Completeness (share of first view, target "
        f"{COMPLETENESS_TARGET:.0%}) | Fill |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, databases in targets:
        for trials in args.trials:
            for url in databases(trials):
                figures = measure(url, trials, args.repeat, args.seed)
                print(report(name, figures), flush=True)


if __name__ == "__main__":
    main()
