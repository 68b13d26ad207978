"""PostgreSQL: the app connects as a role that cannot rewrite history.

The suite's app connects as that role (see tests/databases.py); the owner of
the tables, who runs the migrations, is ``TEST_DATABASE_URL``'s user.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent
from tracker.storage.roles import PRIVILEGES

ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL roles")
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
TABLE_PRIVILEGES += ("REFERENCES", "TRIGGER")
GUARDED = ("audit_event", "patient", "trial", "follow_up")


def test_every_table_has_its_privileges_decided(app):
    """A migration that adds a table must say what the app's role may do."""
    assert set(PRIVILEGES) == set(db.metadata.tables) | {"alembic_version"}


def test_init_db_refuses_an_app_role_on_sqlite(app, runner):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite")
    result = runner.invoke(args=["init-db", "--app-role", "tracker_app"])
    assert result.exit_code != 0
    assert "SQLite has no roles" in result.output


def run_each(url, statements) -> dict[str, str]:
    """Each statement in a transaction of its own: what it did or said."""
    engine = sa.create_engine(url)
    outcomes = {}
    try:
        for statement in statements:
            with engine.connect() as connection:
                transaction = connection.begin()
                try:
                    connection.exec_driver_sql(statement)
                    outcomes[statement] = "ran"
                except sa.exc.DBAPIError as error:
                    outcomes[statement] = str(error.orig).splitlines()[0]
                finally:
                    transaction.rollback()
    finally:
        engine.dispose()
    return outcomes


@postgresql_only
def test_the_app_role_cannot_erase_history_or_switch_off_the_guards(
    database_url, records
):
    trial = records.trial()
    records.follow_up(trial)
    statements = [
        "TRUNCATE audit_event",
        "TRUNCATE follow_up, trial, patient CASCADE",
        "UPDATE audit_event SET action = 'forged'",
        "SET session_replication_role = replica",
        "CREATE TABLE shadow (id int)",
        # Only a warning ("no privileges were granted"), so try the DELETE too.
        "GRANT DELETE ON patient TO CURRENT_USER; DELETE FROM patient",
    ]
    for table in GUARDED:
        statements += [
            f'DELETE FROM "{table}"',
            f'TRUNCATE "{table}"',
            f'ALTER TABLE "{table}" DISABLE TRIGGER ALL',
            f'ALTER TABLE "{table}" DISABLE TRIGGER USER',
            f'DROP TRIGGER {table}_refuses_delete ON "{table}"',
            f'DROP TABLE "{table}" CASCADE',
        ]
    outcomes = run_each(database_url, statements)
    let_through = {
        statement: outcome
        for statement, outcome in outcomes.items()
        if not outcome.startswith(("permission denied", "must be owner"))
    }
    assert let_through == {}


@postgresql_only
def test_the_app_role_is_neither_owner_nor_superuser(app):
    with app.app_context(), db.engine.connect() as connection:
        facts = connection.execute(
            sa.text(
                "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
                "r.rolbypassrls, bool_or(pg_has_role(t.tableowner, 'MEMBER')) "
                "FROM pg_roles r, pg_tables t WHERE r.rolname = current_user "
                "AND t.schemaname = current_schema() "
                "GROUP BY r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls"
            )
        ).one()
    assert tuple(facts) == (False, False, False, False, False)


@postgresql_only
def test_the_owners_truncate_is_refused_by_the_trigger(owner_database_url, records):
    """The owner could drop the triggers, but a TRUNCATE by mistake is refused."""
    records.follow_up(records.trial())
    statements = [
        "TRUNCATE audit_event",
        "TRUNCATE follow_up, trial, patient CASCADE",
        *(f'TRUNCATE "{table}" CASCADE' for table in GUARDED),
    ]
    outcomes = run_each(owner_database_url, statements)
    assert all("append-only" in outcome for outcome in outcomes.values()), outcomes
    assert records.count(AuditEvent) >= 3


def privileges_of(owner_database_url, role) -> dict[str, set[str]]:
    engine = sa.create_engine(owner_database_url)
    try:
        with engine.connect() as connection:
            return {
                table: {
                    privilege
                    for privilege in TABLE_PRIVILEGES
                    if connection.scalar(
                        sa.text("SELECT has_table_privilege(:role, :table, :p)"),
                        {"role": role, "table": f'"{table}"', "p": privilege},
                    )
                }
                for table in PRIVILEGES
            }
    finally:
        engine.dispose()


@pytest.fixture
def new_role(owner_database_url):
    """A role name no one uses yet; the role is dropped afterwards."""
    name = f"tracker_test_{uuid.uuid4().hex[:8]}"
    yield name
    engine = sa.create_engine(owner_database_url)
    with engine.begin() as connection:
        if connection.scalar(
            sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :n"), {"n": name}
        ):
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')
    engine.dispose()


def owner_cli(make_app, owner_database_url):
    return make_app(SQLALCHEMY_DATABASE_URI=owner_database_url).test_cli_runner()


