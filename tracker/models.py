"""The clinic's records: patients, trials of an aid, and their follow-ups.

Patients are pseudonymous: a clinic code and a few clinical facts, never a
name, address or phone number. Verdicts are not stored; they are computed by
:mod:`analysis.rule` from the stored scores whenever they are shown.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from analysis.follow_up import FollowUpStatus, follow_up_status
from analysis.rule import GLOBAL_RATINGS, FollowUpDate, Verdict, choose_outcome
from analysis.rule import verdict as rule_verdict

from .extensions import db
from .labels import (
    ACTIVITIES,
    FOLLOW_UP_SOURCES,
    INTERVENTIONS,
    ROLES,
    SEXES,
    SIDES,
)

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


class User(UserMixin, db.Model):
    """A clinic account. Deactivated, never deleted: its records keep its name."""

    __table_args__ = (sa.CheckConstraint(_one_of("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(USERNAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    #: Flask-Login's alternative id: a new token ends every existing session.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    #: The RFC 6238 secret (base32) of an enrolled second factor, else None.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    #: The time step of the last code accepted: no code is accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_token

    def end_sessions(self) -> None:
        """Invalidate every session this user has, on every device."""
        self.session_token = new_session_token()


class RecoveryCode(db.Model):
    """One of a user's single-use codes for signing in without their phone."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: SHA-256 of the code: the codes are random, so a slow hash adds nothing.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


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


class LoginAttempt(db.Model):
    """A login attempt, so throttling holds across server processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_username", "username", "at"),
        sa.Index("ix_login_attempt_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    username: Mapped[str] = mapped_column(sa.String(USERNAME_MAX))
    address: Mapped[str] = mapped_column(sa.String(64))
    succeeded: Mapped[bool]


class ClinicSetting(db.Model):
    """A clinic setting an admin changed in the browser; the config gives the rest."""

    __tablename__ = "clinic_setting"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[object] = mapped_column(sa.JSON)


class Patient(ClinicalRecord, db.Model):
    """A patient known to the clinic only by a pseudonymous code."""

    __table_args__ = (
        sa.CheckConstraint(_one_of("sex", SEXES), name="sex_known"),
        sa.CheckConstraint(_one_of("affected_side", SIDES), name="side_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_MAX), unique=True)
    birth_year: Mapped[int | None]
    sex: Mapped[str | None] = mapped_column(sa.String(10))
    affected_side: Mapped[str | None] = mapped_column(sa.String(10))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    trials: Mapped[list[Trial]] = relationship(
        back_populates="patient", order_by="(Trial.trial_date, Trial.id)"
    )

    @property
    def current_trials(self) -> list[Trial]:
        """The trials that have not been voided."""
        return [t for t in self.trials if not t.voided]


# "PF-0001" and "pf-0001" would name one patient to a reader.
sa.Index("uq_patient_code_any_case", sa.func.lower(Patient.code), unique=True)


class Trial(ClinicalRecord, db.Model):
    """One try of an aid: pain during an activity without it, then with it."""

    __table_args__ = (
        _pain_score("pain_without"),
        _pain_score("pain_with"),
        sa.CheckConstraint(
            _one_of("intervention", INTERVENTIONS), name="intervention_known"
        ),
        sa.CheckConstraint(_one_of("activity", ACTIVITIES), name="activity_known"),
        sa.Index("ix_trial_patient_date", "patient_id", "trial_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    trial_date: Mapped[date]
    intervention: Mapped[str] = mapped_column(sa.String(10))
    product: Mapped[str] = mapped_column(sa.String(PRODUCT_MAX), default="")
    activity: Mapped[str] = mapped_column(sa.String(20))
    activity_other: Mapped[str] = mapped_column(sa.String(PRODUCT_MAX), default="")
    pain_without: Mapped[int] = mapped_column(sa.SmallInteger)
    pain_with: Mapped[int] = mapped_column(sa.SmallInteger)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: Marked lost to follow-up by a therapist (with the reason); None if not.
    lost_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    lost_reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX))
    patient: Mapped[Patient] = relationship(back_populates="trials")
    #: Loaded with the trials, in one query for all of them: pages list a
    #: patient's trials with each one's outcome.
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="trial",
        order_by="(FollowUp.follow_up_date, FollowUp.id)",
        lazy="selectin",
    )

    @property
    def current_follow_ups(self) -> list[FollowUp]:
        """The follow-ups that have not been voided."""
        return [f for f in self.follow_ups if not f.voided]

    @property
    def lost(self) -> bool:
        """Whether a therapist marked the trial lost to follow-up."""
        return self.lost_at is not None

    def follow_up_status(
        self, minimum_weeks: int, due_weeks: int, today: date | None = None
    ) -> FollowUpStatus:
        """Where the trial stands with its outcome follow-up, as of ``today``."""
        return follow_up_status(
            self.trial_date,
            self.outcome(minimum_weeks, due_weeks) is not None,
            self.lost,
            today or date.today(),
            minimum_weeks,
            due_weeks,
        )

    @property
    def worse_with_aid(self) -> bool:
        """Whether the aid made the activity more painful."""
        return self.pain_with > self.pain_without

    @property
    def activity_label(self) -> str:
        """The activity as a therapist would name it."""
        if self.activity == "other":
            return self.activity_other
        return ACTIVITIES[self.activity]

    def verdict(self, criterion: str) -> Verdict:
        """The immediate-relief rule's verdict under the clinic's criterion."""
        return rule_verdict(self.pain_without, self.pain_with, criterion)

    def outcome(self, minimum_weeks: int, due_weeks: int) -> FollowUp | None:
        """The follow-up that counts as this trial's long-term outcome."""
        by_id = {f.id: f for f in self.current_follow_ups}
        chosen = choose_outcome(
            self.trial_date,
            (FollowUpDate(f.id, f.follow_up_date) for f in by_id.values()),
            minimum_weeks,
            due_weeks,
        )
        return by_id[chosen.id] if chosen else None


class FollowUp(ClinicalRecord, db.Model):
    """The patient seen again after some weeks with the aid."""

    __tablename__ = "follow_up"
    __table_args__ = (
        _pain_score("pain"),
        sa.CheckConstraint(
            _one_of("global_rating", GLOBAL_RATINGS), name="rating_known"
        ),
        sa.CheckConstraint(_one_of("source", FOLLOW_UP_SOURCES), name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(sa.ForeignKey("trial.id"), index=True)
    follow_up_date: Mapped[date]
    pain: Mapped[int] = mapped_column(sa.SmallInteger)
    still_using: Mapped[bool]
    global_rating: Mapped[str] = mapped_column(sa.String(20))
    #: ``clinic`` (a therapist saw the patient) or ``patient`` (reported by link).
    source: Mapped[str] = mapped_column(
        sa.String(10), default="clinic", server_default="clinic"
    )
    trial: Mapped[Trial] = relationship(back_populates="follow_ups")

    @property
    def weeks_after_trial(self) -> float:
        """Weeks between the trial and this follow-up."""
        return (self.follow_up_date - self.trial.trial_date).days / 7


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
