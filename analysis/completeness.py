"""Follow-up completeness: which counted trials have their outcome, which lack one.

The rule check can only use trials with an outcome. If outcomes go missing
more often after relief than without it (or the other way round), the check
is biased, so the follow-up rate is shown for both groups beside the overall
one. Statuses are those of :func:`analysis.follow_up.follow_up_status`,
computed for every trial at once.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis._trials import (
    COUNTING_UNITS,
    INTERVENTIONS,
    CheckedTrials,
    CountingUnit,
    check_choice,
    check_trials,
)
from analysis.follow_up import FOLLOW_UP_STATUSES, FollowUpStatus, status_window
from analysis.rates import _rate_columns, _rate_frame, _whole_number
from analysis.rule import BenefitDefinition, ReliefCriterion, immediate_relief

__all__ = [
    "COMPLETENESS_COLUMNS",
    "OUTCOME_SOURCES",
    "follow_up_completeness",
    "follow_up_statuses",
]

#: Who gave the outcome: a therapist at the clinic, or the patient by link.
OUTCOME_SOURCES = ("clinic", "patient")
#: The columns the trials frame needs beyond :data:`analysis._trials.TRIAL_COLUMNS`.
FOLLOW_UP_COLUMNS = ("outcome_source", "lost")

_AWAITING, _DUE, _OVERDUE, _RECORDED, _LOST = (
    FOLLOW_UP_STATUSES.index(status)
    for status in (
        FollowUpStatus.AWAITING,
        FollowUpStatus.DUE,
        FollowUpStatus.OVERDUE,
        FollowUpStatus.OUTCOME_RECORDED,
        FollowUpStatus.LOST,
    )
)

#: The columns of :func:`follow_up_completeness` after the group column.
COMPLETENESS_COLUMNS: tuple[str, ...] = (
    "counted",
    "outcome_clinic",
    "outcome_patient",
    "awaiting",
    "due",
    "overdue",
    "lost",
    *_rate_columns("follow_up"),
    *_rate_columns("follow_up_with_relief"),
    *_rate_columns("follow_up_without_relief"),
)


def follow_up_statuses(
    trials: pd.DataFrame | CheckedTrials,
    today: date,
    minimum_weeks: int = 6,
    due_weeks: int = 12,
) -> pd.Categorical:
    """Each trial's follow-up status on ``today``, in frame order.

    The same as :func:`analysis.follow_up.follow_up_status` row by row: an
    outcome wins over a lost mark, a lost mark over the dates.

    Examples
    --------
    >>> trials = pd.DataFrame({
    ...     "trial_id": [1, 2], "patient_id": [1, 2], "intervention": "insole",
    ...     "trial_date": ["2026-01-01", "2026-03-01"], "pain_without": 6,
    ...     "pain_with": 3, "outcome_rating": None, "outcome_source": None,
    ...     "lost": False})
    >>> follow_up_statuses(trials, date(2026, 3, 2)).tolist()
    ['due', 'awaiting']
    """
    checked = _checked(trials)
    codes = _status_codes(
        checked.trial_date,
        checked.has_outcome,
        _lost(checked.frame["lost"]),
        today,
        minimum_weeks,
        due_weeks,
    )
    return pd.Categorical.from_codes(codes, categories=list(FOLLOW_UP_STATUSES))


def follow_up_completeness(
    trials: pd.DataFrame | CheckedTrials,
    today: date,
    minimum_weeks: int = 6,
    due_weeks: int = 12,
    unit: CountingUnit = "patient",
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
) -> pd.DataFrame:
    """Follow-up statuses and the follow-up rate of the counted trials, per aid.

    The trials counted are those the immediate-relief rate counts (see
    :func:`analysis.rates.count_unit`): under the patient unit each
    patient's first assessable trial of each aid in the aid's row, and their
    first assessable trial of any aid in the row for all aids, so each
    patient counts once there. A patient whose outcome came on a later trial
    counts here as lacking one.

    The follow-up rate is out of the counted trials no longer awaiting
    (their window has opened, or they were marked lost): ``follow_up_n`` is
    ``counted - awaiting`` and ``follow_up_count`` the outcomes recorded.
    The ``_with_relief`` and ``_without_relief`` rates split it by the
    immediate-relief verdict under ``criterion``.

    One row per aid (insole, taping, brace, in that order, even without
    trials), then one for all of them with ``intervention`` None: the
    ``intervention`` column first, then :data:`COMPLETENESS_COLUMNS`. Rates
    and limits are NaN where ``_n`` is 0.

    The frame needs ``outcome_source`` (``clinic`` or ``patient``, missing
    exactly where ``outcome_rating`` is) and ``lost`` (bool) beside the
    usual columns. Under ``unit="trial"`` the 95% intervals treat a
    patient's trials as independent, which they are not: read them as too
    narrow when patients repeat an aid.
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = _checked(trials, benefit_definition, criterion)
    source = _source_codes(checked)
    lost = _lost(checked.frame["lost"])
    per_aid = checked.counted(unit, outcome_required=False)
    pooled = checked.counted(unit, outcome_required=False, pooled=True)

    def cells(counted: np.ndarray) -> np.ndarray:
        """Trials per (aid, status, relief, source): everything is summed from it."""
        status = _status_codes(
            checked.trial_date[counted],
            checked.has_outcome[counted],
            lost[counted],
            today,
            minimum_weeks,
            due_weeks,
        )
        relief = immediate_relief(
            checked.pain_without[counted], checked.pain_with[counted], criterion
        )
        shape = (
            len(INTERVENTIONS),
            len(FOLLOW_UP_STATUSES),
            2,
            len(OUTCOME_SOURCES) + 1,
        )
        cell = np.ravel_multi_index(
            (checked.intervention[counted], status, relief, source[counted] + 1),
            shape,
        )
        return np.bincount(cell, minlength=np.prod(shape)).reshape(shape)

    # A pass over the counted trials, not one per figure.
    table = cells(per_aid)
    # Under the trial unit the pooled trials are the aids' trials.
    all_aids = table if pooled is per_aid else cells(pooled)
    table = np.concatenate([table, all_aids.sum(axis=0, keepdims=True)])
    by_status = table.sum(axis=3)  # row, status, relief
    recorded = by_status[:, _RECORDED, :]
    window_open = by_status.sum(axis=1) - by_status[:, _AWAITING, :]
    statuses = by_status.sum(axis=2)
    # The three rates in one call: the intervals cost more than the counts.
    rates = _rate_frame(
        "rate",
        np.concatenate([recorded.sum(axis=1), recorded[:, 1], recorded[:, 0]]),
        np.concatenate([window_open.sum(axis=1), window_open[:, 1], window_open[:, 0]]),
    )
    rows = len(table)
    columns = {
        # Objects, so the row for all aids holds None, not a string NaN.
        "intervention": pd.Series([*INTERVENTIONS, None], dtype=object),
        "counted": statuses.sum(axis=1),
        "outcome_clinic": table[:, _RECORDED, :, 1].sum(axis=1),
        "outcome_patient": table[:, _RECORDED, :, 2].sum(axis=1),
        "awaiting": statuses[:, _AWAITING],
        "due": statuses[:, _DUE],
        "overdue": statuses[:, _OVERDUE],
        "lost": statuses[:, _LOST],
    }
    for part, name in enumerate(
        ("follow_up", "follow_up_with_relief", "follow_up_without_relief")
    ):
        for column, values in zip(_rate_columns(name), rates.values(), strict=True):
            columns[column] = values[part * rows : (part + 1) * rows]
    return pd.DataFrame(columns, columns=["intervention", *COMPLETENESS_COLUMNS])


