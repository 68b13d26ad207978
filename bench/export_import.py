"""Time the trials export and import against plain baselines, in the same run.

    python -m bench.export_import                       # 100k and 1M, SQLite
    python -m bench.export_import --sizes 100000 --postgres \\
        postgresql+psycopg://postgres@127.0.0.1:5432/bench

For each size a scratch database is filled in bulk (not through the app, so
nothing is audited), then, each step in a fresh process so that peak memory
belongs to that step alone:

- export baseline: ``csv.writer`` over a plain DB-API cursor running the
  export's own SELECT; export: ``csvio.trials_export`` (full level) written to
  a file, with the process's resident memory when idle (app created, database
  connected) and at its peak;
- import baseline: the export's file parsed with ``csv.reader`` and inserted
  with ``executemany`` (no validation, no audit); import: ``csvio.import_trials``
  into an empty database (every row through the forms, every record audited),
  with the peak memory of the importing process and of the forked child
  that checked the rows.

Results are printed and written to ``bench/results/export_import.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BATCH = 20_000


def rss_mb() -> float:
    """This process's resident memory now."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far.

    Not ``getrusage``: its ``ru_maxrss`` keeps the high-water mark of the
    process that forked this one (a large ``python -m bench`` run), across
    the exec; ``VmHWM`` starts afresh with the new program.
    """
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def make_app(url: str):
    from tracker import create_app

    return create_app(
        {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "TESTING": False}
    )


def empty_database(url: str) -> None:
    """Migrate a scratch database and add the account imports run under."""
    from tracker.extensions import db
    from tracker.models import User
    from tracker.storage.schema import upgrade_database

    with make_app(url).app_context():
        upgrade_database()
        db.session.add(User(username="bench", role="admin", password_hash="x"))
        db.session.commit()


def fill(url: str, trials: int) -> None:
    """Bulk-insert ``trials`` trials (two per patient) and ~70% follow-ups."""
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.models import FollowUp, Patient, Trial

    empty_database(url)
    rng = random.Random(1)
    today = date.today()
    products = ["full-length insole, medial wedge", "Orthèse 3/4", "=calc", ""]
    activities = ["single_leg_squat", "stairs_down", "running", "squat", "walking"]
    with make_app(url).app_context():
        patients = (trials + 1) // 2
        with db.engine.begin() as connection:
            for start in range(0, patients, BATCH):
                connection.execute(
                    sa.insert(Patient),
                    [
                        {
                            "code": f"PF-{number:07d}",
                            "birth_year": 1950 + number % 55,
                            "sex": ("female", "male", None)[number % 3],
                            "affected_side": ("left", "right", "both")[number % 3],
                            "notes": "",
                            "recorded_by_id": 1,
                        }
                        for number in range(start, min(start + BATCH, patients))
                    ],
                )
        trial_id = 0
        with db.engine.begin() as connection:
            for start in range(0, trials, BATCH):
                rows, follow_ups = [], []
                for number in range(start, min(start + BATCH, trials)):
                    trial_id += 1
                    day = today - timedelta(days=rng.randint(100, 3000))
                    pain_without = rng.randint(0, 9)
                    rows.append(
                        {
                            "id": trial_id,
                            "patient_id": number // 2 + 1,
                            "trial_date": day,
                            "intervention": ("insole", "taping", "brace")[number % 3],
                            "product": rng.choice(products),
                            "activity": rng.choice(activities),
                            "activity_other": "",
                            "pain_without": pain_without,
                            "pain_with": max(0, pain_without - rng.randint(-1, 4)),
                            "notes": "" if number % 7 else 'said "better", later',
                            "recorded_by_id": 1,
                        }
                    )
                    if rng.random() < 0.7:
                        follow_ups.append(
                            {
                                "trial_id": trial_id,
                                "follow_up_date": day
                                + timedelta(weeks=rng.choice([2, 12, 12, 13])),
                                "pain": rng.randint(0, 8),
                                "still_using": rng.random() < 0.5,
                                "global_rating": rng.choice(
                                    ["same", "moderately_improved", "markedly_improved"]
                                ),
                                "recorded_by_id": 1,
                            }
                        )
                connection.execute(sa.insert(Trial), rows)
                if follow_ups:
                    connection.execute(sa.insert(FollowUp), follow_ups)


def export(url: str, out: str) -> dict:
    """The app's export to a file: time, rows, idle and peak memory."""
    from tracker.extensions import db

    app = make_app(url)
    with app.test_request_context():
        from tracker import csvio
        from tracker.reporting.filters import TrialFilters
        from tracker.settings import clinic_settings

        db.session.execute(db.select(1))
        settings = clinic_settings()
        db.session.rollback()
        idle = rss_mb()
        start = time.perf_counter()
        filters = TrialFilters()
        the_export = csvio.trials_export(filters, settings)
        with open(out, "w", encoding="utf-8", newline="") as stream:
            the_export.write_to(stream)
        seconds = time.perf_counter() - start
        db.session.rollback()
    return {
        "rows": the_export.count,
        "seconds": seconds,
        "idle_mb": idle,
        "peak_mb": peak_rss_mb(),
    }


