"""Follow-up capture: who reported a follow-up, lost trials, report links

A follow-up gets its ``source`` (``clinic``, as every existing one was, or
``patient``); a trial can be marked lost to follow-up; report links and the
refused requests to them (the throttle) get tables of their own.

On SQLite the new columns are added with ``ALTER TABLE ... ADD COLUMN``, not
by rebuilding the tables (batch mode), which would drop the triggers that
guard them.

Revision ID: 3b7c2e91d0a4
Revises: f64500aa5889
Create Date: 2026-12-02 13:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3b7c2e91d0a4"
down_revision = "f64500aa5889"
branch_labels = None
depends_on = None

SOURCE_CHECK = "source IN ('clinic', 'patient')"


def upgrade():
    op.add_column(
        "trial", sa.Column("lost_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "trial", sa.Column("lost_reason", sa.String(length=500), nullable=True)
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE follow_up ADD COLUMN source VARCHAR(10) DEFAULT 'clinic' "
            f"NOT NULL CONSTRAINT ck_follow_up_source_known CHECK ({SOURCE_CHECK})"
        )
    else:
        op.add_column(
            "follow_up",
            sa.Column(
                "source", sa.String(length=10), server_default="clinic", nullable=False
            ),
        )
        op.create_check_constraint(
            "ck_follow_up_source_known", "follow_up", SOURCE_CHECK
        )
    op.create_table(
        "report_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_report_link_created_by_id_user"),
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_up.id"],
            name=op.f("fk_report_link_follow_up_id_follow_up"),
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trial.id"], name=op.f("fk_report_link_trial_id_trial")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_link")),
    )
    op.create_index(
        op.f("ix_report_link_trial_id"), "report_link", ["trial_id"], unique=False
    )
    op.create_table(
        "report_link_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_link_refusal")),
    )
    op.create_index(
        "ix_report_link_refusal_address",
        "report_link_refusal",
        ["address", "at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_report_link_refusal_address", table_name="report_link_refusal")
    op.drop_table("report_link_refusal")
    op.drop_index(op.f("ix_report_link_trial_id"), table_name="report_link")
    op.drop_table("report_link")
    # SQLite (3.35 and later) drops a column in place, keeping the triggers.
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_follow_up_source_known", "follow_up", type_="check")
    op.execute("ALTER TABLE follow_up DROP COLUMN source")
    op.execute("ALTER TABLE trial DROP COLUMN lost_reason")
    op.execute("ALTER TABLE trial DROP COLUMN lost_at")
