"""Connection settings that keep SQLite safe for clinical data and several writers.

SQLAlchemy's documented pysqlite recipe: turn off the driver's own transaction
handling and emit BEGIN ourselves, so that write transactions can take the
write lock up front (``BEGIN IMMEDIATE``). A deferred transaction that reads
first and writes later can fail at once with "database is locked" when another
worker wrote in between; an immediate one waits up to the busy timeout
(``DATABASE_BUSY_SECONDS``, passed to the driver by :mod:`tracker.web.serving`).
"""

import sqlite3
from contextvars import ContextVar

from sqlalchemy import Engine, event

#: Whether transactions begun in this context will write. Requests that only
#: read (GET) set it to False so readers never queue behind writers.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a committed trial survives a power cut, at some cost in speed.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
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
