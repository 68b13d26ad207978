"""PostgreSQL: the role the app connects as, which cannot rewrite history.

The migrations run as the owner of the tables. The app connects as a role
of its own that may read, add and correct what it needs and nothing more:
no DELETE on the clinical tables, only INSERT and SELECT on the audit table,
no TRUNCATE anywhere; and since it owns nothing it cannot disable or drop
the triggers that guard those tables. ``flask --app tracker init-db
--app-role NAME``, run with the owner's ``DATABASE_URL``, creates the role if
it is missing and grants it exactly :data:`PRIVILEGES` (revoking anything
else on those tables); run again after every upgrade, it also covers the
tables that later migrations created.
"""

from __future__ import annotations

import sqlalchemy as sa

#: What the app's role may do with each table of the app, and nothing else.
#: A migration that adds a table adds it here (a test checks they match).
PRIVILEGES = {
    # Clinical records: edits and voiding are updates; nothing is deleted.
    "patient": ("SELECT", "INSERT", "UPDATE"),
    "trial": ("SELECT", "INSERT", "UPDATE"),
    "follow_up": ("SELECT", "INSERT", "UPDATE"),
    # Report links are revoked or spent by an update, never deleted.
    "report_link": ("SELECT", "INSERT", "UPDATE"),
    # Refused report-link requests are counted, never changed.
    "report_link_refusal": ("SELECT", "INSERT"),
    # The audit trail is append-only.
    "audit_event": ("SELECT", "INSERT"),
    # Accounts are deactivated, never deleted.
    "user": ("SELECT", "INSERT", "UPDATE"),
    # An attempt is recorded as failed, then marked if it succeeded.
    "login_attempt": ("SELECT", "INSERT", "UPDATE"),
    # Settings are saved by merge: a SELECT, then INSERT or UPDATE.
    "clinic_setting": ("SELECT", "INSERT", "UPDATE"),
    # A create form's one-time key is saved with its record, never changed.
    "form_submission": ("SELECT", "INSERT"),
    # Recovery codes are marked used; an admin's reset deletes a user's codes.
    "recovery_code": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    # Sites are renamed or retired, never deleted; a user's sites are
    # assigned and unassigned.
    "site": ("SELECT", "INSERT", "UPDATE"),
    "user_site": ("SELECT", "INSERT", "DELETE"),
    # The app checks whether the schema is current.
    "alembic_version": ("SELECT",),
}


class RoleError(Exception):
    """The role cannot be, or must not be, the app's role."""


def role_exists(connection: sa.Connection, name: str) -> bool:
    """Whether the PostgreSQL role ``name`` exists."""
    return bool(
        connection.scalar(
            sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :name"),
            {"name": name},
        )
    )


def create_role(
    connection: sa.Connection, name: str, password: str | None = None
) -> None:
    """Create role ``name``: LOGIN with ``password``, or NOLOGIN without one.

    The password is hashed here by libpq (as psql's ``\\password`` does), so
    neither the statement nor the server's log holds it in clear.
    """
    role = connection.dialect.identifier_preparer.quote(name)
    if password is None:
        connection.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
        return
    pgconn = connection.connection.dbapi_connection.pgconn
    verifier = pgconn.encrypt_password(password.encode(), name.encode()).decode()
    literal = verifier.replace("'", "''")
    connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{literal}'")


def grant_app_role(connection: sa.Connection, name: str) -> None:
    """Give role ``name`` exactly :data:`PRIVILEGES` in the current schema.

    Run as the tables' owner, in the schema the app uses, after migrating.
    """
    if connection.dialect.name != "postgresql":
        raise RoleError(
            "Only PostgreSQL has roles: an SQLite database is one file, and "
            "whoever may write it may do anything to it."
        )
    if not role_exists(connection, name):
        raise RoleError(f"There is no role {name!r}.")
    schema = connection.scalar(sa.text("SELECT current_schema()"))
    tables = dict(
        connection.execute(
            sa.text(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :s"
            ),
            {"s": schema},
        ).all()
    )
    missing = sorted(set(PRIVILEGES) - set(tables))
    if missing:
        raise RoleError(
            f"Schema {schema!r} lacks {', '.join(missing)}: migrate it first."
        )
    _refuse_powerful(connection, name, {tables[table] for table in PRIVILEGES})
    quote = connection.dialect.identifier_preparer.quote
    role = quote(name)
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {role}")
    for table, privileges in PRIVILEGES.items():
        qualified = f"{quote(schema)}.{quote(table)}"
        connection.exec_driver_sql(f"REVOKE ALL ON TABLE {qualified} FROM {role}")
        connection.exec_driver_sql(
            f"GRANT {', '.join(privileges)} ON TABLE {qualified} TO {role}"
        )
        for sequence in _sequences_of(connection, qualified):
            connection.exec_driver_sql(f"REVOKE ALL ON SEQUENCE {sequence} FROM {role}")
            if "INSERT" in privileges:
                connection.exec_driver_sql(
                    f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {role}"
                )


def _sequences_of(connection: sa.Connection, table: str) -> list[str]:
    """The sequences of the table's serial or identity columns, quoted."""
    return list(
        connection.scalars(
            sa.text(
                "SELECT pg_get_serial_sequence(:table, attname) FROM pg_attribute "
                "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 "
                "AND NOT attisdropped "
                "AND pg_get_serial_sequence(:table, attname) IS NOT NULL"
            ),
            {"table": table},
        )
    )


def _refuse_powerful(connection: sa.Connection, name: str, owners: set[str]) -> None:
    """Refuse a role that could switch the guards off: an owner or a superuser."""
    superuser = connection.scalar(
        sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :name"),
        {"name": name},
    )
    if superuser:
        raise RoleError(
            f"Role {name!r} is a superuser: the app's role must not be one."
        )
    for owner in sorted(owners):
        if connection.scalar(
            sa.text("SELECT pg_has_role(:name, :owner, 'MEMBER')"),
            {"name": name, "owner": owner},
        ):
            raise RoleError(
                f"Role {name!r} owns the tables or may act as their owner "
                f"{owner!r}: the app's role must be another one."
            )
