"""``backup`` and ``restore``: a copy of the database, and putting one back."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..storage import backups
from ..storage.backups import BackupError


def _passphrase(confirm: bool) -> str:
    """The passphrase: asked for at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return sys.stdin.readline().rstrip("\r\n")


def _echo_counts(counts: dict[str, int]) -> None:
    for table, count in counts.items():
        click.echo(f"  {table}: {count} rows")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--encrypt",
    is_flag=True,
    help="Encrypt the copy (age format) with a passphrase read from the "
    "prompt or standard input. The passphrase is not stored anywhere.",
)
@with_appcontext
def backup(path: Path, encrypt: bool):
    """Copy the live database to PATH and check the copy.

    SQLite: an online-backup copy. PostgreSQL: a pg_dump custom-format dump
    of the tracker's schema (pg_dump must be on PATH).
    """
    if path.exists():
        raise click.ClickException(f"{path} exists already; choose a new file name.")
    passphrase = _passphrase(confirm=True) if encrypt else None
    try:
        if passphrase is not None:
            backups.check_passphrase(passphrase)
        counts = _write(path, passphrase)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except (OSError, sqlite3.Error, sa.exc.DBAPIError) as error:
        raise click.ClickException(
            f"The backup could not be written to {path}: {_reason(error)}. "
            "Nothing was left behind; free some space or choose another place."
        ) from None
    click.echo(f"Backed up to {path}{' (encrypted)' if encrypt else ''}: integrity ok.")
    _echo_counts(counts)


def _write(path: Path, passphrase: str | None) -> dict[str, int]:
    """Write the checked copy to ``path``; the row counts it holds.

    Everything is written in a private folder beside ``path`` and linked into
    place only once checked: a full disk or a failed check leaves nothing.
    """
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as folder:
        copy = Path(folder) / "copy"
        if db.engine.dialect.name == "postgresql":
            backups.pg_dump(db.engine.url, backups.current_schema(db.engine), copy)
            counts = backups.pg_dump_counts(copy)
        else:
            backups.sqlite_copy(Path(db.engine.url.database), copy)
            backups.sqlite_check(copy)
            counts, _ = backups.sqlite_file_contents(copy)
        finished = copy
        if passphrase is not None:
            finished = Path(folder) / "encrypted"
            backups.encrypt(copy, finished, passphrase)
        os.chmod(finished, 0o600)
        os.link(finished, path)  # never replaces a file that appeared meanwhile
    return counts


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database that holds data (users, records, audit events).",
)
@with_appcontext
def restore(path: Path, force: bool):
    """Restore the backup at PATH into the database, then verify it.

    An encrypted backup asks for its passphrase (prompt or standard input).
    The backup is decrypted and checked before the database is touched; a
    database that holds data is replaced only with --force. Stop the app
    while restoring.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="tracker-restore-") as folder:
            counts = _restore(path, Path(folder), force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {path}: row counts match the backup, audit guards in place.")
    _echo_counts(counts)
    if db.engine.dialect.name == "postgresql":
        click.echo(
            "Grant the app's role its privileges again: "
            "flask --app tracker init-db --app-role NAME"
        )


def _restore(path: Path, folder: Path, force: bool) -> dict[str, int]:
    """Decrypt, check, restore and verify; the restored row counts."""
    plain = path
    if backups.kind(path) == "age":
        plain = folder / "backup"
        backups.decrypt(path, plain, _passphrase(confirm=False))
    dialect, held_kind = db.engine.dialect.name, backups.kind(plain)
    if held_kind != dialect:
        raise BackupError(
            f"{path} is a backup of a {held_kind} database, but "
            f"DATABASE_URL names {dialect}. Nothing was restored."
        )
    with db.engine.connect() as connection:
        held = backups.table_counts(connection)
    in_use = {t: held[t] for t in backups.DATA_TABLES if held.get(t)}
    if in_use and not force:
        what = ", ".join(f"{count} {table}" for table, count in in_use.items())
        raise BackupError(
            f"The database holds data ({what}); restore replaces it only when "
            "told --force. Nothing was restored."
        )
    if dialect == "postgresql":
        expected, expected_guards = _restore_postgresql(plain, bool(held))
    else:
        expected, expected_guards = _restore_sqlite(plain)
    with db.engine.connect() as connection:
        counts = backups.table_counts(connection)
        restored_guards = backups.guards(connection)
    if any(counts.get(table) != count for table, count in expected.items()):
        raise BackupError(
            f"The restored row counts {counts} differ from the backup's {expected}."
        )
    missing = (expected_guards | backups.AUDIT_GUARDS) - restored_guards
    if missing:
        raise BackupError(f"Audit guards missing after restore: {sorted(missing)}")
    return counts


def _restore_sqlite(plain: Path) -> tuple[dict[str, int], set[str]]:
    backups.sqlite_check(plain)
    expected, expected_guards = backups.sqlite_file_contents(plain)
    db.session.remove()
    db.engine.dispose()
    backups.sqlite_copy(plain, Path(db.engine.url.database))
    return expected, expected_guards


def _restore_postgresql(plain: Path, has_tables: bool) -> tuple[dict, set[str]]:
    contents = backups.pg_contents(plain)
    held, schema = backups.pg_schema(contents), backups.current_schema(db.engine)
    if held != schema:
        raise BackupError(
            f"The backup holds schema {held}, but the database's is {schema}. "
            "Nothing was restored."
        )
    expected = backups.pg_dump_counts(plain)
    db.session.remove()
    db.engine.dispose()
    backups.pg_restore(db.engine.url, plain, contents, clean=has_tables)
    return expected, backups.pg_guards(contents)


def _reason(error: Exception) -> str:
    """What went wrong, in words: the OS's or the database's message."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(getattr(error, "orig", error))
