"""How the Anterior Knee Pain Scale moved from the trial to the outcome follow-up.

For each aid and for all aids together, and within each for trials with
immediate relief, without it, and all: the change in the AKPS total
(:mod:`analysis.akps`; positive is better), its median with the
distribution-free 95% interval (``scipy.stats.quantile_test``, as for the
follow-up pain), its mean with Student's t interval
(``scipy.stats.ttest_1samp``), and the share improving by at least the
minimal clinically important difference with Wilson and exact intervals.

The trials counted are the rule check's (assessable, with an outcome; under
the patient unit a patient's first such trial of each aid, or of any aid
for all aids together) that have both questionnaires: the one at the trial
and the one at its outcome follow-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import quantile_test, ttest_1samp

from analysis._trials import (
    COUNTING_UNITS,
    INTERVENTIONS,
    CheckedTrials,
    CountingUnit,
    check_choice,
    check_trials,
)
from analysis.akps import MAXIMUM, MCID
from analysis.follow_up_pain import RELIEF_GROUPS
from analysis.rates import _rate_columns, _rate_frame
from analysis.rule import BenefitDefinition, ReliefCriterion

__all__ = ["AKPS_CHANGE_COLUMNS", "AKPS_COLUMNS", "akps_change_by_relief"]

#: The totals the trials frame needs: at the trial, and at the outcome follow-up
#: (NaN where a questionnaire is absent).
AKPS_COLUMNS = ("akps_baseline", "akps_outcome")
#: The columns of :func:`akps_change_by_relief` after ``intervention`` and ``relief``.
AKPS_CHANGE_COLUMNS: tuple[str, ...] = (
    "outcomes",
    "median_change",
    "median_change_low",
    "median_change_high",
    "mean_change",
    "mean_change_low",
    "mean_change_high",
    *_rate_columns("improved"),
)
_LEVEL = 0.95


def akps_change_by_relief(
    trials: pd.DataFrame | CheckedTrials,
    unit: CountingUnit = "patient",
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
    mcid: int = MCID,
) -> pd.DataFrame:
    """The AKPS change per aid and overall, by immediate relief.

    Rows for insole, taping, brace and then all aids (``intervention`` None),
    each with the :data:`RELIEF_GROUPS` in ``relief``; the columns after
    them are :data:`AKPS_CHANGE_COLUMNS`. ``outcomes`` counts the trials
    with both questionnaires; ``improved`` those whose total rose by at
    least ``mcid`` points. A figure is NaN without trials, and an interval
    where there are too few for it (a median's 95% interval needs 6, a
    mean's 2).

    Examples
    --------
    >>> trials = pd.DataFrame({
    ...     "trial_id": range(1, 9), "patient_id": range(1, 9),
    ...     "intervention": "insole", "trial_date": "2026-01-05",
    ...     "pain_without": 6, "pain_with": 2, "outcome_rating": "same",
    ...     "akps_baseline": 60, "akps_outcome": [72, 68, 75, 57, 70, 80, 65, 71]})
    >>> row = akps_change_by_relief(trials).iloc[0]
    >>> int(row["outcomes"]), float(row["median_change"]), int(row["improved_count"])
    (8, 10.5, 5)
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    if isinstance(mcid, bool) or not isinstance(mcid, int) or not 0 < mcid <= MAXIMUM:
        raise ValueError(f"mcid must be a whole number of points from 1 to {MAXIMUM}")
    checked = check_trials(trials, benefit_definition, criterion, AKPS_COLUMNS)
    baseline = _totals(checked.frame["akps_baseline"], "akps_baseline")
    outcome = _totals(checked.frame["akps_outcome"], "akps_outcome")
    change = outcome - baseline
    relief = checked.relief(criterion)
    rows = []
    for code, intervention in [*enumerate(INTERVENTIONS), (None, None)]:
        counted = checked.counted(unit, outcome_required=True, pooled=code is None)
        if code is not None:
            counted = counted[checked.intervention[counted] == code]
        counted = counted[~np.isnan(change[counted])]
        for group in RELIEF_GROUPS:
            chosen = counted
            if group != "all":
                chosen = counted[relief[counted] == (group == "with_relief")]
            rows.append(
                {"intervention": intervention, "relief": group}
                | _figures(change[chosen], mcid)
            )
    return pd.DataFrame(rows, columns=["intervention", "relief", *AKPS_CHANGE_COLUMNS])


def _figures(change: np.ndarray, mcid: int) -> dict:
    n = len(change)
    median = mean = np.nan
    median_ci = mean_ci = (np.nan, np.nan)
    if n:
        median, mean = float(np.median(change)), float(change.mean())
        interval = quantile_test(change, p=0.5).confidence_interval(_LEVEL)
        median_ci = (float(interval.low), float(interval.high))
    if n >= 2 and change.std() > 0:
        interval = ttest_1samp(change, 0.0).confidence_interval(_LEVEL)
        mean_ci = (float(interval.low), float(interval.high))
    elif n >= 2:  # every change alike: the mean is known exactly
        mean_ci = (mean, mean)
    improved = np.array([int((change >= mcid).sum())])
    rate = {
        name: values[0]
        for name, values in _rate_frame("improved", improved, np.array([n])).items()
    }
    return {
        "outcomes": n,
        "median_change": median,
        "median_change_low": median_ci[0],
        "median_change_high": median_ci[1],
        "mean_change": mean,
        "mean_change_low": mean_ci[0],
        "mean_change_high": mean_ci[1],
        **rate,
    }


def _totals(values: pd.Series, name: str) -> np.ndarray:
    """AKPS totals as floats, NaN where absent; refused outside 0 to 100."""
    message = f"{name} must hold AKPS totals, whole numbers from 0 to {MAXIMUM}"
    if pd.api.types.is_bool_dtype(values) or not (
        pd.api.types.is_numeric_dtype(values)
        or pd.api.types.infer_dtype(values) in ("integer", "floating", "empty")
    ):
        raise ValueError(message)
    totals = values.to_numpy(dtype="float64", na_value=np.nan)
    given = totals[~np.isnan(totals)]
    if not ((given >= 0) & (given <= MAXIMUM) & (given == np.floor(given))).all():
        raise ValueError(message)
    return totals
