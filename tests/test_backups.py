"""Encrypted backups and a restore that checks what it put back, on both databases."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker import create_app
from tracker.extensions import db
from tracker.storage.backups import pyrage

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def owner_app(owner_database_url):
    """The app as the owner of the tables, who backs up and restores."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": owner_database_url,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def filled(app, users, records):
    """Two patients, three trials, a follow-up, and their audit trail."""
    for _ in range(2):
        trial = records.trial(records.patient())
    records.trial()
    records.follow_up(trial)
    with app.app_context():
        db.engine.dispose()  # as a stopped app leaves it


def everything(app) -> dict[str, list]:
    """Every row of every table, as the owner reads it."""
    with app.app_context(), db.engine.connect() as connection:
        names = sorted(sa.inspect(connection).get_table_names())
        return {
            name: connection.execute(
                sa.text(f'SELECT * FROM "{name}" ORDER BY 1')
            ).all()
            for name in names
        }


def empty(app) -> None:
    """Leave the test's database as a new clinic's: nothing in it at all."""
    with app.app_context():
        db.engine.dispose()
        if db.engine.dialect.name == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(db.engine.url.database + suffix).unlink(missing_ok=True)
            return
        with db.engine.begin() as connection:
            schema = connection.scalar(sa.text("SELECT current_schema()"))
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        db.engine.dispose()


def backup(app, path: Path, passphrase: str | None = PASSPHRASE):
    args = ["backup", str(path)] + (["--encrypt"] if passphrase else [])
    return app.test_cli_runner().invoke(args=args, input=f"{passphrase}\n")


def restore(app, path: Path, passphrase: str = PASSPHRASE, *options: str):
    return app.test_cli_runner().invoke(
        args=["restore", str(path), *options], input=f"{passphrase}\n"
    )


def test_an_encrypted_backup_restores_every_row_and_the_audit_guards(
    filled, owner_app, tmp_path
):
    before = everything(owner_app)
    target = tmp_path / "nightly.age"
    result = backup(owner_app, target)
    assert result.exit_code == 0, result.output
    assert "(encrypted): integrity ok" in result.output
    assert "audit_event: " in result.output
    assert target.read_bytes().startswith(b"age-encryption.org/v1")
    # Nothing of the copy in the clear: no 16-byte run of it is in the file
    # (random bytes match one once in 2^128). pg_dump compresses its data, so
    # a patient code is looked for only where the copy holds it as text.
    cipher = target.read_bytes()
    plain = pyrage.passphrase.decrypt(cipher, PASSPHRASE)
    assert all(
        plain[start : start + 16] not in cipher
        for start in range(0, len(plain) - 16, 1024)
    )
    assert b"PF-0001" not in cipher
    assert oct(target.stat().st_mode)[-3:] == "600"
    empty(owner_app)
    assert everything(owner_app) == {}

    result = restore(owner_app, target)

    assert result.exit_code == 0, result.output
    assert "row counts match the backup, audit guards in place" in result.output
    assert everything(owner_app) == before
    assert before["audit_event"] and before["trial"]
    with owner_app.app_context(), db.engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            connection.exec_driver_sql("DELETE FROM audit_event")


def test_a_plain_backup_restores_too(filled, owner_app, tmp_path):
    before = everything(owner_app)
    target = tmp_path / "copy.backup"
    assert backup(owner_app, target, passphrase=None).exit_code == 0
    empty(owner_app)
    result = restore(owner_app, target)
    assert result.exit_code == 0, result.output
    assert everything(owner_app) == before


def test_a_wrong_passphrase_is_refused_in_one_line_and_nothing_is_touched(
    filled, owner_app, tmp_path
):
    target = tmp_path / "nightly.age"
    assert backup(owner_app, target).exit_code == 0
    empty(owner_app)
    result = restore(owner_app, target, "not the passphrase at all")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {target} could not be decrypted: the passphrase is wrong, or the "
        "file was changed or damaged. Nothing was restored."
    ]
    assert everything(owner_app) == {}


def test_a_tampered_byte_is_refused_and_nothing_is_touched(filled, owner_app, tmp_path):
    target = tmp_path / "nightly.age"
    assert backup(owner_app, target).exit_code == 0
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    empty(owner_app)
    result = restore(owner_app, target)
    assert result.exit_code == 1
    assert "changed or damaged. Nothing was restored." in result.output
    assert everything(owner_app) == {}


def test_restore_into_a_database_holding_data_needs_force(
    filled, owner_app, records, tmp_path
):
    target = tmp_path / "nightly.age"
    assert backup(owner_app, target).exit_code == 0
    before = everything(owner_app)
    records.patient()  # recorded after the backup
    holding = everything(owner_app)

    refused = restore(owner_app, target)

    assert refused.exit_code == 1
    assert "The database holds data (3 user, 4 patient" in refused.output
    assert "--force" in refused.output
    assert everything(owner_app) == holding

    forced = restore(owner_app, target, PASSPHRASE, "--force")
    assert forced.exit_code == 0, forced.output
    assert everything(owner_app) == before


def test_a_short_passphrase_is_refused_and_no_file_is_left(owner_app, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    result = backup(owner_app, folder / "nightly.age", passphrase="short")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert list(folder.iterdir()) == []


def test_an_age_tool_can_open_the_backup_with_the_passphrase(owner_app, tmp_path):
    target = tmp_path / "nightly.age"
    assert backup(owner_app, target).exit_code == 0
    plain = pyrage.passphrase.decrypt(target.read_bytes(), PASSPHRASE)
    assert plain.startswith((b"SQLite format 3\x00", b"PGDMP"))


def test_a_file_that_is_not_a_backup_is_refused(owner_app, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("shopping list")
    result = restore(owner_app, target)
    assert result.exit_code == 1
    assert "is not a backup of this tracker's database" in result.output


def test_postgresql_without_pg_dump_says_what_to_install(
    owner_app, tmp_path, monkeypatch
):
    with owner_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("pg_dump is PostgreSQL's")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = backup(owner_app, tmp_path / "nightly.age")
    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in result.output
