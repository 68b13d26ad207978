"""Response rates: immediate relief and long-term benefit, with 95% intervals.

A rate is shown with two 95% intervals: Wilson (the one to read; it behaves
at the small counts of one clinic) and Clopper-Pearson ("exact", never too
narrow). The Wald interval is never used: it collapses to zero width at 0%
and 100%.

Both assume the counted trials are independent. They are when each patient
counts once in a row (the patient unit, per aid or pooled), not when a
patient's several trials count (the trial unit), since a patient who
responds to one aid tends to respond to the next. So each rate also has a
cluster interval, patients being the clusters (see :mod:`analysis.clusters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis._limits import limits
from analysis._trials import (
    COUNTING_UNITS,
    INTERVENTIONS,
    CheckedTrials,
    CountingUnit,
    Intervention,
    check_choice,
    check_trials,
    counting_note,
)
from analysis.clusters import clustered_intervals, patient_pairs
from analysis.rule import BenefitDefinition, ReliefCriterion

__all__ = [
    "COUNTING_UNITS",
    "GROUPINGS",
    "INTERVENTIONS",
    "RATE_COLUMNS",
    "CheckedTrials",
    "CountingUnit",
    "Grouping",
    "Intervention",
    "Proportion",
    "check_trials",
    "count_unit",
    "counting_note",
    "proportion",
    "response_rates",
]

Grouping = Literal["intervention", "activity", "product", "therapist", "site", "month"]
GROUPINGS: tuple[Grouping, ...] = (
    "intervention",
    "activity",
    "product",
    "therapist",
    "site",
    "month",
)


def _rate_columns(rate: str) -> list[str]:
    return [
        f"{rate}_count",
        f"{rate}_n",
        f"{rate}_rate",
        f"{rate}_wilson_low",
        f"{rate}_wilson_high",
        f"{rate}_exact_low",
        f"{rate}_exact_high",
    ]


def _cluster_columns(rate: str) -> list[str]:
    return [
        f"{rate}_patients",
        f"{rate}_design_effect",
        f"{rate}_cluster_low",
        f"{rate}_cluster_high",
    ]


#: The columns of :func:`response_rates` after the group column.
RATE_COLUMNS: tuple[str, ...] = (
    "trials",
    "patients",
    "assessable",
    *_rate_columns("immediate_relief"),
    *_cluster_columns("immediate_relief"),
    "followed_up",
    *_rate_columns("long_term_benefit"),
    *_cluster_columns("long_term_benefit"),
)


@dataclass(frozen=True)
class Proportion:
    """``count`` of ``n`` with its 95% intervals, or the reason there are none."""

    count: int
    n: int
    rate: float | None
    wilson: tuple[float, float] | None
    exact: tuple[float, float] | None
    reason: str | None = None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "count": self.count,
            "n": self.n,
            "rate": self.rate,
            "wilson": None if self.wilson is None else list(self.wilson),
            "exact": None if self.exact is None else list(self.exact),
            "reason": self.reason,
        }


def _whole_number(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def checked_counts(count: int, n: int) -> tuple[int, int]:
    """``count`` of ``n`` as Python ints, refused unless 0 <= count <= n."""
    count = _whole_number(count, "count")
    n = _whole_number(n, "n")
    if not 0 <= count <= n:
        raise ValueError(f"count must be between 0 and n; got {count} of {n}")
    return count, n


def proportion(count: int, n: int) -> Proportion:
    """A proportion with its Wilson and Clopper-Pearson 95% intervals.

    Examples
    --------
    >>> p = proportion(14, 60)
    >>> round(p.rate, 3), [round(x, 3) for x in p.wilson]
    (0.233, [0.144, 0.354])
    >>> proportion(0, 0).reason
    'no cases'
    """
    count, n = checked_counts(count, n)
    if n == 0:
        return Proportion(count, n, None, None, None, "no cases")
    wilson_low, wilson_high, exact_low, exact_high = _intervals(
        np.array([count]), np.array([n])
    )
    return Proportion(
        count=count,
        n=n,
        rate=count / n,
        wilson=(float(wilson_low[0]), float(wilson_high[0])),
        exact=(float(exact_low[0]), float(exact_high[0])),
    )


def _intervals(
    count: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wilson and Clopper-Pearson limits; NaN where n is 0."""
    return (*limits(count, n, "wilson"), *limits(count, n, "beta"))


