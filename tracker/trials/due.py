"""The follow-ups-due list: trials still without an outcome, by follow-up status.

The status is worked out by the database from the dates, with the boundaries
of :func:`analysis.follow_up.status_window`, so the list can filter, count and
page by it; it is never stored. The ``report-links`` command lists the same
trials.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form
from wtforms.validators import Optional

from analysis.follow_up import FollowUpStatus, status_window

from ..extensions import db
from ..labels import FOLLOW_UP_STATUSES, INTERVENTIONS
from ..models import FollowUp, Patient, ReportLink, Trial
from ..settings import ClinicSettings
from ..storage.sql import days_between
from ..web.forms import choice_field

#: The statuses a trial without an outcome can have.
WITHOUT_OUTCOME = (
    FollowUpStatus.AWAITING,
    FollowUpStatus.DUE,
    FollowUpStatus.OVERDUE,
    FollowUpStatus.LOST,
)
#: What the list's status filter offers; blank (the default): due and overdue.
STATUS_CHOICES = {
    FollowUpStatus.DUE.value: FOLLOW_UP_STATUSES["due"],
    FollowUpStatus.OVERDUE.value: FOLLOW_UP_STATUSES["overdue"],
    FollowUpStatus.AWAITING.value: FOLLOW_UP_STATUSES["awaiting"],
    FollowUpStatus.LOST.value: FOLLOW_UP_STATUSES["lost"],
    "all": "All still without an outcome",
}
DEFAULT_STATUSES = (FollowUpStatus.DUE, FollowUpStatus.OVERDUE)
#: Whether a trial's report link is out with the patient, was used, or neither.
REPORT_LINK_STATES = {
    "out": "Out",
    "expired": "Out, expired",
    "used": "Used",
    "none": "None",
}


@dataclass(frozen=True)
class DueFilters:
    """Which trials without an outcome the list shows."""

    statuses: tuple[str, ...] = DEFAULT_STATUSES
    intervention: str | None = None
    #: Only the trials this user recorded ("my patients").
    recorded_by_id: int | None = None


class DueFilterForm(Form):
    """The list's filters in a query string; no CSRF token, filters change nothing."""

    status = choice_field(
        "Follow-up status",
        STATUS_CHOICES,
        blank="Due and overdue",
        validators=[Optional()],
        invalid_choice_message="Choose one of the listed statuses.",
    )
    intervention = choice_field(
        "Aid",
        INTERVENTIONS,
        blank="All aids",
        validators=[Optional()],
        invalid_choice_message="Choose insoles, taping or a knee brace.",
    )
    mine = BooleanField("Only my patients (trials I recorded)")

    @classmethod
    def from_args(cls, args: MultiDict) -> DueFilterForm:
        """The filters in a request's query string, validated."""
        form = cls(args)
        form.validate()
        return form

    def filters(self, user_id: int) -> DueFilters | None:
        """The filters the form holds for ``user_id``, or None while one is invalid."""
        if self.errors:
            return None
        if not self.status.data:
            statuses = DEFAULT_STATUSES
        elif self.status.data == "all":
            statuses = WITHOUT_OUTCOME
        else:
            statuses = (self.status.data,)
        return DueFilters(
            statuses=statuses,
            intervention=self.intervention.data or None,
            recorded_by_id=user_id if self.mine.data else None,
        )

    def as_args(self) -> dict[str, str]:
        """The valid, non-empty filters, for links that keep them."""
        if self.errors:
            return {}
        args = {
            "status": self.status.data or "",
            "intervention": self.intervention.data or "",
            "mine": "y" if self.mine.data else "",
        }
        return {key: value for key, value in args.items() if value}


#: The tables, not the entities, in subqueries about a trial already chosen:
#: the site criteria (:mod:`tracker.sites.scope`) apply to the trial, and
#: would otherwise be checked again for each of its follow-ups and links.
_FOLLOW_UP, _REPORT_LINK = FollowUp.__table__.c, ReportLink.__table__.c


def has_outcome(settings: ClinicSettings) -> sa.Exists:
    """Whether the trial has a current follow-up at or after the minimum week."""
    return (
        sa.select(_FOLLOW_UP.id)
        .where(
            _FOLLOW_UP.trial_id == Trial.id,
            _FOLLOW_UP.voided_at.is_(None),
            days_between(_FOLLOW_UP.follow_up_date, Trial.trial_date)
            >= settings.follow_up_minimum_weeks * 7,
        )
        .exists()
    )


def status_of(settings: ClinicSettings, today: date) -> sa.ColumnElement[str]:
    """A trial's follow-up status on ``today``, for trials without an outcome."""
    first, last = status_window(
        settings.follow_up_minimum_weeks, settings.follow_up_due_weeks
    )
    days = days_between(sa.literal(today, sa.Date), Trial.trial_date)
    return sa.case(
        (Trial.lost_at.is_not(None), FollowUpStatus.LOST.value),
        (days < first, FollowUpStatus.AWAITING.value),
        (days <= last, FollowUpStatus.DUE.value),
        else_=FollowUpStatus.OVERDUE.value,
    )


def report_link_state(settings: ClinicSettings, today: date) -> sa.ColumnElement[str]:
    """``out``: the trial has an open link (``expired`` once it no longer
    works, as :func:`tracker.patient_reports.links.usable` has it); else
    ``used`` if one was used; ``none``."""

    def any_link(*conditions) -> sa.Exists:
        return sa.exists().where(_REPORT_LINK.trial_id == Trial.id, *conditions)

    is_open = (_REPORT_LINK.revoked_at.is_(None), _REPORT_LINK.used_at.is_(None))
    days = days_between(sa.literal(today, sa.Date), Trial.trial_date)
    return sa.case(
        (any_link(*is_open) & (days > settings.report_link_weeks * 7), "expired"),
        (any_link(*is_open), "out"),
        (any_link(_REPORT_LINK.used_at.is_not(None)), "used"),
        else_="none",
    )


def due_query(filters: DueFilters, settings: ClinicSettings, today: date) -> sa.Select:
    """Current trials without an outcome matching ``filters``, by due date, patient.

    The due date is the trial date plus the same number of weeks for every
    trial, so the trial date orders them.
    """
    query = (
        sa.select(Trial)
        .join(Trial.patient)
        .options(contains_eager(Trial.patient))
        .where(
            ~has_outcome(settings),
            status_of(settings, today).in_([str(s) for s in filters.statuses]),
            Trial.voided_at.is_(None),
            Patient.voided_at.is_(None),
        )
        .order_by(Trial.trial_date, Patient.code, Trial.id)
    )
    if filters.intervention:
        query = query.where(Trial.intervention == filters.intervention)
    if filters.recorded_by_id is not None:
        query = query.where(Trial.recorded_by_id == filters.recorded_by_id)
    return query


@dataclass(frozen=True)
class DueRow:
    """One line of the list: the trial, its status and its report link's state."""

    trial: Trial
    status: str
    report_link: str


def due_rows(
    trials: Iterable[Trial], settings: ClinicSettings, today: date
) -> list[DueRow]:
    """The status and report-link state of a page of trials, in one query."""
    trials = list(trials)
    found = {
        trial_id: (status, link)
        for trial_id, status, link in db.session.execute(
            sa.select(
                Trial.id, status_of(settings, today), report_link_state(settings, today)
            ).where(Trial.id.in_([trial.id for trial in trials]))
        )
    }
    return [DueRow(trial, *found[trial.id]) for trial in trials]
