"""The database keeps history: no statement erases or replaces a record.

The audit trail is append-only and clinical records (patients, trials,
follow-ups) are voided, never deleted. Each statement form that could erase
or replace a row is tried with raw SQL, both as the app connects and as
someone at the database's own prompt: the ``sqlite3`` shell (none of the
app's connection settings), or PostgreSQL's owner of the tables.
"""

import re
import sqlite3
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tracker.extensions import db

REFUSED = "append-only|permission denied|must be owner"
TABLES = ("audit_event", "patient", "trial", "follow_up")
#: A column of each table and a forged value for it.
FORGED = {
    "audit_event": ("action", "'forged'"),
    "patient": ("notes", "'forged'"),
    "trial": ("notes", "'forged'"),
    "follow_up": ("pain", "0"),
}
#: Unreferenced rows: the victim of a replacement, and another row.
VICTIM = {"audit_event": 2, "patient": 3, "trial": 3, "follow_up": 2}
OTHER = {"audit_event": 1, "patient": 2, "trial": 2, "follow_up": 1}


@pytest.fixture
def filled(app, records):
    """Patients 1-3, trials 1-3 of patient 1, follow-ups 1-2 of trial 1."""
    patient = records.patient()
    records.patient()
    records.patient()
    trial = records.trial(patient)
    records.trial(patient)
    records.trial(patient)
    records.follow_up(trial)
    records.follow_up(trial)
    return snapshot(app)


