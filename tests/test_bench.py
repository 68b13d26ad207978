"""The bench filler and baseline work at a tiny size (correctness only, no timing)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import analysis
from bench import browser
from bench.dashboard import baseline_query
from bench.fill import fill
from tracker.extensions import db
from tracker.models import FollowUp, Patient, Trial
from tracker.reporting.filters import TrialFilters
from tracker.reporting.frames import trials_frame
from tracker.settings import clinic_settings


@pytest.fixture
def owner_engine(owner_database_url):
    """The filler connects as the tables' owner, as the benchmarks do: it
    moves the id sequences on (setval), which the app's role may not."""
    engine = sa.create_engine(owner_database_url)
    yield engine
    engine.dispose()


def test_fill_writes_trials_patients_and_follow_ups(owner_engine, records):
    filled = fill(owner_engine, 200, seed=3)
    assert (filled.trials, filled.patients) == (200, 100)
    assert records.count(Trial) == 200
    assert records.count(Patient) == 100
    assert records.count(FollowUp) == filled.follow_ups > 0
    # The app's own inserts still get fresh ids after the bulk insert.
    assert records.trial() == 201


def test_baseline_counts_match_the_analysis_per_trial(app, owner_engine):
    fill(owner_engine, 200, seed=3)
    with app.test_request_context():
        settings = clinic_settings()
        trials = trials_frame(TrialFilters(), settings)
        rows = db.session.execute(baseline_query(settings)).all()
    assert 0 < len(trials) < 200  # voided trials are left out
    rates = analysis.response_rates(trials, unit="trial").set_index("intervention")
    for aid, count, patients, assessable, relief, followed, benefit in rows:
        row = rates.loc[aid]
        assert (count, patients, assessable) == (
            row["trials"],
            row["patients"],
            row["assessable"],
        )
        assert relief == row["immediate_relief_count"]
        assert followed == row["long_term_benefit_n"]
        assert benefit == row["long_term_benefit_count"]


def test_the_benchmark_command_runs_at_a_tiny_size(tmp_path):
    """Correctness only: every benchmark runs and reports beside its baseline."""
    root = Path(__file__).parents[1]
    environment = os.environ.copy()
    environment.pop("DATABASE_URL", None)
    in_browser = []
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        environment["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
        # The chart pages in Chromium are the same on either database; the
        # SQLite run checks them.
        in_browser = ["--skip-browser"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--trials",
            "200",
            "--repeat",
            "1",
            "--saves",
            "10",
            "--json",
            str(tmp_path / "bench.json"),
            *in_browser,
        ],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = json.loads((tmp_path / "bench.json").read_text())
    databases = {"SQLite"} | (
        {"PostgreSQL"} if "DATABASE_URL" in environment else set()
    )
    assert {line["database"] for line in table} == databases
    for database in databases:
        benchmarks = {
            line["benchmark"]: line for line in table if line["database"] == database
        }
        names = [
            "dashboard summary",
            "report --json (whole command)",
            "patient page",
            "trials export",
            "trials import",
            "concurrent saves (4 processes)",
            "trials list, 1 site of 3",
            "dashboard first view, site criteria",
        ]
        if browser.available() and not in_browser:  # the chart pages in Chromium
            names += [
                f"browser: {page} {what}"
                for page in ("dashboard", "patient")
                for what in ("charts drawn", "first paint")
            ]
            assert benchmarks["browser: first paint, no charts"]["value"] > 0
        for name in names:
            assert benchmarks[name]["value"] > 0
            assert benchmarks[name]["baseline"] > 0
