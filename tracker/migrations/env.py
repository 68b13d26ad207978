"""Alembic environment: migrate the database of the running Flask app."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the app's own loggers alive: fileConfig would silence them by default.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def run_migrations_online():
    """Run the migrations on the app's engine, one transaction.

    Or on ``config.attributes["connection"]`` when the caller passes one
    (Alembic's recipe for sharing a connection; the tests migrate each
    schema in the transaction that creates it).
    """

    def process_revision_directives(context, revision, directives):
        # Never write an empty revision when the schema has not changed.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    def run(connection):
        context.configure(
            connection=connection, target_metadata=target_db.metadata, **conf_args
        )
        with context.begin_transaction():
            context.run_migrations()
            if connection.dialect.name == "sqlite":
                _check_references(connection)

    given = config.attributes.get("connection")
    if given is not None:
        run(given)
        return
    with target_db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            run(connection)
            return
        # SQLite will not add a column that references a table while it
        # enforces foreign keys, and cannot stop enforcing them inside a
        # transaction: migrations run with enforcement off, and every
        # reference is checked before they commit (_check_references). The
        # connection is then discarded, not pooled: the pragma would be a
        # no-op if a transaction were still open, and the pool's next
        # connection gets the app's pragmas afresh.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            run(connection)
        finally:
            connection.invalidate()


def _check_references(connection):
    """Refuse to commit a migration that left a row pointing at nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"The migration left broken references: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported.")
run_migrations_online()