def export_baseline(url: str, out: str) -> dict:
    """``csv.writer`` over a plain DB-API cursor running the export's SELECT."""
    from tracker.extensions import db

    app = make_app(url)
    with app.test_request_context():
        from tracker import csvio
        from tracker.reporting.filters import TrialFilters

        query = csvio.trials_query(TrialFilters())
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        raw = db.engine.raw_connection()
        start = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            cursor = raw.cursor(name="baseline")  # server-side, as the export's
            cursor.itersize = 1000
        else:
            cursor = raw.cursor()
        cursor.execute(sql)
        rows = 0
        with open(out, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            while batch := cursor.fetchmany(1000):
                writer.writerows(batch)
                rows += len(batch)
        seconds = time.perf_counter() - start
        raw.close()
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_rss_mb()}


def import_file(url: str, path: str) -> dict:
    """The app's import: every row through the forms, every record audited."""
    import sqlalchemy as sa

    from tracker import csvio
    from tracker.extensions import db
    from tracker.models import User

    empty_database(url)
    with make_app(url).app_context():
        user = db.session.scalar(sa.select(User))
        start = time.perf_counter()
        with open(path, "rb") as stream:
            report = csvio.import_trials(stream, Path(path).name, user)
        seconds = time.perf_counter() - start
    assert report.written, [str(p) for p in report.problems[:5]]
    return {
        "rows": report.rows,
        "accepted": report.accepted,
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        # The forked child that checked the rows: resident pages, those it
        # still shares with this process included, so an upper bound.
        "checking_child_peak_mb": (
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ),
    }


def import_baseline(url: str, path: str) -> dict:
    """The same file parsed by ``csv.reader`` and inserted with ``executemany``."""
    from tracker.extensions import db

    empty_database(url)
    with make_app(url).app_context():
        raw = db.engine.raw_connection()
        mark = "%s" if db.engine.dialect.name == "postgresql" else "?"
        cursor = raw.cursor()
        start = time.perf_counter()
        if mark == "?":
            # The app's SQLite connections leave transactions to the caller.
            cursor.execute("BEGIN IMMEDIATE")
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            patients: dict[str, int] = {}
            trials, follow_ups = [], []
            for row in reader:
                code = row["patient_code"]
                if code not in patients:
                    patients[code] = len(patients) + 1
                trial_id = len(trials) + 1
                trials.append(
                    (
                        trial_id,
                        patients[code],
                        row["trial_date"],
                        row["intervention"],
                        row["product"],
                        row["activity"],
                        row["activity_other"],
                        int(row["pain_without"]),
                        int(row["pain_with"]),
                        row["notes"],
                    )
                )
                if row["followup_date"]:
                    follow_ups.append(
                        (
                            trial_id,
                            row["followup_date"],
                            int(row["followup_pain"]),
                            row["still_using"] == "yes",
                            row["followup_rating"],
                        )
                    )
        marks = lambda n: ", ".join([mark] * n)  # noqa: E731
        cursor.executemany(
            f"INSERT INTO patient (id, code, notes, created_at) VALUES ({marks(4)})",
            [(i, code, "", "2024-01-01") for code, i in patients.items()],
        )
        cursor.executemany(
            "INSERT INTO trial (id, patient_id, trial_date, intervention, product, "
            "activity, activity_other, pain_without, pain_with, notes, created_at) "
            f"VALUES ({marks(11)})",
            [(*trial, "2024-01-01") for trial in trials],
        )
        cursor.executemany(
            "INSERT INTO follow_up (trial_id, follow_up_date, pain, still_using, "
            f"global_rating, created_at) VALUES ({marks(6)})",
            [(*follow_up, "2024-01-01") for follow_up in follow_ups],
        )
        raw.commit()
        seconds = time.perf_counter() - start
        raw.close()
    return {"rows": len(trials), "seconds": seconds, "peak_mb": peak_rss_mb()}