@postgresql_only
def test_init_db_creates_the_app_role_and_grants_it_no_more_than_it_needs(
    make_app, owner_database_url, new_role, records
):
    runner = owner_cli(make_app, owner_database_url)
    result = runner.invoke(
        args=["init-db", "--app-role", new_role],
        env={"TRACKER_APP_ROLE_PASSWORD": "a long enough secret"},
    )
    assert result.exit_code == 0, result.output
    assert f"Role {new_role} created (LOGIN)." in result.output
    granted = privileges_of(owner_database_url, new_role)
    assert granted == {table: set(p) for table, p in PRIVILEGES.items()}
    engine = sa.create_engine(owner_database_url)
    with engine.connect() as connection:
        password = connection.scalar(
            sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"),
            {"n": new_role},
        )
        login = connection.scalar(
            sa.text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :n"),
            {"n": new_role},
        )
    engine.dispose()
    assert login is True
    assert password.startswith(("SCRAM-SHA-256$", "md5"))
    assert "a long enough secret" not in password

    # It works for what the app does, and no further.
    as_role = sa.make_url(owner_database_url).set(username=new_role, password=None)
    outcomes = run_each(
        as_role,
        [
            "INSERT INTO audit_event (at, action, changes) VALUES (now(), 'x', '{}')",
            "UPDATE trial SET notes = 'corrected'",
            "UPDATE audit_event SET action = 'forged'",
            "DELETE FROM trial",
        ],
    )
    assert list(outcomes.values())[:2] == ["ran", "ran"]
    assert all(o.startswith("permission denied") for o in list(outcomes.values())[2:])

    again = runner.invoke(args=["init-db", "--app-role", new_role])
    assert again.exit_code == 0, again.output
    assert "created" not in again.output
    assert privileges_of(owner_database_url, new_role) == granted


@postgresql_only
def test_init_db_can_create_a_nologin_app_role(make_app, owner_database_url, new_role):
    runner = owner_cli(make_app, owner_database_url)
    result = runner.invoke(args=["init-db", "--app-role", new_role, "--nologin"])
    assert result.exit_code == 0, result.output
    assert f"Role {new_role} created (NOLOGIN)." in result.output
    assert privileges_of(owner_database_url, new_role)["audit_event"] == {
        "SELECT",
        "INSERT",
    }


@postgresql_only
def test_init_db_refuses_a_role_that_could_switch_the_guards_off(
    make_app, owner_database_url, new_role
):
    runner = owner_cli(make_app, owner_database_url)
    owner = sa.make_url(owner_database_url).username
    result = runner.invoke(args=["init-db", "--app-role", owner])
    assert result.exit_code != 0
    assert "superuser" in result.output or "owner" in result.output
    engine = sa.create_engine(owner_database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{new_role}" NOLOGIN')
        connection.exec_driver_sql(f'GRANT "{owner}" TO "{new_role}"')
    engine.dispose()
    result = runner.invoke(args=["init-db", "--app-role", new_role])
    assert result.exit_code != 0
    assert "may act as their owner" in result.output


@postgresql_only
def test_init_db_grants_tables_that_later_migrations_create(
    make_app, database_url, owner_database_url, auth, client
):
    """A table created after the role was granted gets its privileges at the
    next init-db: here login_attempt, dropped and created anew by the owner."""
    engine = sa.create_engine(owner_database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE login_attempt")
        connection.exec_driver_sql(
            "CREATE TABLE login_attempt (id serial PRIMARY KEY, "
            "at timestamptz NOT NULL, username varchar(80) NOT NULL, "
            "address varchar(64) NOT NULL, succeeded boolean NOT NULL)"
        )
    engine.dispose()
    assert auth.login().status_code == 500  # permission denied for the new table
    role = sa.make_url(database_url).username
    runner = owner_cli(make_app, owner_database_url)
    result = runner.invoke(args=["init-db", "--app-role", role])
    assert result.exit_code == 0, result.output
    assert auth.login().status_code == 302


@postgresql_only
def test_init_db_says_who_must_create_a_role_it_may_not_create(runner, new_role):
    """Run by a role without CREATEROLE (here the app's own role)."""
    result = runner.invoke(
        args=["init-db", "--app-role", new_role],
        env={"TRACKER_APP_ROLE_PASSWORD": "a long enough secret"},
    )
    assert result.exit_code != 0
    assert "This role may not create roles" in result.output
    assert f"CREATE ROLE {new_role} LOGIN" in result.output


@postgresql_only
def test_init_db_by_the_owner_reminds_of_the_app_role(
    make_app, owner_database_url, runner
):
    owner = owner_cli(make_app, owner_database_url).invoke(args=["init-db"])
    assert owner.exit_code == 0, owner.output
    assert "--app-role NAME" in owner.output
    app_role = runner.invoke(args=["init-db"])
    assert app_role.exit_code == 0, app_role.output
    assert "--app-role" not in app_role.output
