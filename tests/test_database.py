"""Storage: migrations, SQLite's safety settings, concurrent writers, backups."""

import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.helpers import PASSWORD
from tracker.extensions import db
from tracker.models import Patient, Trial

#: Where ``python -m bench.writes`` finds the bench package.
ROOT = Path(__file__).parents[1]


def start_writers(database_url, tmp_path, codes_and_counts):
    go_file = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.writes",
                database_url,
                code,
                str(count),
                str(go_file),
                PASSWORD,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for code, count in codes_and_counts
    ]
    return writers, go_file


def finish(writer):
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err[-2000:]
    return out


def test_migrated_database_matches_the_models(app):
    with (
        app.app_context(),
        db.engine.connect() as connection,
        warnings.catch_warnings(),
    ):
        # SQLite's reflection skips expression indexes; a test of its own
        # tries the one on lower(code) (test_patients.py).
        warnings.filterwarnings("ignore", ".*expression-based index")
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_init_db_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Database is up to date." in result.output


def test_database_refuses_scores_outside_the_scale(app, records):
    patient = records.patient()
    with app.app_context():
        db.session.add(
            Trial(
                patient_id=patient,
                trial_date=Trial.trial_date.type.python_type.today(),
                intervention="insole",
                activity="squat",
                pain_without=11,
                pain_with=2,
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert records.count(Trial) == 0


def test_sqlite_connections_are_safe_for_clinical_data(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite settings")
        with db.engine.connect() as connection:

            def pragma(name):
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("busy_timeout") == 15000  # DATABASE_BUSY_SECONDS
            assert pragma("foreign_keys") == 1
            assert pragma("recursive_triggers") == 1  # REPLACE fires guards


def test_two_processes_writing_at_once_lose_nothing(app, users, database_url, tmp_path):
    writers, go_file = start_writers(
        database_url, tmp_path, [("PF-A", 200), ("PF-B", 200)]
    )
    go_file.touch()
    for writer in writers:
        finish(writer)
    with app.app_context():
        per_patient = dict(
            db.session.execute(
                sa.select(Patient.code, sa.func.count(Trial.id))
                .join(Trial)
                .group_by(Patient.code)
            ).all()
        )
    assert per_patient == {"PF-A": 200, "PF-B": 200}


def test_backup_during_writes_is_whole_and_consistent(
    app, users, runner, database_url, tmp_path
):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's online backup (tests/test_backups.py has both)")
    (writer,), go_file = start_writers(database_url, tmp_path, [("PF-W", 300)])
    go_file.touch()
    # Wait until some trials are committed, so the backup runs mid-stream.
    for _ in range(50):
        writer.stdout.readline()
    with app.app_context():
        committed_before = db.session.scalar(sa.select(sa.func.count(Trial.id)))
        db.session.rollback()
    copy = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(copy)])
    finish(writer)
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    with sqlite3.connect(copy) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM trial ORDER BY id")]
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(ids) >= committed_before >= 50
    # A snapshot holds every row committed before it: no gaps.
    assert ids == list(range(1, len(ids) + 1))
    assert f"trial: {len(ids)} rows" in result.output


def test_backup_refuses_to_overwrite(runner, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite backup")
    target = tmp_path / "exists.sqlite"
    target.write_text("keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0
    assert target.read_text() == "keep me"
