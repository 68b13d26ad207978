"""Pain at the outcome follow-up, and who still uses the aid, by immediate relief.

Long-term benefit is the patient's own rating of change. This looks at the
same outcome follow-ups from two more sides. One is the pain during the
activity at the follow-up, against the pain without the aid at the trial
(the drop, in points: positive when the pain is lower now). The other is the
share still using the aid. Each is given for trials with immediate relief,
without it, and for all of them, all aids together. Trials are counted as
the rule check counts them: assessable, with an outcome, and under the
patient unit each patient once, through their first such trial of any aid
(:func:`analysis.counting_note` words it), so the groups with and without
relief are the rule check's.

The median drop's 95% interval is the distribution-free one for a median,
from order statistics and the binomial distribution: the k-th smallest and
k-th largest drops, with k the largest rank whose binomial(n, 1/2) tail
stays within 2.5% (the sign-test interval; Conover, *Practical
Nonparametric Statistics*, 3rd ed., 3.2). It is the interval
``scipy.stats.quantile_test(drops, p=0.5).confidence_interval()`` gives,
needs no assumption about the shape of the drops, and exists from 6
outcomes. A bootstrap is not used: its interval would depend on a random
seed, and the bootstrap of a median is unreliable on whole-point scores
with many ties. Drops are whole numbers from -10 to 10, so the order
statistics come from the count of trials at each drop, never from sorting
the trials. The share still using the aid has the Wilson and
Clopper-Pearson intervals of every rate.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binom

from analysis._trials import (
    COUNTING_UNITS,
    CheckedTrials,
    CountingUnit,
    check_choice,
    check_trials,
)
from analysis.rates import _rate_columns, _rate_frame
from analysis.rule import BenefitDefinition, ReliefCriterion

__all__ = [
    "FOLLOW_UP_PAIN_COLUMNS",
    "RELIEF_GROUPS",
    "ReliefGroup",
    "follow_up_pain_by_relief",
]

ReliefGroup = Literal["with_relief", "without_relief", "all"]
#: The rows of :func:`follow_up_pain_by_relief`, in order.
RELIEF_GROUPS: tuple[ReliefGroup, ...] = ("with_relief", "without_relief", "all")
#: The columns the trials frame needs beyond the usual ones.
OUTCOME_COLUMNS = ("outcome_pain", "outcome_still_using")
#: The columns of :func:`follow_up_pain_by_relief` after ``relief``.
FOLLOW_UP_PAIN_COLUMNS: tuple[str, ...] = (
    "outcomes",
    "median_pain_without",
    "median_outcome_pain",
    "median_drop",
    "median_drop_low",
    "median_drop_high",
    "median_drop_reason",
    *_rate_columns("still_using"),
)

_SCORES = 11  # pain scores 0 to 10
_DROPS = np.arange(-(_SCORES - 1), _SCORES)  # pain without minus pain at follow-up
_LEVEL = 0.95


def follow_up_pain_by_relief(
    trials: pd.DataFrame | CheckedTrials,
    unit: CountingUnit = "patient",
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
) -> pd.DataFrame:
    """The drop in pain from the trial to the outcome, and who still uses the aid.

    One row per :data:`RELIEF_GROUPS` value, in the ``relief`` column:
    trials with immediate relief under ``criterion``, without it, and all.
    The columns after it are :data:`FOLLOW_UP_PAIN_COLUMNS`:

    - ``outcomes``: the trials counted, those with an outcome (under the
      patient unit one per patient, whichever aid).
    - ``median_pain_without`` and ``median_outcome_pain``: the medians of
      the pain without the aid at the trial and of the pain at the outcome
      follow-up.
    - ``median_drop``: the median of pain without the aid minus pain at the
      outcome (positive: less pain now), with ``median_drop_low`` and
      ``median_drop_high``, its distribution-free 95% interval.
      ``median_drop_reason`` says why a figure is NaN: no outcomes, or fewer
      than 6 (too few for a 95% interval), else None.
    - ``still_using_count`` of ``still_using_n`` (= ``outcomes``), its rate
      and Wilson and exact 95% limits, NaN without outcomes.

    The frame needs ``outcome_pain`` (a score from 0 to 10) and
    ``outcome_still_using`` (True or False) wherever ``outcome_rating`` is
    given.

    Examples
    --------
    >>> trials = pd.DataFrame({
    ...     "trial_id": range(1, 9), "patient_id": range(1, 9),
    ...     "intervention": "insole", "trial_date": "2026-01-05",
    ...     "pain_without": 6, "pain_with": [2] * 6 + [6] * 2,
    ...     "outcome_rating": "same", "outcome_pain": [1, 2, 2, 3, 4, 6, 5, 7],
    ...     "outcome_still_using": [True] * 5 + [False] * 3})
    >>> table = follow_up_pain_by_relief(trials)
    >>> with_relief, without_relief, _ = table.to_dict("records")
    >>> [with_relief[f"median_drop{end}"] for end in ("", "_low", "_high")]
    [3.5, 0.0, 5.0]
    >>> int(with_relief["still_using_count"]), int(with_relief["still_using_n"])
    (5, 6)
    >>> without_relief["median_drop_reason"]
    'fewer than 6 outcomes: too few for a 95% interval'
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition, criterion, OUTCOME_COLUMNS)
    counted = checked.counted(unit, outcome_required=True, pooled=True)
    pain_without = checked.pain_without[counted]
    outcome_pain = _outcome_pain(checked.frame["outcome_pain"].iloc[counted])
    still_using = _still_using(checked.frame["outcome_still_using"].iloc[counted])
    # Group 0 with relief, 1 without; "all" is their sum.
    group = (~checked.relief(criterion)[counted]).astype("int64")

    def per_group(values: np.ndarray, length: int) -> np.ndarray:
        """Trials per group and value, with a last row for all groups."""
        table = np.bincount(group * length + values, minlength=2 * length)
        table = table.reshape(2, length)
        return np.vstack([table, table.sum(axis=0)])

    drops = per_group(pain_without - outcome_pain + _SCORES - 1, len(_DROPS))
    outcomes = drops.sum(axis=1)
    medians = {
        "median_pain_without": _medians(
            per_group(pain_without, _SCORES), np.arange(_SCORES)
        ),
        "median_outcome_pain": _medians(
            per_group(outcome_pain, _SCORES), np.arange(_SCORES)
        ),
        "median_drop": _medians(drops, _DROPS),
    }
    low, high = _median_intervals(drops)
    using = np.bincount(group[still_using], minlength=2)
    using = np.append(using, using.sum())
    columns = {
        "relief": list(RELIEF_GROUPS),
        "outcomes": outcomes,
        **medians,
        "median_drop_low": low,
        "median_drop_high": high,
        "median_drop_reason": pd.Series(
            [_reason(n) for n in outcomes.tolist()], dtype=object
        ),
        **_rate_frame("still_using", using, outcomes),
    }
    return pd.DataFrame(columns, columns=["relief", *FOLLOW_UP_PAIN_COLUMNS])


