"""Backups a clinic can restore: copies, their checks, and their encryption.

A copy is SQLite's online backup (one file) or ``pg_dump``'s custom format.
Encryption is the age format through pyrage, a binding to the age project's
own library: a passphrase file any ``age`` tool opens, authenticated chunk by
chunk, so a wrong passphrase or a changed byte is refused before anything is
restored. The passphrase is never stored.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pyrage
import sqlalchemy as sa

AGE_HEADER = b"age-encryption.org/v1"
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
#: The tables whose rows mean a database holds a clinic's data.
DATA_TABLES = ("user", "patient", "trial", "follow_up", "audit_event")
#: The guard triggers' names end so (see the migrations that create them).
GUARD = "_refuses_"
#: The audit trail's own guards, which every restored database must have.
AUDIT_GUARDS = {"audit_event_refuses_update", "audit_event_refuses_delete"}
MINIMUM_PASSPHRASE = 12


class BackupError(Exception):
    """A backup or restore refused, in one line a clinic can act on."""


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase short enough to guess."""
    if len(passphrase) < MINIMUM_PASSPHRASE:
        raise BackupError(
            f"The passphrase must be at least {MINIMUM_PASSPHRASE} characters."
        )


def encrypt(plain: Path, encrypted: Path, passphrase: str) -> None:
    """Write ``plain`` to ``encrypted`` in the age format."""
    encrypted.write_bytes(pyrage.passphrase.encrypt(plain.read_bytes(), passphrase))


def decrypt(encrypted: Path, plain: Path, passphrase: str) -> None:
    """Write the decrypted ``encrypted`` to ``plain``, or refuse it whole."""
    try:
        data = pyrage.passphrase.decrypt(encrypted.read_bytes(), passphrase)
    except pyrage.DecryptError:
        raise BackupError(
            f"{encrypted} could not be decrypted: the passphrase is wrong, or "
            "the file was changed or damaged. Nothing was restored."
        ) from None
    plain.write_bytes(data)


def kind(path: Path) -> str:
    """What a backup file holds: ``age``, ``sqlite`` or ``postgresql``."""
    with path.open("rb") as file:
        start = file.read(32)
    for name, header in (
        ("age", AGE_HEADER),
        ("sqlite", SQLITE_HEADER),
        ("postgresql", PG_DUMP_HEADER),
    ):
        if start.startswith(header):
            return name
    raise BackupError(f"{path} is not a backup of this tracker's database.")


# SQLite


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database over another, consistently while others write."""
    with (
        closing(sqlite3.connect(source)) as origin,
        closing(sqlite3.connect(target)) as copy,
    ):
        origin.execute("PRAGMA busy_timeout=5000")
        copy.execute("PRAGMA busy_timeout=5000")
        origin.backup(copy)


def sqlite_check(path: Path) -> None:
    """Refuse a copy that fails SQLite's integrity check."""
    with closing(sqlite3.connect(path)) as connection:
        try:
            integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            integrity = str(error)
    if integrity != "ok":
        raise BackupError(f"The copy failed its integrity check: {integrity}")


# PostgreSQL


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for ``url`` and the environment with its password."""
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict | None = None) -> str:
    """Run a PostgreSQL client program; its output, or its error as one line."""
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} was not found on PATH: install PostgreSQL's client "
            "programs (e.g. apt install postgresql-client) and run this again."
        )
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no message)"]
        raise BackupError(f"{command[0]} failed: {lines[0]}")
    return done.stdout


def pg_dump(url: sa.URL, schema: str, target: Path) -> None:
    """Dump the tracker's schema in ``pg_dump``'s custom format."""
    uri, environment = _libpq(url)
    _run(
        ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={target}", uri],
        environment,
    )


def pg_contents(dump: Path) -> list[str]:
    """The dump's table of contents, which ``pg_restore`` reads only if whole."""
    return _run(["pg_restore", "--list", str(dump)]).splitlines()


def pg_schema(contents: list[str]) -> str:
    """The schema a dump's tables are in."""
    for line in contents:
        found = re.match(r"^\d+; \d+ \d+ TABLE (\S+) ", line)
        if found:
            return found.group(1)
    raise BackupError("The dump holds no tables: it is not a tracker backup.")


def pg_guards(contents: list[str]) -> set[str]:
    """The guard triggers a dump's table of contents holds."""
    triggers = {line.split()[-2] for line in contents if " TRIGGER " in line}
    return {name for name in triggers if GUARD in name}


def pg_dump_counts(dump: Path) -> dict[str, int]:
    """Each table's rows as written in the dump itself, not in any database."""
    counts, table = {}, None
    command = ["pg_restore", "--data-only", "--file=-", str(dump)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as script:
        for line in script.stdout:
            if table is None:
                copy = re.match(r'^COPY (?:\S+\.)?"?([^" ]+)"? ', line)
                if copy:
                    table = copy.group(1)
                    counts[table] = 0
            elif line == "\\.\n":
                table = None
            else:
                counts[table] += 1
    if script.returncode != 0:
        raise BackupError("pg_restore could not read the dump's rows.")
    return counts


def pg_restore(url: sa.URL, dump: Path, contents: list[str], clean: bool) -> None:
    """Restore a dump into the schema of ``url``, in one transaction.

    The schema itself is left out (it exists: it is the one ``url`` names),
    and so are owners and grants: ``init-db --app-role`` grants them again.
    """
    wanted = dump.with_suffix(".list")
    wanted.write_text(
        "\n".join(line for line in contents if not re.search(r" SCHEMA - ", line))
    )
    uri, environment = _libpq(url)
    command = ["pg_restore", "--single-transaction", "--exit-on-error"]
    command += ["--no-owner", "--no-acl", f"--use-list={wanted}", f"--dbname={uri}"]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], environment)


# Either database, through SQLAlchemy


def current_schema(engine: sa.Engine) -> str:
    """PostgreSQL: the schema the tracker's tables are in (its search path)."""
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT current_schema()"))


def sqlite_file_contents(path: Path) -> tuple[dict[str, int], set[str]]:
    """An SQLite file's row counts per table and its guard triggers."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return table_counts(connection), guards(connection)
    finally:
        engine.dispose()


def table_counts(connection: sa.Connection) -> dict[str, int]:
    """How many rows each of the database's tables holds."""
    names = sa.inspect(connection).get_table_names()
    return {
        name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
        for name in sorted(names)
    }


def guards(connection: sa.Connection) -> set[str]:
    """The names of the triggers that refuse erasing or replacing records."""
    if connection.dialect.name == "postgresql":
        query = (
            "SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
            "WHERE relnamespace = current_schema()::regnamespace"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {name for (name,) in connection.exec_driver_sql(query) if GUARD in name}
