"""Bringing a database's schema up to date with the migrations."""

import fcntl
from pathlib import Path

import flask_migrate
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from ..extensions import db, migrate


class MigrationRefused(Exception):
    """A migration found data it cannot carry over; it changed nothing."""


def schema_is_current() -> bool:
    """Whether the database already stands at the newest migration."""
    config = migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def upgrade_database() -> None:
    """Apply any migrations the database lacks (idempotent)."""
    if not schema_is_current():
        flask_migrate.upgrade()


def upgrade_embedded_database(app: Flask) -> None:
    """Create or upgrade the instance's SQLite database on start.

    A clinic running PostgreSQL runs ``flask --app tracker init-db`` itself.
    The file lock keeps several server workers starting at once from
    migrating the same file together.
    """
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        lock_path = Path(app.instance_path) / ".migrate.lock"
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            upgrade_database()
