"""The clinic's records: patients, trials of an aid, and their follow-ups.

Patients are pseudonymous: a clinic code and a few clinical facts, never a
name, address or phone number. Verdicts are not stored; they are computed by
:mod:`analysis.rule` from the stored scores whenever they are shown.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from analysis.follow_up import FollowUpStatus, follow_up_status
from analysis.rule import GLOBAL_RATINGS, FollowUpDate, Verdict, choose_outcome
from analysis.rule import verdict as rule_verdict

from ..extensions import db
from ..labels import ACTIVITIES, FOLLOW_UP_SOURCES, INTERVENTIONS, SEXES, SIDES
from .common import (
    CODE_MAX,
    PRODUCT_MAX,
    REASON_MAX,
    ClinicalRecord,
    _one_of,
    _pain_score,
)
from .sites import DEFAULT_SITE_ID, Site


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
    site_id: Mapped[int] = mapped_column(
        sa.ForeignKey("site.id"),
        index=True,
        default=DEFAULT_SITE_ID,
        server_default=str(DEFAULT_SITE_ID),
    )
    site: Mapped[Site] = relationship()
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
