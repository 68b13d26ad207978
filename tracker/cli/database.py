"""``init-db``: the database itself, and its app role."""

import os

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import FollowUp, Patient, Trial
from ..storage import roles
from ..storage.schema import MigrationRefused, upgrade_database

RECORD_TABLES = (Patient, Trial, FollowUp)


@click.command("init-db")
@click.option(
    "--app-role",
    metavar="NAME",
    envvar="TRACKER_APP_ROLE",
    help="PostgreSQL: the role the app connects as. Created if missing, then "
    "granted what the app needs and no more. Run as the tables' owner, "
    "after every upgrade. Default: $TRACKER_APP_ROLE.",
)
@click.option(
    "--nologin",
    is_flag=True,
    help="Create a missing app role NOLOGIN, without a password (a group "
    "role that login roles are then granted).",
)
@with_appcontext
def init_db(app_role: str | None, nologin: bool):
    """Create the database or apply the migrations it lacks (safe to repeat).

    A new app role's password is read from $TRACKER_APP_ROLE_PASSWORD, or
    asked for.
    """
    if app_role and db.engine.dialect.name != "postgresql":
        raise click.ClickException(
            "--app-role is for PostgreSQL: SQLite has no roles (see "
            "docs/accounts-and-audit.md#what-the-database-refuses)."
        )
    try:
        upgrade_database()
    except MigrationRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo("Database is up to date.")
    if app_role:
        _set_up_app_role(app_role, nologin)
    elif db.engine.dialect.name == "postgresql" and _owns_the_tables():
        click.echo(
            "The app should connect as a role of its own: add --app-role NAME "
            "(see docs/deployment.md)."
        )


def _owns_the_tables() -> bool:
    with db.engine.connect() as connection:
        return bool(
            connection.scalar(
                sa.text(
                    "SELECT pg_has_role(tableowner, 'MEMBER') FROM pg_tables "
                    "WHERE schemaname = current_schema() "
                    "AND tablename = 'audit_event'"
                )
            )
        )


def _set_up_app_role(name: str, nologin: bool) -> None:
    """Create the app's role if it is missing, then grant it its privileges."""
    with db.engine.connect() as connection:
        exists = roles.role_exists(connection, name)
    password = None
    if not exists and not nologin:
        password = os.environ.get("TRACKER_APP_ROLE_PASSWORD") or click.prompt(
            f"Password for the new role {name}",
            hide_input=True,
            confirmation_prompt=True,
        )
    try:
        with db.engine.begin() as connection:
            if not exists:
                roles.create_role(connection, name, password)
            roles.grant_app_role(connection, name)
            schema = connection.scalar(sa.text("SELECT current_schema()"))
    except roles.RoleError as error:
        raise click.ClickException(str(error)) from None
    except sa.exc.ProgrammingError as error:
        if "permission denied to create role" not in str(error):
            raise
        raise click.ClickException(
            f"This role may not create roles. Have the database administrator "
            f"run CREATE ROLE {name} LOGIN PASSWORD '...'; then run this again."
        ) from None
    if not exists:
        click.echo(f"Role {name} created ({'NOLOGIN' if nologin else 'LOGIN'}).")
    click.echo(
        f"Role {name} may read, add and correct records and add to the audit "
        f"trail in schema {schema}; it may not delete, truncate, or change "
        "the audit trail."
    )


def record_counts() -> dict[str, int]:
    """How many rows each clinical table holds."""
    return {
        model.__tablename__: db.session.scalar(
            sa.select(sa.func.count()).select_from(model)
        )
        for model in RECORD_TABLES
    }
