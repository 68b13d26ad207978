"""Sites: each patient belongs to one, each user works at some or at all

A default site, "Main clinic", is created and given every existing patient
and every existing therapist and reviewer (admins see every site), so a
single clinic notices nothing. Users get the sites they work at
(``user_site``) and ``all_sites``.

On SQLite the patient's site is added with ``ALTER TABLE ... ADD COLUMN``
(no rebuild, which would drop the triggers that guard the table); env.py
runs SQLite's migrations with foreign-key enforcement off, which that
statement needs, and checks every reference before committing.

Revision ID: d8e2b6f0a1c5
Revises: c4f1a9e2b7d3
Create Date: 2026-12-04
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d8e2b6f0a1c5"
down_revision = "c4f1a9e2b7d3"
branch_labels = None
depends_on = None

DEFAULT_SITE_ID = 1
DEFAULT_SITE_NAME = "Main clinic"


def upgrade():
    site = op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    op.create_index(
        "uq_site_name_any_case", "site", [sa.text("lower(name)")], unique=True
    )
    op.bulk_insert(
        site,
        [
            {
                "id": DEFAULT_SITE_ID,
                "name": DEFAULT_SITE_NAME,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The id was given: the sequence must start after it.
        op.execute("SELECT setval(pg_get_serial_sequence('site', 'id'), 1)")
    op.create_table(
        "user_site",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_user_site_site_id_site")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_site_user_id_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "site_id", name=op.f("pk_user_site")),
    )
    op.create_index(
        op.f("ix_user_site_site_id"), "user_site", ["site_id"], unique=False
    )
    op.add_column(
        "user",
        sa.Column("all_sites", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Everyone keeps seeing every patient: all of them are at the one site.
    op.execute(
        f"INSERT INTO user_site (user_id, site_id) SELECT id, {DEFAULT_SITE_ID} "
        """FROM "user" WHERE role != 'admin'"""
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE patient ADD COLUMN site_id INTEGER DEFAULT "
            f"{DEFAULT_SITE_ID} NOT NULL CONSTRAINT fk_patient_site_id_site "
            "REFERENCES site (id)"
        )
    else:
        op.add_column(
            "patient",
            sa.Column(
                "site_id",
                sa.Integer(),
                server_default=str(DEFAULT_SITE_ID),
                nullable=False,
            ),
        )
        op.create_foreign_key(
            op.f("fk_patient_site_id_site"), "patient", "site", ["site_id"], ["id"]
        )
    op.create_index(op.f("ix_patient_site_id"), "patient", ["site_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_patient_site_id"), table_name="patient")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_patient_site_id_site"), "patient", "foreignkey")
    # SQLite (3.35 and later) drops a column in place, keeping the triggers.
    op.execute("ALTER TABLE patient DROP COLUMN site_id")
    op.execute('ALTER TABLE "user" DROP COLUMN all_sites')
    op.drop_index(op.f("ix_user_site_site_id"), table_name="user_site")
    op.drop_table("user_site")
    op.drop_index("uq_site_name_any_case", table_name="site")
    op.drop_table("site")
