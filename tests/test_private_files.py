"""The database and its backups: private files, and nothing half-written."""

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.test_imports import HEADER
from tracker import create_app
from tracker.extensions import db
from tracker.models import AuditEvent, Patient, User
from tracker.sites.membership import default_sites
from tracker.storage.schema import upgrade_database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite files")


def test_a_new_database_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "clinic.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade_database()
        db.engine.dispose()
    assert mode(path) == 0o600


def test_a_backup_is_readable_by_its_owner_only(runner, sqlite_only, tmp_path):
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600


def test_a_backup_onto_a_full_disk_says_so_and_leaves_nothing(
    runner, sqlite_only, small_disk, records
):
    for _ in range(20):
        records.trial(notes="x" * 1500)
    target = small_disk / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "The backup could not be written" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    )
    assert list(small_disk.iterdir()) == []  # no copy, no half-written file


@pytest.mark.parametrize("small_disk", [1024], indirect=True)
def test_an_import_onto_a_full_disk_says_so_writes_nothing_and_is_audited(
    small_disk, tmp_path
):
    app = create_app(
        {
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{small_disk / 'tracker.sqlite'}",
        }
    )
    with app.app_context():
        upgrade_database()
        db.session.add(
            User(
                username="therapist",
                role="therapist",
                password_hash="x",
                sites=default_sites(),
            )
        )
        db.session.commit()
    rows = [f"PF-{n:05d},2025-01-06,insole,single_leg_squat,6,3" for n in range(20_000)]
    trial_file = tmp_path / "trials.csv"
    trial_file.write_text(HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    result = app.test_cli_runner().invoke(
        args=["import-trials", str(trial_file), "--user", "therapist"]
    )
    assert result.exit_code == 1
    assert "The database is full" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Patient.id))) == 0
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "import")
        )
        assert event.changes["written"] is False
        db.engine.dispose()


def test_an_upload_onto_a_full_disk_is_refused_next_to_the_field(
    app, auth, client, small_disk
):
    from tests.test_upload import upload

    app.config["IMPORT_FOLDER"] = str(small_disk)
    auth.login()
    rows = [f"PF-{n:05d},2025-01-06,insole,single_leg_squat,6,3" for n in range(2000)]
    response = upload(client, HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    assert response.status_code == 507
    assert "The server&#39;s disk is full" in response.text
    assert list(small_disk.iterdir()) == []