def _checked(
    trials: pd.DataFrame | CheckedTrials,
    benefit_definition: BenefitDefinition | None = None,
    criterion: ReliefCriterion = "any",
) -> CheckedTrials:
    """The trials checked, with the follow-up columns (statuses ignore benefit)."""
    if benefit_definition is None:
        benefit_definition = (
            trials.benefit_definition
            if isinstance(trials, CheckedTrials)
            else "markedly_improved"
        )
    return check_trials(trials, benefit_definition, criterion, FOLLOW_UP_COLUMNS)


def _day(today: date) -> np.datetime64:
    if not isinstance(today, date):
        raise TypeError(f"today must be a date, not {today!r}")
    return np.datetime64(date(today.year, today.month, today.day), "D")


def _status_codes(
    trial_date: np.ndarray,
    has_outcome: np.ndarray,
    lost: np.ndarray,
    today: date,
    minimum_weeks: int,
    due_weeks: int,
) -> np.ndarray:
    """Positions in FOLLOW_UP_STATUSES, one per trial."""
    minimum_weeks = _whole_number(minimum_weeks, "minimum_weeks")
    due_weeks = _whole_number(due_weeks, "due_weeks")
    if not 0 <= minimum_weeks <= due_weeks:
        raise ValueError(
            f"minimum_weeks must be from 0 to due_weeks; got {minimum_weeks} "
            f"and {due_weeks}"
        )
    first, last = status_window(minimum_weeks, due_weeks)
    days = (_day(today) - trial_date.astype("datetime64[D]")).astype("int64")
    codes = np.full(len(days), _OVERDUE, dtype="int64")
    codes[days <= last] = _DUE
    codes[days < first] = _AWAITING
    codes[lost] = _LOST
    codes[has_outcome] = _RECORDED
    return codes


def _lost(lost: pd.Series) -> np.ndarray:
    if not pd.api.types.is_bool_dtype(lost) or lost.isna().any():
        raise ValueError("lost must hold True or False for every trial")
    return lost.to_numpy(dtype=bool)


def _source_codes(checked: CheckedTrials) -> np.ndarray:
    """Positions in OUTCOME_SOURCES, -1 without an outcome."""
    sources = checked.frame["outcome_source"]
    if isinstance(sources.dtype, pd.CategoricalDtype):
        # As the web app's frame comes: no pass over the values to find them.
        codes, names = sources.cat.codes.to_numpy(), sources.cat.categories
    else:
        codes, names = pd.factorize(sources)
    lookup = np.array(
        [
            OUTCOME_SOURCES.index(name) if name in OUTCOME_SOURCES else -1
            for name in names
        ],
        dtype="int64",
    )
    # Code -1 (no source) takes the appended -1: one pass, no masks.
    source = np.append(lookup, -1)[codes]
    given = codes >= 0
    unknown = given & (source < 0)
    if unknown.any():
        names = sorted(set(names[np.unique(codes[unknown])]))
        raise ValueError(
            f"unknown outcome_source {names}; expected one of {OUTCOME_SOURCES}"
        )
    if (checked.has_outcome != given).any():
        which = (
            "missing for some trials with"
            if (checked.has_outcome & ~given).any()
            else "given for trials without"
        )
        raise ValueError(f"outcome_source is {which} an outcome")
    return source