STEPS = {
    "fill": fill,
    "export": export,
    "export-baseline": export_baseline,
    "import": import_file,
    "import-baseline": import_baseline,
}


def step(name: str, *args) -> dict | None:
    """Run one step in a fresh Python process; its JSON result."""
    command = [sys.executable, "-m", "bench.export_import", "--step", name, *args]
    root = Path(__file__).parents[1]
    done = subprocess.run(command, capture_output=True, text=True, cwd=root)
    if done.returncode:
        sys.exit(f"step {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Scratch:
    """Scratch databases: SQLite files, or schemas of a PostgreSQL database."""

    def __init__(self, folder: Path, postgres: str | None):
        self.folder, self.postgres, self.schemas = folder, postgres, []

    def url(self, name: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.folder / name}.sqlite"
        import sqlalchemy as sa

        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(self.postgres)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
        self.schemas.append(schema)
        return (
            sa.make_url(self.postgres)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )

    def drop(self) -> None:
        if not self.schemas:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.postgres)
        with engine.begin() as connection:
            for schema in self.schemas:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def run(sizes: list[int], postgres: str | None) -> list[dict]:
    """Every step for every size; a result row per size."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        folder = Path(tmp)
        for size in sizes:
            scratch = Scratch(folder, postgres)
            try:
                source = scratch.url(f"source{size}")
                started = time.perf_counter()
                step("fill", source, str(size))
                filled = time.perf_counter() - started
                out, base_out = folder / f"export{size}.csv", folder / "baseline.csv"
                baseline = step("export-baseline", source, str(base_out))
                exported = step("export", source, str(out))
                base_url = scratch.url(f"baseline{size}")
                imported_base = step("import-baseline", base_url, str(out))
                imported = step("import", scratch.url(f"import{size}"), str(out))
            finally:
                scratch.drop()
            result = {
                "trials": size,
                "database": "postgresql" if postgres else "sqlite",
                "fill_seconds": round(filled, 1),
                "export_baseline": baseline,
                "export": exported,
                "export_rows_per_second": round(exported["rows"] / exported["seconds"]),
                "export_vs_baseline": round(
                    exported["seconds"] / baseline["seconds"], 2
                ),
                "export_memory_over_idle_mb": round(
                    exported["peak_mb"] - exported["idle_mb"], 1
                ),
                "import_baseline": imported_base,
                "import": imported,
                "import_rows_per_second": round(imported["rows"] / imported["seconds"]),
                "import_vs_baseline": round(
                    imported["seconds"] / imported_base["seconds"], 1
                ),
            }
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--postgres", help="a PostgreSQL URL whose schemas to use")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step:
        args = [int(a) if a.isdigit() else a for a in options.args]
        print(json.dumps(STEPS[options.step](*args)))
        return
    results = run(options.sizes, options.postgres)
    RESULTS.mkdir(exist_ok=True)
    name = "export_import" + ("_postgresql" if options.postgres else "") + ".json"
    (RESULTS / name).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
