"""The aids compared: insole against taping, insole against brace, taping against brace.

For each pair, the difference in long-term benefit rate and in immediate
relief rate, with Newcombe's hybrid score 95% interval (the one
:mod:`analysis.effect` gives the rule's risk difference), Fisher's exact
two-sided p and Holm's adjustment over the three pairs.

Fisher's exact test is used rather than the score test of
``test_proportions_2indep``. It is valid at any count, and one clinic's brace
group may have only a handful of patients, too few for a normal
approximation to be trusted. It is also the test the rule's effect uses. It
is a little conservative, so near p = 0.05 it can disagree with the interval
(for example an interval just clear of 0 with p = 0.06). The interval is the
figure to read.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis._trials import (
    COUNTING_UNITS,
    INTERVENTIONS,
    CheckedTrials,
    CountingUnit,
    Intervention,
    check_choice,
    check_trials,
)
from analysis.fisher import fisher_p
from analysis.rule import BenefitDefinition, ReliefCriterion

__all__ = ["AID_PAIRS", "COMPARISON_COLUMNS", "MEASURES", "Measure", "compare_aids"]

Measure = Literal["long_term_benefit", "immediate_relief"]
MEASURES: tuple[Measure, ...] = ("long_term_benefit", "immediate_relief")
#: Each pair once, in the order the aids are listed everywhere.
AID_PAIRS: tuple[tuple[Intervention, Intervention], ...] = (
    ("insole", "taping"),
    ("insole", "brace"),
    ("taping", "brace"),
)
#: The columns of :func:`compare_aids`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "measure",
    "intervention_a",
    "intervention_b",
    "count_a",
    "n_a",
    "rate_a",
    "count_b",
    "n_b",
    "rate_b",
    "difference",
    "difference_low",
    "difference_high",
    "p_value",
    "p_holm",
    "patients_in_both",
    "reason",
)


def compare_aids(
    trials: pd.DataFrame | CheckedTrials,
    unit: CountingUnit = "patient",
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
) -> pd.DataFrame:
    """Each pair of aids: the difference in a rate, its interval and p-values.

    One row per measure and pair: long-term benefit first, then immediate
    relief, each for :data:`AID_PAIRS` in order. The columns are
    :data:`COMPARISON_COLUMNS`:

    - ``measure``: ``long_term_benefit`` or ``immediate_relief``.
    - ``intervention_a``, ``intervention_b``: the two aids.
    - ``count_a``, ``n_a``, ``rate_a`` (and ``_b``): the aid's rate, counted
      as :func:`analysis.rates.response_rates` counts it by intervention
      (under the patient unit once per patient and aid, never pooled). Relief
      is out of the counted assessable trials, and benefit out of those with
      an outcome.
    - ``difference``: ``rate_a - rate_b``, with ``difference_low`` and
      ``difference_high``, Newcombe's 95% interval.
    - ``p_value``: Fisher's exact two-sided p. ``p_holm``: Holm's adjusted p
      over the pairs of the same measure that have a p-value.
    - ``patients_in_both``: patients counted under both aids of the pair.
      The interval and test treat the two groups as independent, which
      these patients are not. Where there are many of them, a paired
      comparison (McNemar) of the same patients would be fairer.
    - ``reason``: why the figures are NaN (an aid without trials), else None.

    Examples
    --------
    >>> trials = pd.DataFrame({
    ...     "trial_id": range(1, 7), "patient_id": range(1, 7),
    ...     "intervention": ["insole"] * 3 + ["taping"] * 3,
    ...     "trial_date": "2026-01-05", "pain_without": 6, "pain_with": 3,
    ...     "outcome_rating": ["markedly_improved"] * 3 + ["same"] * 3})
    >>> row = compare_aids(trials).iloc[0]
    >>> row["intervention_a"], row["intervention_b"], float(row["difference"])
    ('insole', 'taping', 1.0)
    >>> round(float(row["p_value"]), 3), round(float(row["difference_low"]), 3)
    (0.1, 0.206)
    >>> compare_aids(trials)["reason"].iloc[1]
    'no trials of brace with an outcome'
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition, criterion)
    relief = checked.relief(criterion)
    parts = []
    for measure in MEASURES:
        counted = checked.counted(unit, outcome_required=measure == "long_term_benefit")
        success = (checked.benefit if measure == "long_term_benefit" else relief)[
            counted
        ]
        parts.append(
            _pairs(
                measure,
                checked.intervention[counted],
                success,
                checked.patient[counted],
            )
        )
    return pd.concat(parts, ignore_index=True)[list(COMPARISON_COLUMNS)]


