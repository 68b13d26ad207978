"""The trials export: one row per trial, its outcome follow-up in its columns."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa

from analysis.follow_up import follow_up_status
from analysis.rule import (
    GLOBAL_RATINGS,
    FollowUpDate,
    choose_outcome,
    is_long_term_benefit,
    verdict,
)

from ..models import FollowUp, Patient, Site, Trial, User
from ..reporting.filters import TrialFilters
from ..settings import ClinicSettings
from ..storage.sql import utc_text
from .cells import _blank, _weeks, _yes_no, age_band, formula_guard
from .columns import DEIDENTIFIED_TRIAL_COLUMNS, TRIAL_COLUMNS, Level, _check_level
from .streaming import Export, _stream

_EPOCH = date(2000, 1, 1)
_NO_FOLLOW_UP = ("", "", "", "", "")
_RELIEF_VALUES = {"immediate_relief": "yes", "no_immediate_relief": "no"}


class _Rule:
    """The clinic's verdicts and outcome choice, worked out once per export."""

    def __init__(self, settings: ClinicSettings):
        self.settings = settings
        self.criterion = settings.relief_criterion
        self.benefit_definition = settings.benefit_definition
        # 121 possible score pairs: the rule is asked once for each.
        self.reliefs = {}
        for without in range(11):
            for with_aid in range(11):
                found = verdict(without, with_aid, self.criterion)
                self.reliefs[without, with_aid] = (
                    self.criterion,
                    _RELIEF_VALUES.get(found.value, found.value),
                    found.prediction,
                )

        self.benefits = {
            rating: _yes_no(is_long_term_benefit(rating, settings.benefit_definition))
            for rating in GLOBAL_RATINGS
        }
        self.outcomes: dict[tuple[int, ...], int | None] = {}
        #: The day the follow-up statuses are worked out for, one for the file.
        self.today = date.today()

    def relief(self, pain_without: int, pain_with: int) -> tuple[str, str, str]:
        """The criterion, ``immediate_relief`` (yes/no/not_assessable), prediction."""
        return self.reliefs[pain_without, pain_with]

    def outcome(self, trial_date: date, follow_ups: Sequence) -> int | None:
        """The outcome's ``followup_id`` among rows with ``followup_date``s."""
        if not follow_ups:
            return None
        # A list, not a generator: quicker for the one or two a trial has.
        days = tuple([(f.followup_date - trial_date).days for f in follow_ups])
        if days not in self.outcomes:
            # The choice depends on the days since the trial alone, so the
            # rule is asked once per pattern of days, not once per trial.
            chosen = choose_outcome(
                _EPOCH,
                (FollowUpDate(i, _EPOCH + timedelta(d)) for i, d in enumerate(days)),
                self.settings.follow_up_minimum_weeks,
                self.settings.follow_up_due_weeks,
            )
            self.outcomes[days] = None if chosen is None else chosen.id
        index = self.outcomes[days]
        return None if index is None else follow_ups[index].followup_id

    def benefit(self, rating: str) -> str:
        return self.benefits[rating]

    def status(self, trial_date: date, has_outcome: bool, lost: bool) -> str:
        """The trial's ``follow_up_status`` today (awaiting, due ... lost)."""
        return follow_up_status(
            trial_date,
            has_outcome,
            lost,
            self.today,
            self.settings.follow_up_minimum_weeks,
            self.settings.follow_up_due_weeks,
        ).value


def _first_trial_date(level: Level) -> sa.ColumnElement:
    """The patient's first current trial: day 0 of the de-identified files.

    Correlated, so it is one index lookup per row; a full export needs none.
    """
    if level == "full":
        return sa.null()
    earlier = sa.orm.aliased(Trial)
    return (
        sa.select(sa.func.min(earlier.trial_date))
        .where(earlier.patient_id == Trial.patient_id, earlier.voided_at.is_(None))
        .scalar_subquery()
    )


