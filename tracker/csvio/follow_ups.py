"""The follow-ups export: every follow-up of the filtered trials."""

from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa

from ..models import FollowUp, Patient, Trial, User
from ..reporting.filters import TrialFilters
from ..settings import ClinicSettings
from ..storage.sql import utc_text
from .cells import _weeks, _yes_no, formula_guard
from .columns import (
    DEIDENTIFIED_FOLLOW_UP_COLUMNS,
    FOLLOW_UP_COLUMNS,
    Level,
    _check_level,
)
from .streaming import Export, _stream
from .trials import _filter_details, _first_trial_date, _Rule


def _patient_numbers(filters: TrialFilters) -> sa.Subquery:
    """Patients numbered by id among those with trials matching ``filters``.

    The de-identified trials export numbers its patients in the same order,
    so the two files of one download join on ``patient_number``.
    """
    patients = (
        filters.apply(sa.select(Trial.patient_id).join(Trial.patient))
        .distinct()
        .subquery()
    )
    return sa.select(
        patients.c.patient_id,
        sa.func.row_number().over(order_by=patients.c.patient_id).label("number"),
    ).subquery()


def follow_ups_export(
    filters: TrialFilters,
    settings: ClinicSettings,
    level: Level = "full",
    include_voided: bool = False,
) -> Export:
    """Every follow-up of the filtered trials, saying which one is the outcome."""
    _check_level(level, include_voided)
    rule = _Rule(settings)
    query = (
        sa.select(
            FollowUp.id,
            FollowUp.follow_up_date,
            FollowUp.pain,
            FollowUp.still_using,
            FollowUp.global_rating,
            FollowUp.voided_at.is_not(None),
            Trial.id,
            Trial.patient_id,
            Patient.code,
            Trial.trial_date,
            Trial.intervention,
            Trial.activity,
            User.username,
            utc_text(FollowUp.created_at),
            sa.or_(Trial.voided_at.is_not(None), Patient.voided_at.is_not(None)),
            sa.func.coalesce(
                FollowUp.void_reason, Trial.void_reason, Patient.void_reason
            ),
            _first_trial_date(level),
        )
        .select_from(FollowUp)
        .join(FollowUp.trial)
        .join(Trial.patient)
        .outerjoin(User, FollowUp.recorded_by_id == User.id)
    )
    full = level == "full"
    if not full:
        numbers = _patient_numbers(filters)
        query = query.add_columns(numbers.c.number).join(
            numbers, numbers.c.patient_id == Trial.patient_id
        )
    if not include_voided:
        query = query.where(FollowUp.voided_at.is_(None))
    query = filters.apply(query, include_voided=include_voided).order_by(
        Trial.patient_id,
        Trial.trial_date,
        Trial.id,
        FollowUp.follow_up_date,
        FollowUp.id,
    )

    def rows():
        for _trial_id, group in groupby(_stream(query), key=lambda row: row[6]):
            group = list(group)
            trial_date = group[0][9]
            outcome_id = rule.outcome(trial_date, [f for f in group if not f[5]])
            for f in group:
                is_outcome = f[0] == outcome_id
                outcome = [
                    _yes_no(is_outcome),
                    rule.benefit(f[4]) if is_outcome else "",
                    settings.benefit_definition,
                ]
                if full:
                    yield [
                        f[0],
                        f[6],
                        formula_guard(f[8]),
                        trial_date.isoformat(),
                        f[10],
                        f[11],
                        f[1].isoformat(),
                        _weeks(f[1], trial_date),
                        f[2],
                        _yes_no(f[3]),
                        f[4],
                        *outcome,
                        formula_guard(f[12] or ""),
                        f[13],
                        _yes_no(f[5] or f[14]),
                        formula_guard(f[15] or ""),
                    ]
                    continue
                yield [
                    f[17],
                    (trial_date - f[16]).days,
                    f[10],
                    f[11],
                    (f[1] - f[16]).days,
                    _weeks(f[1], trial_date),
                    f[2],
                    _yes_no(f[3]),
                    f[4],
                    *outcome,
                ]

    header = FOLLOW_UP_COLUMNS if full else DEIDENTIFIED_FOLLOW_UP_COLUMNS
    return Export(
        "followups",
        level,
        header,
        rows(),
        _filter_details(filters, include_voided),
        query,
    )
