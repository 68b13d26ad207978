"""How long a therapist's save waits while a large import runs, on SQLite.

    python -m bench.import_wait --trials 100000

A scratch database is filled and exported to a trial file, then emptied; the
file is imported with ``flask --app tracker import-trials`` in another
process while this one saves a new patient through the app every 0.2 s. The
import writes all its rows in one transaction (every row or none), so a
save waits for it; this prints how long the import took, the longest and the
median wait of a save, and how many saves got the "busy, try again" page
(after ``DATABASE_BUSY_SECONDS``, 15 s by default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import export_import, writes


def measure(trials: int) -> dict:
    """The import's seconds and what the saves beside it waited."""
    with tempfile.TemporaryDirectory() as scratch:
        source = f"sqlite:///{Path(scratch) / 'source.sqlite'}"
        target = f"sqlite:///{Path(scratch) / 'target.sqlite'}"
        trial_file = str(Path(scratch) / "trials.csv")
        export_import.fill(source, trials)
        export_import.export(source, trial_file)
        export_import.empty_database(target)
        client = _signed_in(writes.bench_app(target))
        importing = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "tracker", "import-trials"]
            + [trial_file, "--user", "bench"],
            env=os.environ | {"DATABASE_URL": target},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = time.perf_counter()
        waits, busy, number = [], 0, 0
        while importing.poll() is None:
            number += 1
            before = time.perf_counter()
            response = client.post("/patients/new", data={"code": f"W-{number:05d}"})
            waits.append(time.perf_counter() - before)
            busy += response.status_code == 423
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        if importing.returncode != 0:
            raise RuntimeError(importing.stderr.read()[-2000:])
    return {
        "trials": trials,
        "import_seconds": seconds,
        "saves": len(waits),
        "longest_wait_seconds": max(waits),
        "median_wait_seconds": statistics.median(waits),
        "busy_pages": busy,
    }


def _signed_in(app):
    """A test client signed in as a therapist made for the run."""
    with app.app_context():
        writes.ensure_account("bench-therapist", "therapist")
    client = app.test_client()
    client.post(
        "/auth/login",
        data={"username": "bench-therapist", "password": writes.PASSWORD},
    )
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    figures = measure(parser.parse_args().trials)
    for name, value in figures.items():
        print(
            f"{name:<22}{value:.3g}"
            if isinstance(value, float)
            else f"{name:<22}{value}"
        )


if __name__ == "__main__":
    main()
