"""The trials export: one row per trial, its outcome follow-up in its columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa

from analysis.rule import (
    GLOBAL_RATINGS,
    FollowUpDate,
    choose_outcome,
    is_long_term_benefit,
    verdict,
)

from ..models import FollowUp, Patient, Trial, User
from ..reporting.filters import TrialFilters
from ..settings import ClinicSettings
from ..storage.sql import utc_text
from .cells import _blank, _weeks, _yes_no, age_band, formula_guard
from .columns import DEIDENTIFIED_TRIAL_COLUMNS, TRIAL_COLUMNS, Level, _check_level
from .streaming import Export, _stream

_EPOCH = date(2000, 1, 1)
_NO_FOLLOW_UP = ("", "", "", "")
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

    def relief(self, pain_without: int, pain_with: int) -> tuple[str, str, str]:
        """The criterion, ``immediate_relief`` (yes/no/not_assessable), prediction."""
        return self.reliefs[pain_without, pain_with]

    def outcome(self, trial_date: date, follow_ups: Sequence) -> int | None:
        """The id of the outcome follow-up among ``(id, date, ...)`` tuples."""
        if not follow_ups:
            return None
        days = tuple((f[1] - trial_date).days for f in follow_ups)
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
        return None if index is None else follow_ups[index][0]

    def benefit(self, rating: str) -> str:
        return self.benefits[rating]


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


def trials_query(
    filters: TrialFilters, include_voided: bool = False, level: Level = "full"
) -> sa.Select:
    """The trial export's one query: a row per trial and current follow-up.

    Ordered by patient, then trial date, so each trial's rows come together
    and each patient's trials in the order they happened.
    """
    query = (
        sa.select(
            Trial.id,
            Trial.patient_id,
            Patient.code,
            Patient.birth_year,
            Patient.sex,
            Patient.affected_side,
            Trial.trial_date,
            Trial.intervention,
            Trial.product,
            Trial.activity,
            Trial.activity_other,
            Trial.pain_without,
            Trial.pain_with,
            Trial.notes,
            User.username,
            utc_text(Trial.created_at),
            Trial.void_reason,
            Patient.void_reason,
            sa.or_(Trial.voided_at.is_not(None), Patient.voided_at.is_not(None)),
            _first_trial_date(level),
            FollowUp.id,
            FollowUp.follow_up_date,
            FollowUp.pain,
            FollowUp.still_using,
            FollowUp.global_rating,
        )
        .select_from(Trial)
        .join(Trial.patient)
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
    """
    _check_level(level, include_voided)
    rule = _Rule(settings)
    query = trials_query(filters, include_voided, level)
    make_row = _full_trial_row if level == "full" else _deidentified_trial_row()

    def row_for(trial, follow_ups):
        if not follow_ups:
            return make_row(trial, 0, None, False, rule)
        outcome_id = rule.outcome(trial[6], follow_ups)
        if len(follow_ups) == 1:
            shown = follow_ups[0]
        else:
            shown = next(
                (f for f in follow_ups if f[0] == outcome_id),
                max(follow_ups, key=lambda f: (f[1], f[0])),
            )
        return make_row(trial, len(follow_ups), shown, shown[0] == outcome_id, rule)

    def rows():
        # Rows of one trial (one per current follow-up) come together.
        trial, follow_ups = None, []
        for row in _stream(query):
            if trial is not None and row[0] != trial[0]:
                yield row_for(trial, follow_ups)
                follow_ups = []
            trial = row
            if row[20] is not None:
                follow_ups.append(row[20:])
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
    criterion, relief, prediction = rule.relief(trial[11], trial[12])
    if not is_outcome:
        return [criterion, relief, prediction, "", "", rule.benefit_definition]
    return [
        criterion,
        relief,
        prediction,
        _weeks(shown[1], trial[6]),
        rule.benefit(shown[4]),
        rule.benefit_definition,
    ]


def _full_trial_row(trial, follow_up_count, shown, is_outcome, rule: _Rule) -> list:
    (trial_id, _patient_id, code, birth_year, sex, side, trial_date,
     intervention, product, activity, activity_other, pain_without, pain_with,
     notes, username, recorded_at, trial_void_reason, patient_void_reason,
     voided, _first) = trial[:20]  # fmt: skip
    row = [
        formula_guard(code),
        trial_date.isoformat(),
        intervention,
        activity,
        pain_without,
        pain_with,
        formula_guard(product),
        formula_guard(activity_other),
        formula_guard(notes),
        _blank(birth_year),
        sex or "",
        side or "",
    ]
    if shown is None:
        row += _NO_FOLLOW_UP
    else:
        row += [shown[1].isoformat(), shown[2], shown[4], _yes_no(shown[3])]
    row += [trial_id, follow_up_count]
    row += _outcome_columns(trial, shown, is_outcome, rule)
    row += [
        formula_guard(username or ""),
        recorded_at,
        "yes" if voided else "no",
        formula_guard(trial_void_reason or patient_void_reason or ""),
    ]
    return row


def _deidentified_trial_row():
    """A row maker numbering patients in the order they come (by patient id)."""
    last = [None, 0]

    def make_row(trial, follow_up_count, shown, is_outcome, rule: _Rule) -> list:
        patient_id, first_date = trial[1], trial[19]
        if patient_id != last[0]:
            last[0], last[1] = patient_id, last[1] + 1
        if shown is None:
            follow_up = _NO_FOLLOW_UP
        else:
            follow_up = [
                (shown[1] - first_date).days,
                shown[2],
                shown[4],
                _yes_no(shown[3]),
            ]
        return [
            last[1],
            age_band(trial[3], first_date),
            trial[4] or "",
            trial[5] or "",
            (trial[6] - first_date).days,
            trial[7],
            trial[9],
            trial[11],
            trial[12],
            *follow_up,
            follow_up_count,
            *_outcome_columns(trial, shown, is_outcome, rule),
        ]

    return make_row
