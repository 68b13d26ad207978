"""Refuse replacing rows (SQLite) and TRUNCATE (PostgreSQL)

The triggers of 064268f65f4e refuse UPDATE and DELETE row by row, which
left two ways round them. On SQLite, REPLACE (``INSERT OR REPLACE``,
``REPLACE``, ``UPDATE OR REPLACE``) deletes the row in its way without
firing DELETE triggers (unless the connection set ``recursive_triggers``,
which the app's connections do but the ``sqlite3`` shell does not); here,
an insert or an id change that would take an existing row's id (or a
patient's code) is refused. This refuses SQLite's upsert of a clinical
record too, which the app never uses. On PostgreSQL, TRUNCATE fires no
row-level trigger; here, a statement-level one refuses it.

Revision ID: f64500aa5889
Revises: 064268f65f4e
Create Date: 2026-12-02 07:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f64500aa5889"
down_revision = "064268f65f4e"
branch_labels = None
depends_on = None

MESSAGE = "audit trail is append-only and clinical records are voided, not deleted"
GUARDED = ("audit_event", "patient", "trial", "follow_up")
#: SQLite: the unique columns whose taken value an insert or update must not
#: claim, per table. audit_event refuses every UPDATE already.
UNIQUE = {
    "audit_event": ("id",),
    "patient": ("id", "code"),
    "trial": ("id",),
    "follow_up": ("id",),
}


def upgrade():
    create_guards()


def downgrade():
    drop_guards()


def _sqlite_triggers() -> dict[str, str]:
    """Each SQLite trigger's name and its CREATE statement.

    A SQLite batch migration that rebuilds one of these tables drops its
    triggers: recreate them after (those of 064268f65f4e too).
    """
    triggers = {}
    for table, columns in UNIQUE.items():
        taken = " OR ".join(f"{column} = NEW.{column}" for column in columns)
        refuse = f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        name = f"{table}_refuses_replace_on_insert"
        triggers[name] = (
            f'CREATE TRIGGER {name} BEFORE INSERT ON "{table}" '
            f'WHEN EXISTS (SELECT 1 FROM "{table}" WHERE {taken}) {refuse}'
        )
        if table == "audit_event":
            continue
        name = f"{table}_refuses_replace_on_update"
        triggers[name] = (
            f"CREATE TRIGGER {name} BEFORE UPDATE OF {', '.join(columns)} "
            f'ON "{table}" WHEN EXISTS (SELECT 1 FROM "{table}" '
            f"WHERE ({taken}) AND id IS NOT OLD.id) {refuse}"
        )
    return triggers


def create_guards():
    if op.get_bind().dialect.name == "postgresql":
        for table in GUARDED:
            op.execute(
                f'CREATE TRIGGER {table}_refuses_truncate BEFORE TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
            )
        return
    for statement in _sqlite_triggers().values():
        op.execute(statement)


def drop_guards():
    if op.get_bind().dialect.name == "postgresql":
        for table in GUARDED:
            op.execute(f'DROP TRIGGER {table}_refuses_truncate ON "{table}"')
        return
    for name in _sqlite_triggers():
        op.execute(f"DROP TRIGGER {name}")
