"""Patient codes unique regardless of case; create forms' one-time keys

``PF-0001`` and ``pf-0001`` name the same patient to a reader, so the
database refuses a second code that differs from one in use only by case
(a unique index on ``lower(code)``; trimming is the form's and the import's).
A database that already holds such a pair is not changed at all: the
upgrade stops first and names the pairs, to be corrected on the patient
pages before upgrading again.

``form_submission`` holds the one-time key of each saved create form
(:mod:`tracker.web.once`).

Revision ID: a7d3e5c1b920
Revises: 3b7c2e91d0a4
Create Date: 2026-12-03 13:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

from tracker.storage.schema import MigrationRefused

# revision identifiers, used by Alembic.
revision = "a7d3e5c1b920"
down_revision = "3b7c2e91d0a4"
branch_labels = None
depends_on = None


def upgrade():
    _refuse_codes_differing_only_by_case()
    op.create_index(
        "uq_patient_code_any_case",
        "patient",
        [sa.text("lower(code)")],
        unique=True,
    )
    op.create_table(
        "form_submission",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("table_name", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_form_submission_user_id_user")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_form_submission")),
    )


def downgrade():
    op.drop_table("form_submission")
    op.drop_index("uq_patient_code_any_case", table_name="patient")


def _refuse_codes_differing_only_by_case():
    rows = op.get_bind().execute(
        sa.text(
            "SELECT code FROM patient WHERE lower(code) IN "
            "(SELECT lower(code) FROM patient GROUP BY lower(code) "
            "HAVING count(*) > 1) ORDER BY lower(code), code"
        )
    )
    groups: dict[str, list[str]] = {}
    for (code,) in rows:
        groups.setdefault(code.lower(), []).append(code)
    if groups:
        pairs = "; ".join(" / ".join(codes) for codes in groups.values())
        raise MigrationRefused(
            f"{len(groups)} patient code(s) differ only by case: {pairs}. "
            "Give one patient of each a new code (Edit patient, saying why), "
            "then upgrade again. Nothing was changed."
        )