def _filter_details(filters: TrialFilters, include_voided: bool) -> dict:
    args = {k: v for k, v in filters.as_args().items() if k != "unit"}
    return {"filters": args, "include_voided": include_voided}


def _trial_columns(level: Level) -> dict[str, sa.ColumnElement]:
    """The trial export's columns, by the names its rows are read with."""
    return {
        "trial_id": Trial.id,
        "patient_id": Trial.patient_id,
        "patient_code": Patient.code,
        "birth_year": Patient.birth_year,
        "sex": Patient.sex,
        "affected_side": Patient.affected_side,
        "trial_date": Trial.trial_date,
        "intervention": Trial.intervention,
        "product": Trial.product,
        "activity": Trial.activity,
        "activity_other": Trial.activity_other,
        "pain_without": Trial.pain_without,
        "pain_with": Trial.pain_with,
        "notes": Trial.notes,
        "lost": Trial.lost_at.is_not(None),
        "lost_reason": Trial.lost_reason,
        "recorded_by": User.username,
        "recorded_at": utc_text(Trial.created_at),
        "trial_void_reason": Trial.void_reason,
        "patient_void_reason": Patient.void_reason,
        "voided": sa.or_(Trial.voided_at.is_not(None), Patient.voided_at.is_not(None)),
        "first_trial_date": _first_trial_date(level),
        # None when the trial has no current follow-up.
        "followup_id": FollowUp.id,
        "followup_date": FollowUp.follow_up_date,
        "followup_pain": FollowUp.pain,
        "still_using": FollowUp.still_using,
        "followup_rating": FollowUp.global_rating,
        "followup_source": FollowUp.source,
        "site": Site.name,
    }


#: A row of :func:`trials_query`, read by name (see :func:`.streaming._stream`): a
#: trial and one of its current follow-ups.
_TrialRow = namedtuple("_TrialRow", _trial_columns("full"))


def trials_query(
    filters: TrialFilters, include_voided: bool = False, level: Level = "full"
) -> sa.Select:
    """The trial export's one query: a row per trial and current follow-up.

    Its columns are labelled as :data:`_TrialRow`'s fields. Ordered by
    patient, then trial date, so each trial's rows come together and each
    patient's trials in the order they happened.
    """
    columns = _trial_columns(level)
    query = (
        sa.select(*(column.label(name) for name, column in columns.items()))
        .select_from(Trial)
        .join(Trial.patient)
        .join(Site, Site.id == Patient.site_id)
        .outerjoin(User, Trial.recorded_by_id == User.id)
        .outerjoin(
            FollowUp,
            sa.and_(FollowUp.trial_id == Trial.id, FollowUp.voided_at.is_(None)),
        )
    )
    query = filters.apply(query, include_voided=include_voided).order_by(
        Trial.patient_id, Trial.trial_date, Trial.id, FollowUp.id
    )
    return query


