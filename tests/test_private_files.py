"""The database and its backups: private files, and nothing half-written."""

import stat
import subprocess
from pathlib import Path

import pytest

from tracker import create_app
from tracker.extensions import db
from tracker.storage.schema import upgrade_database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite files")


@pytest.fixture
def small_disk(tmp_path):
    """A 32 KiB file system, too small for any backup; skipped without mount."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


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
