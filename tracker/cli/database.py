"""``init-db`` and ``backup``: the database itself."""

import sqlite3
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import FollowUp, Patient, Trial
from ..storage.schema import upgrade_database

RECORD_TABLES = (Patient, Trial, FollowUp)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the database or apply the migrations it lacks (safe to repeat)."""
    upgrade_database()
    click.echo("Database is up to date.")


def record_counts() -> dict[str, int]:
    """How many rows each clinical table holds."""
    return {
        model.__tablename__: db.session.scalar(
            sa.select(sa.func.count()).select_from(model)
        )
        for model in RECORD_TABLES
    }


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(path: Path):
    """Copy the live SQLite database to PATH and check the copy."""
    if db.engine.dialect.name != "sqlite":
        raise click.ClickException(
            "This database is not SQLite: back it up with pg_dump "
            "(e.g. pg_dump --format=custom --file=tracker.dump DBNAME)."
        )
    if path.exists():
        raise click.ClickException(f"{path} exists already; choose a new file name.")
    source_path = db.engine.url.database
    # The online-backup API copies a consistent snapshot while others write.
    with sqlite3.connect(source_path) as source, sqlite3.connect(path) as target:
        source.execute("PRAGMA busy_timeout=5000")
        source.backup(target)
    with sqlite3.connect(path) as copy:
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
        counts = {
            model.__tablename__: copy.execute(
                f'SELECT count(*) FROM "{model.__tablename__}"'
            ).fetchone()[0]
            for model in RECORD_TABLES
        }
    if integrity != "ok":
        raise click.ClickException(f"The copy failed its integrity check: {integrity}")
    click.echo(f"Backed up to {path}: integrity ok.")
    for table, count in counts.items():
        click.echo(f"  {table}: {count} rows")