def snapshot(app) -> dict[str, list]:
    """Every row of the audit and clinical tables, in id order."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table: connection.exec_driver_sql(
                f'SELECT * FROM "{table}" ORDER BY id'
            ).all()
            for table in TABLES
        }


def columns(table) -> list[str]:
    return [column.name for column in db.metadata.tables[table].columns]


def forged_copy(table) -> str:
    """Columns and a SELECT of the victim row with one column forged."""
    forged_column, value = FORGED[table]
    names = columns(table)
    chosen = [value if name == forged_column else f'"{name}"' for name in names]
    listed = ", ".join(f'"{name}"' for name in names)
    return (
        f'({listed}) SELECT {", ".join(chosen)} FROM "{table}" '
        f"WHERE id = {VICTIM[table]}"
    )


def upsert(table) -> str:
    column, _ = FORGED[table]
    return (
        f'INSERT INTO "{table}" {forged_copy(table)} '
        f'ON CONFLICT (id) DO UPDATE SET "{column}" = excluded."{column}"'
    )


def replacing_statements(dialect) -> list[str]:
    """Every statement form that would replace or erase a row of each table."""
    statements = ["UPDATE audit_event SET action = 'forged'", upsert("audit_event")]
    for table in TABLES:
        victim, other = VICTIM[table], OTHER[table]
        statements.append(f'DELETE FROM "{table}" WHERE id = {victim}')
        if dialect == "sqlite":
            statements += [
                f'INSERT OR REPLACE INTO "{table}" {forged_copy(table)}',
                f'REPLACE INTO "{table}" {forged_copy(table)}',
                f'UPDATE OR REPLACE "{table}" SET id = {victim} WHERE id = {other}',
            ]
        else:
            statements.append(f'TRUNCATE "{table}" CASCADE')
    if dialect == "sqlite":
        statements += [upsert(table) for table in ("patient", "trial", "follow_up")]
        # Replacing patient 3 by its unique code, under a new id or patient 2's.
        statements += [
            "INSERT OR REPLACE INTO patient (code, notes, created_at) "
            "SELECT code, 'forged', created_at FROM patient WHERE id = 3",
            "UPDATE OR REPLACE patient SET code = "
            "(SELECT code FROM patient WHERE id = 3) WHERE id = 2",
        ]
    else:
        statements += [
            "TRUNCATE audit_event",
            "TRUNCATE follow_up, trial, patient CASCADE",
            'TRUNCATE follow_up, trial, patient, audit_event, "user" CASCADE',
        ]
    return statements


class Prompt:
    """A raw connection, one transaction per statement, always rolled back."""

    def __init__(self, who, app, owner_database_url):
        self.who, self.app, self.url = who, app, sa.make_url(owner_database_url)

    @contextmanager
    def transaction(self):
        """A function that runs a statement and returns all its rows, if any."""
        if self.who == "app":
            with self.app.app_context(), db.engine.connect() as connection:
                transaction = connection.begin()
                try:
                    yield lambda sql: _rows(connection.exec_driver_sql(sql))
                finally:
                    transaction.rollback()
        elif self.url.get_backend_name() == "sqlite":
            # As the sqlite3 shell opens the file: none of the app's pragmas.
            shell = sqlite3.connect(self.url.database, isolation_level=None)
            shell.execute("BEGIN")
            try:
                yield lambda sql: shell.execute(sql).fetchall()
            finally:
                shell.execute("ROLLBACK")
                shell.close()
        else:
            owner = sa.create_engine(self.url)
            try:
                with owner.connect() as connection:
                    transaction = connection.begin()
                    try:
                        yield lambda sql: _rows(connection.exec_driver_sql(sql))
                    finally:
                        transaction.rollback()
            finally:
                owner.dispose()

    def try_statement(self, statement, filled) -> str | None:
        """What went wrong, if the statement was not refused."""
        try:
            with self.transaction() as execute:
                execute(statement)
                seen = {
                    table: [
                        tuple(row)
                        for row in execute(f'SELECT * FROM "{table}" ORDER BY id')
                    ]
                    for table in TABLES
                }
        except (sa.exc.DBAPIError, sqlite3.DatabaseError) as error:
            if re.search(REFUSED, str(error)):
                return None
            return f"{statement}: failed otherwise: {error}"
        changed = [
            table for table in TABLES if _text(seen[table]) != _text(filled[table])
        ]
        return f"{statement}: ran, changing {changed or 'nothing'}"


def _rows(result):
    return result.all() if result.returns_rows else []


def _text(rows) -> list[list[str]]:
    """Rows read raw (sqlite3) or through SQLAlchemy, alike."""
    return [[str(value) for value in row] for row in rows]


@pytest.mark.parametrize("who", ["app", "prompt"])
def test_no_statement_erases_or_replaces_a_record(app, owner_database_url, filled, who):
    prompt = Prompt(who, app, owner_database_url)
    let_through = [
        problem
        for statement in replacing_statements(dialect_of(app))
        if (problem := prompt.try_statement(statement, filled))
    ]
    assert let_through == [], "\n".join(let_through)
    assert snapshot(app) == filled


def dialect_of(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_an_upsert_of_a_clinical_record_is_at_most_an_update(
    app, owner_database_url, filled
):
    """PostgreSQL's ON CONFLICT DO UPDATE updates the row in place, as UPDATE
    may; SQLite refuses it (its guard refuses an insert of a taken id)."""
    if dialect_of(app) == "sqlite":
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with app.app_context(), db.engine.begin() as connection:
                connection.exec_driver_sql(upsert("trial"))
        assert snapshot(app) == filled
        return
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(upsert("trial"))
    after = snapshot(app)
    victim = VICTIM["trial"] - 1
    updated, before = (
        after["trial"][victim]._asdict(),
        filled["trial"][victim]._asdict(),
    )
    assert updated == before | {"notes": "forged"}
    after["trial"][victim] = filled["trial"][victim]
    assert after == filled


@pytest.mark.parametrize("who", ["app", "prompt"])
def test_clinical_records_may_still_be_updated(app, owner_database_url, filled, who):
    """Edits and voids are updates: the guards leave them alone."""
    statements = [
        "UPDATE trial SET notes = 'corrected' WHERE id = 1",
        "UPDATE patient SET void_reason = 'entered twice' WHERE id = 2",
        "UPDATE follow_up SET pain = 3 WHERE id = 1",
    ]
    prompt = Prompt(who, app, owner_database_url)
    with prompt.transaction() as execute:
        for statement in statements:
            execute(statement)
        rows = [
            execute("SELECT notes FROM trial WHERE id = 1"),
            execute("SELECT void_reason FROM patient WHERE id = 2"),
            execute("SELECT pain FROM follow_up WHERE id = 1"),
        ]
    assert [row[0][0] for row in rows] == ["corrected", "entered twice", 3]


def test_the_apps_sqlite_connections_refuse_replace_by_themselves(
    app, owner_database_url, filled
):
    """recursive_triggers: REPLACE fires the DELETE triggers, on every
    connection the app opens, even without the replace guards."""
    if dialect_of(app) != "sqlite":
        pytest.skip("SQLite's REPLACE")
    shell = sqlite3.connect(sa.make_url(owner_database_url).database)
    names = [
        name
        for (name,) in shell.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            " AND name LIKE '%refuses_replace%'"
        )
    ]
    assert len(names) == 7
    for name in names:
        shell.execute(f"DROP TRIGGER {name}")
    shell.close()
    statements = [
        f'{form} INTO "{table}" {forged_copy(table)}'
        for form in ("INSERT OR REPLACE", "REPLACE")
        for table in TABLES
    ] + [
        f'UPDATE OR REPLACE "{table}" SET id = {VICTIM[table]} '
        f"WHERE id = {OTHER[table]}"
        for table in TABLES
    ]
    app_connection = Prompt("app", app, owner_database_url)
    let_through = [
        problem
        for statement in statements
        if (problem := app_connection.try_statement(statement, filled))
    ]
    assert let_through == [], "\n".join(let_through)
    # The sqlite3 shell, without the setting, is stopped by the guards only.
    shell = Prompt("prompt", app, owner_database_url)
    assert shell.try_statement(statements[0], filled) is not None
