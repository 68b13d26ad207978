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

    given = config.attributes.get("connection")
    if given is not None:
        run(given)
        return
    with target_db.engine.connect() as connection:
        run(connection)


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported.")
run_migrations_online()