def _rate_frame(rate: str, count: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    wilson_low, wilson_high, exact_low, exact_high = _intervals(count, n)
    share = np.where(n > 0, count / np.maximum(n, 1), np.nan)
    return dict(
        zip(
            _rate_columns(rate),
            (count, n, share, wilson_low, wilson_high, exact_low, exact_high),
            strict=True,
        )
    )


def count_unit(
    trials: pd.DataFrame | CheckedTrials,
    unit: CountingUnit = "patient",
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
    outcome_required: bool = False,
    pooled: bool = False,
) -> pd.DataFrame:
    """The trials that count towards a rate, with their verdicts.

    Only assessable trials (pain without the aid above 0) count. With
    ``unit="patient"`` each patient counts once per intervention, through
    their first such trial of that aid (by ``trial_date``, then
    ``trial_id``), or with ``pooled`` once in all, through their first such
    trial of any aid, as the figures over all aids count them. With
    ``unit="trial"`` every such trial counts. With ``outcome_required`` only
    trials with an outcome are eligible, as for the long-term benefit rate
    and the rule check, so a patient whose first trial had no follow-up
    still counts through a later one: the relief rate and the rule check
    may count different trials of a patient (see
    :func:`analysis.counting_note`).

    Returns the counted rows (a copy, in their original order) with two
    added columns: ``immediate_relief`` (bool) and ``long_term_benefit``
    (boolean, <NA> without an outcome).
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition, criterion)
    positions = checked.counted(unit, outcome_required, pooled)
    counted = checked.frame.iloc[positions].copy()
    counted["immediate_relief"] = checked.relief(criterion)[positions]
    counted["long_term_benefit"] = pd.array(checked.benefit[positions], dtype="boolean")
    counted.loc[~checked.has_outcome[positions], "long_term_benefit"] = pd.NA
    return counted


def response_rates(
    trials: pd.DataFrame | CheckedTrials,
    by: Grouping | None = "intervention",
    unit: CountingUnit = "patient",
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
) -> pd.DataFrame:
    """Immediate-relief and long-term-benefit rates per group.

    One row per group, the group column (named ``by``) first, then
    :data:`RATE_COLUMNS`. ``trials``, ``patients`` and ``assessable`` are raw
    counts of the group's trials ("40 trials from 25 patients, 36
    assessable"); the ``_n`` columns count what the rates are out of, as
    :func:`count_unit` chooses it, and the ``_patients`` columns the
    patients those trials come from. ``followed_up`` equals
    ``long_term_benefit_n``: the counted trials that have an outcome.

    Which trials count (:func:`analysis.counting_note` words it): with
    ``unit="patient"`` and ``by=None`` each patient once, through their
    first assessable trial of any aid (for benefit, the first with an
    outcome); in every grouping, once per aid, through the first trial of
    each aid. So a patient who tried two aids is in two rows by
    intervention but once overall, and may be twice in one row by product,
    activity, therapist, site or month. Grouping by product or activity credits
    the first trial's product or activity only; use ``unit="trial"`` to
    compare products.

    Which interval to read: ``_wilson`` (or ``_exact``) where each patient
    counts once in the row, that is under the patient unit by intervention
    or overall (``_patients`` equals ``_n``); ``_cluster`` (the Wilson
    interval allowing for several trials per patient, see
    :mod:`analysis.clusters`) under the trial unit, or wherever
    ``_patients`` is below ``_n``.
    ``_design_effect`` says how much wider that makes it.

    Grouping by intervention always gives insole, taping and brace, in that
    order, even without trials; ``month`` ("YYYY-MM") runs in date order and
    the other groupings alphabetically, trials without a value last. With
    ``by=None`` there is one row for all trials and no group column. Rates
    and limits are NaN where ``_n`` is 0.

    ``trials`` may be a frame already checked by :func:`check_trials` (for
    the same ``benefit_definition``), so several groupings share one check.
    """
    check_choice("grouping", by, (*GROUPINGS, None))
    check_choice("counting unit", unit, COUNTING_UNITS)
    column_needed = () if by in (None, "intervention", "month") else (by,)
    checked = check_trials(trials, benefit_definition, criterion, column_needed)
    group, labels = _groups(checked, by)

    def per_group(positions: np.ndarray) -> np.ndarray:
        return np.bincount(group[positions], minlength=len(labels)).astype("int64")

    pooled = by is None
    # Each patient is at most one trial of a row: no clusters to find.
    each_patient_once = unit == "patient" and by in (None, "intervention")
    # Found once for the row's patients and both rates' clusters.
    pair_number, pair_group = patient_pairs(group, checked.patient, len(labels))

    def rate(name: str, counted: np.ndarray, success: np.ndarray) -> dict:
        succeeded = per_group(counted[success])
        clustered = clustered_intervals(
            success,
            None,
            group[counted],
            len(labels),
            each_patient_once,
            pairs=(pair_number[counted], pair_group),
        )
        return _rate_frame(name, succeeded, per_group(counted)) | dict(
            zip(_cluster_columns(name), clustered, strict=True)
        )

    relief_counted = checked.counted(unit, outcome_required=False, pooled=pooled)
    benefit_counted = checked.counted(unit, outcome_required=True, pooled=pooled)
    columns = {
        "trials": per_group(np.arange(len(group))),
        "patients": np.bincount(pair_group, minlength=len(labels)),
        "assessable": per_group(np.flatnonzero(checked.assessable)),
        **rate(
            "immediate_relief",
            relief_counted,
            checked.relief(criterion)[relief_counted],
        ),
        "followed_up": per_group(benefit_counted),
        **rate("long_term_benefit", benefit_counted, checked.benefit[benefit_counted]),
    }
    rates = pd.DataFrame(columns, columns=list(RATE_COLUMNS))
    if by is not None:
        rates.insert(0, by, labels)
    return rates


def _groups(checked: CheckedTrials, by: Grouping | None) -> tuple[np.ndarray, list]:
    """Each trial's group number and the group labels in display order."""
    if by is None:
        return np.zeros(len(checked), dtype="int64"), [None]
    if by == "intervention":
        return checked.intervention, list(INTERVENTIONS)
    if by == "month":
        months = checked.trial_date.astype("datetime64[M]").astype("int64")
        group, distinct = pd.factorize(months, sort=True)
        labels = np.datetime_as_string(distinct.astype("datetime64[M]"), unit="M")
        return group, labels.tolist()
    group, distinct = pd.factorize(checked.frame[by], sort=True, use_na_sentinel=False)
    return group, list(distinct)
