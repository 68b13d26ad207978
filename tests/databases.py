"""PostgreSQL test schemas: migrated by the owner, used by the app's role.

``TEST_DATABASE_URL`` names the owner of the tables: it creates each test's
schema, runs the migrations there and grants the app's role its privileges,
as ``flask --app tracker init-db --app-role NAME`` does in a clinic. The app
connects as that role: ``TEST_APP_DATABASE_URL`` if set, else the owner's
URL with the user ``tracker_test_app`` (no password), a role created on first
use (NOLOGIN roles cannot connect, so it is a LOGIN role with no password;
trust or peer authentication lets it in, or give it a password and put that
in ``TEST_APP_DATABASE_URL``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command

from tracker import create_app
from tracker.extensions import migrate
from tracker.storage import roles

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_APP_DATABASE_URL = os.environ.get("TEST_APP_DATABASE_URL")
DEFAULT_APP_ROLE = "tracker_test_app"


@dataclass(frozen=True)
class Schema:
    """One test's schema, as the app's role and as the owner see it."""

    app_url: str
    owner_url: str


def app_role_url() -> sa.URL:
    """Where the app's role connects (without a schema)."""
    if TEST_APP_DATABASE_URL:
        return sa.make_url(TEST_APP_DATABASE_URL)
    return sa.make_url(TEST_DATABASE_URL).set(username=DEFAULT_APP_ROLE, password=None)


def in_schema(url: sa.URL, schema: str) -> str:
    return url.update_query_dict(
        {"options": f"-csearch_path={schema}"}
    ).render_as_string(hide_password=False)


_role_checked = False


def _ensure_app_role(connection: sa.Connection) -> None:
    """Create the app's role if it does not exist yet (once a session)."""
    global _role_checked
    if _role_checked:
        return
    url = app_role_url()
    if not roles.role_exists(connection, url.username):
        role = connection.dialect.identifier_preparer.quote(url.username)
        if url.password:
            roles.create_role(connection, url.username, url.password)
        else:
            connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    _role_checked = True


_migrating_app = None


def _migrate_and_grant(connection: sa.Connection) -> None:
    """Migrate the connection's schema and grant the app's role there.

    Through one app on the owner's URL for the whole session, not a new app
    per test: Alembic migrates the connection it is given.
    """
    global _migrating_app
    if _migrating_app is None:
        _migrating_app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
            }
        )
    with _migrating_app.app_context():
        config = migrate.get_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    _ensure_app_role(connection)
    roles.grant_app_role(connection, app_role_url().username)


@contextmanager
def postgresql_schema() -> Iterator[Schema]:
    """A new schema, migrated and granted in one transaction; dropped after."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    owner = sa.create_engine(TEST_DATABASE_URL)
    try:
        with owner.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            _migrate_and_grant(connection)
        yield Schema(
            in_schema(app_role_url(), schema),
            in_schema(sa.make_url(TEST_DATABASE_URL), schema),
        )
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        owner.dispose()