def _order_statistics(counts: np.ndarray, values: np.ndarray, ranks: np.ndarray):
    """The ``ranks``-th smallest value (from 1) of each row of ``counts``."""
    cumulative = np.cumsum(counts, axis=1)
    position = [
        np.searchsorted(row, rank) for row, rank in zip(cumulative, ranks, strict=True)
    ]
    return values[np.minimum(position, len(values) - 1)].astype("float64")


def _medians(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's median (the mean of the middle two for an even count)."""
    n = counts.sum(axis=1)
    lower = _order_statistics(counts, values, (n + 1) // 2)
    upper = _order_statistics(counts, values, n // 2 + 1)
    return np.where(n > 0, (lower + upper) / 2, np.nan)


def _median_intervals(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distribution-free 95% interval of each row's median drop."""
    n = counts.sum(axis=1)
    tail = (1 - _LEVEL) / 2
    # The largest k with P(B <= k - 1) <= 2.5%, B ~ binomial(n, 1/2): the k-th
    # smallest and k-th largest values then cover the median at least 95%.
    k = binom.ppf(tail, n, 0.5).astype("int64")
    k = np.where(binom.cdf(k, n, 0.5) <= tail, k + 1, k)
    low = _order_statistics(counts, _DROPS, k)
    high = _order_statistics(counts, _DROPS, n + 1 - k)
    known = k >= 1
    return np.where(known, low, np.nan), np.where(known, high, np.nan)


def _reason(outcomes: int) -> str | None:
    if outcomes == 0:
        return "no trials with an outcome"
    if binom.cdf(0, outcomes, 0.5) > (1 - _LEVEL) / 2:
        return "fewer than 6 outcomes: too few for a 95% interval"
    return None


def _outcome_pain(values: pd.Series) -> np.ndarray:
    """The pain at each counted outcome, refused unless a whole score 0-10."""
    message = (
        "outcome_pain must hold whole numbers from 0 to 10 for every trial "
        "with an outcome"
    )
    if pd.api.types.is_bool_dtype(values) or not (
        pd.api.types.is_numeric_dtype(values)
        or pd.api.types.infer_dtype(values) in ("integer", "floating", "empty")
    ):
        raise ValueError(message)
    scores = values.to_numpy(dtype="float64", na_value=np.nan)
    if not ((scores >= 0) & (scores <= 10) & (scores == np.floor(scores))).all():
        raise ValueError(message)
    return scores.astype("int64")


def _still_using(values: pd.Series) -> np.ndarray:
    """Whether each counted outcome says the aid is still in use."""
    if values.isna().any() or not (
        pd.api.types.is_bool_dtype(values)
        or pd.api.types.infer_dtype(values) == "boolean"
    ):
        raise ValueError(
            "outcome_still_using must hold True or False for every trial with an "
            "outcome"
        )
    return values.to_numpy(dtype=bool)
