"""Connection settings that keep SQLite safe for clinical data and several writers.

SQLAlchemy's documented pysqlite recipe: turn off the driver's own transaction
handling and emit BEGIN ourselves, so that write transactions can take the
write lock up front (``BEGIN IMMEDIATE``). A deferred transaction that reads
first and writes later can fail at once with "database is locked" when another
worker wrote in between; an immediate one waits up to the busy timeout
(``DATABASE_BUSY_SECONDS``, passed to the driver by :mod:`tracker.web.serving`).
"""

import errno
import os
import sqlite3
from contextvars import ContextVar

from sqlalchemy import Engine, event, make_url

#: Whether transactions begun in this context will write. Requests that only
#: read (GET) set it to False so readers never queue behind writers.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a committed trial survives a power cut, at some cost in speed.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    # REPLACE then fires the DELETE triggers of the row it would replace, so
    # the guards on the audit and clinical tables refuse it (no trigger of
    # the app's changes its own table, so nothing recurses).
    "PRAGMA recursive_triggers=ON",
)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(
        "BEGIN IMMEDIATE" if write_intent.get() else "BEGIN DEFERRED"
    )


def begin_writing(session) -> None:
    """End the session's transaction; the next one begins ready to write.

    For a request that read before it knew it would write (a GET that makes
    a record, say): on SQLite a deferred transaction that read first can be
    refused at once when it writes, if another connection wrote in between.
    Discards uncommitted changes and expires loaded objects.
    """
    session.rollback()
    write_intent.set(True)


def create_private_sqlite_file(uri: str, instance_path: str) -> None:
    """Create a new SQLite database file readable by its owner only.

    SQLite gives its journal and WAL files the database file's permissions,
    so the clinical data is private from the first write. An existing file,
    another database or a missing directory is left to the connection. A
    relative path is in the instance folder, as Flask-SQLAlchemy reads it.
    """
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = os.path.join(instance_path, url.database)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except (FileExistsError, FileNotFoundError):
        pass


def is_disk_full(error: BaseException) -> bool:
    """Whether an error says the disk (or the database's space) ran out.

    ``error`` may be SQLAlchemy's, the driver's own (bulk inserts use the
    driver's cursor) or the operating system's.
    """
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    driver_error = getattr(error, "orig", error)
    if getattr(driver_error, "sqlite_errorname", None) == "SQLITE_FULL":
        return True
    return getattr(driver_error, "sqlstate", None) == "53100"  # PostgreSQL DiskFull
