"""The follow-ups export: every follow-up of the filtered trials."""

from __future__ import annotations

from collections import namedtuple
from itertools import groupby
from operator import attrgetter

import sqlalchemy as sa

from ..models import FollowUp, Patient, Site, Trial, User
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


def _follow_up_columns(level: Level) -> dict[str, sa.ColumnElement]:
    """The follow-ups export's columns, by the names its rows are read with."""
    return {
        "followup_id": FollowUp.id,
        "followup_date": FollowUp.follow_up_date,
        "followup_pain": FollowUp.pain,
        "still_using": FollowUp.still_using,
        "followup_rating": FollowUp.global_rating,
        "source": FollowUp.source,
        "followup_voided": FollowUp.voided_at.is_not(None),
        "trial_id": Trial.id,
        "patient_id": Trial.patient_id,
        "patient_code": Patient.code,
        "trial_date": Trial.trial_date,
        "intervention": Trial.intervention,
        "activity": Trial.activity,
        "recorded_by": User.username,
        "recorded_at": utc_text(FollowUp.created_at),
        # The trial or its patient.
        "trial_voided": sa.or_(
            Trial.voided_at.is_not(None), Patient.voided_at.is_not(None)
        ),
        "void_reason": sa.func.coalesce(
            FollowUp.void_reason, Trial.void_reason, Patient.void_reason
        ),
        "first_trial_date": _first_trial_date(level),
        "site": Site.name,
    }


#: Rows of the follow-ups query, read by name (see :func:`.streaming._stream`); the
#: de-identified one also numbers the patient.
_FollowUpRow = namedtuple("_FollowUpRow", _follow_up_columns("full"))
_DeidentifiedFollowUpRow = namedtuple(
    "_DeidentifiedFollowUpRow", (*_FollowUpRow._fields, "patient_number")
)


def follow_ups_export(
    filters: TrialFilters,
    settings: ClinicSettings,
    level: Level = "full",
    include_voided: bool = False,
) -> Export:
    """Every follow-up of the filtered trials, saying which one is the outcome."""
    _check_level(level, include_voided)
    rule = _Rule(settings)
    columns = _follow_up_columns(level)
    query = (
        sa.select(*(column.label(name) for name, column in columns.items()))
        .select_from(FollowUp)
        .join(FollowUp.trial)
        .join(Trial.patient)
        .join(Site, Site.id == Patient.site_id)
        .outerjoin(User, FollowUp.recorded_by_id == User.id)
    )
    full = level == "full"
    if not full:
        numbers = _patient_numbers(filters)
        query = query.add_columns(numbers.c.number.label("patient_number")).join(
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

    row_type = _FollowUpRow if full else _DeidentifiedFollowUpRow

    def rows():
        by_trial = groupby(_stream(query, row_type), key=attrgetter("trial_id"))
        for _trial_id, group in by_trial:
            group = list(group)
            trial_date = group[0].trial_date
            current = [f for f in group if not f.followup_voided]
            outcome_id = rule.outcome(trial_date, current)
            for f in group:
                is_outcome = f.followup_id == outcome_id
                outcome = [
                    _yes_no(is_outcome),
                    rule.benefit(f.followup_rating) if is_outcome else "",
                    settings.benefit_definition,
                ]
                if full:
                    yield [
                        f.followup_id,
                        f.trial_id,
                        formula_guard(f.patient_code),
                        trial_date.isoformat(),
                        f.intervention,
                        f.activity,
                        f.followup_date.isoformat(),
                        _weeks(f.followup_date, trial_date),
                        f.followup_pain,
                        _yes_no(f.still_using),
                        f.followup_rating,
                        f.source,
                        *outcome,
                        formula_guard(f.recorded_by or ""),
                        f.recorded_at,
                        _yes_no(f.followup_voided or f.trial_voided),
                        formula_guard(f.void_reason or ""),
                        formula_guard(f.site),
                    ]
                    continue
                yield [
                    f.patient_number,
                    (trial_date - f.first_trial_date).days,
                    f.intervention,
                    f.activity,
                    (f.followup_date - f.first_trial_date).days,
                    _weeks(f.followup_date, trial_date),
                    f.followup_pain,
                    _yes_no(f.still_using),
                    f.followup_rating,
                    f.source,
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
