"""What every table shares: field sizes, timestamps, voiding instead of deleting."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

if TYPE_CHECKING:
    from .accounts import User

CODE_MAX = 40
PRODUCT_MAX = 200
NOTES_MAX = 2000
USERNAME_MAX = 80
REASON_MAX = 500
#: Hex digits of a form's one-time submission key.
SUBMISSION_KEY_LENGTH = 32


def utcnow() -> datetime:
    """The current time in UTC, for record timestamps."""
    return datetime.now(UTC)


def new_session_token() -> str:
    """A random token naming one generation of a user's sessions."""
    return secrets.token_urlsafe(32)


def _one_of(column: str, values) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def _pain_score(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} BETWEEN 0 AND 10", name=f"{column}_0_to_10")


class ClinicalRecord:
    """Who entered a record and whether it was voided; nothing is deleted."""

    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    voided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX))

    @declared_attr
    def recorded_by(cls) -> Mapped[User | None]:
        return relationship(foreign_keys=[cls.recorded_by_id])

    @property
    def voided(self) -> bool:
        """Whether the record was voided (hidden from lists, rates and exports)."""
        return self.voided_at is not None

    @property
    def closed_by(self) -> ClinicalRecord | None:
        """The voided record that closes this one to changes, or None.

        A record closes with itself, its trial or its patient: nothing is
        added to or edited in what was voided.
        """
        record = self
        while record is not None:
            if record.voided:
                return record
            record = getattr(record, "trial", None) or getattr(record, "patient", None)
        return None
