"""The tracker's own records: the audit trail, settings, report links, forms."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .clinical import Trial
from .common import REASON_MAX, SUBMISSION_KEY_LENGTH, USERNAME_MAX, utcnow


class AuditEvent(db.Model):
    """One entry of the append-only audit trail; the database refuses changes."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_record", "table_name", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The name as it was, so the trail reads without joins.
    username: Mapped[str | None] = mapped_column(sa.String(USERNAME_MAX))
    action: Mapped[str] = mapped_column(sa.String(30))
    table_name: Mapped[str | None] = mapped_column(sa.String(30))
    record_id: Mapped[int | None]
    #: For records: ``{field: [old, new]}``; for other events, what happened.
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX))

    user: Mapped[User | None] = relationship()


class ClinicSetting(db.Model):
    """A clinic setting an admin changed in the browser; the config gives the rest."""

    __tablename__ = "clinic_setting"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[object] = mapped_column(sa.JSON)


class ReportLink(db.Model):
    """A single-use link a patient opens from home to report their follow-up.

    The link's token is an HMAC of its id and ``nonce`` under the app's secret
    key (:mod:`tracker.reports.links`): the sheet can print it again, and
    nothing stored here is enough to make or use one.
    """

    __tablename__ = "report_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(sa.ForeignKey("trial.id"), index=True)
    nonce: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: The follow-up the patient's report created.
    follow_up_id: Mapped[int | None] = mapped_column(sa.ForeignKey("follow_up.id"))
    trial: Mapped[Trial] = relationship()

    @property
    def open(self) -> bool:
        """Neither revoked nor used (it may still have expired)."""
        return self.revoked_at is None and self.used_at is None


class ReportLinkRefusal(db.Model):
    """A refused request to a report link, so guessing is throttled per address."""

    __tablename__ = "report_link_refusal"
    __table_args__ = (sa.Index("ix_report_link_refusal_address", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    address: Mapped[str] = mapped_column(sa.String(64))


class FormSubmission(db.Model):
    """A create form's one-time key and the record its first submission made.

    A double tap posts the same form twice; the key's primary key lets only
    one of them save (:mod:`tracker.web.once`).
    """

    __tablename__ = "form_submission"

    key: Mapped[str] = mapped_column(sa.String(SUBMISSION_KEY_LENGTH), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(30))
    record_id: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