def trials_export(
    filters: TrialFilters,
    settings: ClinicSettings,
    level: Level = "full",
    include_voided: bool = False,
) -> Export:
    """The trial file: one row per trial, the outcome follow-up in its columns.

    A trial's ``followup_*`` columns hold its outcome follow-up (see
    :func:`analysis.rule.choose_outcome`) or, if none counts as the outcome
    yet, its latest follow-up; every follow-up is in the ``followups`` export.
    ``follow_up_status`` is the trial's on the day of the export.
    """
    _check_level(level, include_voided)
    rule = _Rule(settings)
    query = trials_query(filters, include_voided, level)
    make_row = _full_trial_row if level == "full" else _deidentified_trial_row()

    def row_for(trial, follow_ups):
        if not follow_ups:
            return make_row(trial, 0, None, False, rule)
        outcome_id = rule.outcome(trial.trial_date, follow_ups)
        if len(follow_ups) == 1:
            shown = follow_ups[0]
        else:
            shown = next(
                (f for f in follow_ups if f.followup_id == outcome_id),
                max(follow_ups, key=lambda f: (f.followup_date, f.followup_id)),
            )
        is_outcome = shown.followup_id == outcome_id
        return make_row(trial, len(follow_ups), shown, is_outcome, rule)

    def rows():
        # Rows of one trial (one per current follow-up) come together: the
        # trial's columns are read from the last, each follow-up's from its own.
        trial, follow_ups = None, []
        for row in _stream(query, _TrialRow):
            if trial is not None and row.trial_id != trial.trial_id:
                yield row_for(trial, follow_ups)
                follow_ups = []
            trial = row
            if row.followup_id is not None:
                follow_ups.append(row)
        if trial is not None:
            yield row_for(trial, follow_ups)

    header = TRIAL_COLUMNS if level == "full" else DEIDENTIFIED_TRIAL_COLUMNS
    counted = filters.apply(
        sa.select(Trial.id).join(Trial.patient), include_voided=include_voided
    )
    return Export(
        "trials",
        level,
        header,
        rows(),
        _filter_details(filters, include_voided),
        counted,
    )


def _outcome_columns(trial, shown, is_outcome: bool, rule: _Rule) -> list:
    criterion, relief, prediction = rule.relief(trial.pain_without, trial.pain_with)
    if not is_outcome:
        return [criterion, relief, prediction, "", "", rule.benefit_definition]
    return [
        criterion,
        relief,
        prediction,
        _weeks(shown.followup_date, trial.trial_date),
        rule.benefit(shown.followup_rating),
        rule.benefit_definition,
    ]


def _full_trial_row(trial, follow_up_count, shown, is_outcome, rule: _Rule) -> list:
    if shown is None:
        follow_up = _NO_FOLLOW_UP
    else:
        follow_up = (
            shown.followup_date.isoformat(),
            shown.followup_pain,
            shown.followup_rating,
            _yes_no(shown.still_using),
            shown.followup_source,
        )
    # One list display: the row is made in one go, not grown piece by piece.
    return [
        formula_guard(trial.patient_code),
        trial.trial_date.isoformat(),
        trial.intervention,
        trial.activity,
        trial.pain_without,
        trial.pain_with,
        formula_guard(trial.product),
        formula_guard(trial.activity_other),
        formula_guard(trial.notes),
        _blank(trial.birth_year),
        trial.sex or "",
        trial.affected_side or "",
        *follow_up,
        formula_guard(trial.lost_reason or ""),
        trial.trial_id,
        follow_up_count,
        *_outcome_columns(trial, shown, is_outcome, rule),
        rule.status(trial.trial_date, is_outcome, trial.lost),
        formula_guard(trial.recorded_by or ""),
        trial.recorded_at,
        "yes" if trial.voided else "no",
        formula_guard(trial.trial_void_reason or trial.patient_void_reason or ""),
        formula_guard(trial.site),
    ]


def _deidentified_trial_row():
    """A row maker numbering patients in the order they come (by patient id)."""
    last = [None, 0]

    def make_row(trial, follow_up_count, shown, is_outcome, rule: _Rule) -> list:
        patient_id, first_date = trial.patient_id, trial.first_trial_date
        if patient_id != last[0]:
            last[0], last[1] = patient_id, last[1] + 1
        if shown is None:
            follow_up = _NO_FOLLOW_UP
        else:
            follow_up = [
                (shown.followup_date - first_date).days,
                shown.followup_pain,
                shown.followup_rating,
                _yes_no(shown.still_using),
                shown.followup_source,
            ]
        return [
            last[1],
            age_band(trial.birth_year, first_date),
            trial.sex or "",
            trial.affected_side or "",
            (trial.trial_date - first_date).days,
            trial.intervention,
            trial.activity,
            trial.pain_without,
            trial.pain_with,
            *follow_up,
            follow_up_count,
            *_outcome_columns(trial, shown, is_outcome, rule),
        ]

    return make_row