def _pairs(
    measure: Measure,
    intervention: np.ndarray,
    success: np.ndarray,
    patient: np.ndarray,
) -> pd.DataFrame:
    """The rows of one measure, from the counted trials' aids and verdicts."""
    groups = len(INTERVENTIONS)
    n = np.bincount(intervention, minlength=groups)
    count = np.bincount(intervention[success], minlength=groups)
    first = np.array([INTERVENTIONS.index(a) for a, _ in AID_PAIRS])
    second = np.array([INTERVENTIONS.index(b) for _, b in AID_PAIRS])
    count_a, n_a, count_b, n_b = count[first], n[first], count[second], n[second]
    rate_a = np.where(n_a > 0, count_a / np.maximum(n_a, 1), np.nan)
    rate_b = np.where(n_b > 0, count_b / np.maximum(n_b, 1), np.nan)

    both = (n_a > 0) & (n_b > 0)
    low = np.full(len(AID_PAIRS), np.nan)
    high = np.full(len(AID_PAIRS), np.nan)
    p_value = np.full(len(AID_PAIRS), np.nan)
    p_holm = np.full(len(AID_PAIRS), np.nan)
    if both.any():
        low[both], high[both] = confint_proportions_2indep(
            count_a[both],
            n_a[both],
            count_b[both],
            n_b[both],
            compare="diff",
            method="newcomb",
        )
        p_value[both] = [
            fisher_p(a, na - a, b, nb - b)
            for a, na, b, nb in zip(
                count_a[both], n_a[both], count_b[both], n_b[both], strict=True
            )
        ]
        p_holm[both] = holm(p_value[both])

    # Patients are numbered from 0: one row of flags per aid, no sorting.
    seen = np.zeros((groups, patient.max() + 1 if len(patient) else 0), dtype=bool)
    seen[intervention, patient] = True
    in_both = (seen[first] & seen[second]).sum(axis=1)
    return pd.DataFrame(
        {
            "measure": measure,
            "intervention_a": [a for a, _ in AID_PAIRS],
            "intervention_b": [b for _, b in AID_PAIRS],
            "count_a": count_a,
            "n_a": n_a,
            "rate_a": rate_a,
            "count_b": count_b,
            "n_b": n_b,
            "rate_b": rate_b,
            "difference": rate_a - rate_b,
            "difference_low": low,
            "difference_high": high,
            "p_value": p_value,
            "p_holm": p_holm,
            "patients_in_both": in_both.astype("int64"),
            # object, so that "no reason" stays None rather than NaN.
            "reason": pd.Series(
                [
                    _reason(measure, pair, na, nb)
                    for pair, na, nb in zip(AID_PAIRS, n_a, n_b, strict=True)
                ],
                dtype=object,
            ),
        }
    )


def _reason(
    measure: Measure, pair: tuple[Intervention, Intervention], n_a: int, n_b: int
) -> str | None:
    empty = [aid for aid, n in zip(pair, (n_a, n_b), strict=True) if n == 0]
    if not empty:
        return None
    trials = " or ".join(empty)
    if measure == "long_term_benefit":
        return f"no trials of {trials} with an outcome"
    return f"no assessable trials of {trials}"


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), in the order given.

    What ``statsmodels.stats.multitest.multipletests(method="holm")`` gives
    (a test compares them), written out because that function runs a full
    garbage collection on every call: twice per dashboard view, a few
    hundred milliseconds in a server process holding many objects.

    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p_values = np.asarray(p_values, dtype=float)
    order = np.argsort(p_values, kind="stable")
    steps = len(p_values) - np.arange(len(p_values))
    adjusted = np.minimum(np.maximum.accumulate(p_values[order] * steps), 1.0)
    result = np.empty_like(adjusted)
    result[order] = adjusted
    return result
