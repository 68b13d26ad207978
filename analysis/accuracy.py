"""How well immediate relief predicts long-term benefit in this clinic.

Immediate relief is the test, long-term benefit the condition, over the
assessable trials that have an outcome. The published check of the rule
(Vicenzino et al. 2010) reports sensitivity, specificity and likelihood
ratios, so the clinic's own numbers are given the same way.

The check pools the aids. Under the patient unit each patient counts once,
through their first assessable trial with an outcome, whichever aid it was
(:func:`analysis.counting_note` words it; ``RuleCheck.counting`` carries
it). That may be a later trial than the one the relief rate counts, their
first assessable trial. A frame of one aid's trials gives that aid's check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis._limits import limits
from analysis._trials import (
    COUNTING_UNITS,
    CheckedTrials,
    CountingUnit,
    check_choice,
    check_trials,
    counting_note,
)
from analysis.clusters import clustered_intervals
from analysis.rates import Proportion, proportion
from analysis.rule import RELIEF_CRITERIA, BenefitDefinition, ReliefCriterion

__all__ = [
    "Estimate",
    "RuleCheck",
    "TwoByTwo",
    "rule_check",
    "rule_check_by_criterion",
    "two_by_two",
]


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% interval; None for what cannot be computed, and why."""

    value: float | None
    ci: tuple[float, float] | None
    reason: str | None = None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "value": self.value,
            "ci": None if self.ci is None else list(self.ci),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TwoByTwo:
    """Counted trials by relief (test) and long-term benefit (condition)."""

    tp: int  # relief, benefit
    fp: int  # relief, no benefit
    fn: int  # no relief, benefit
    tn: int  # no relief, no benefit


@dataclass(frozen=True)
class RuleCheck:
    """The rule against the outcomes, for one relief criterion.

    Sensitivity, specificity and the predictive values carry Wilson 95%
    intervals; the likelihood ratios carry log-method intervals for a ratio
    of two proportions. ``benefit_with_relief`` and
    ``benefit_without_relief`` are the rates the rule promises to separate.

    ``patients`` counts the patients behind the table's trials and
    ``counting`` says which trials those are. Under the patient unit each
    patient is one trial and the ordinary intervals hold. Under the trial
    unit a patient may be several trials: read
    ``benefit_with_relief_cluster`` and ``benefit_without_relief_cluster``,
    the same rates with the cluster interval of :mod:`analysis.rates`,
    which allows for that. The other intervals treat trials as independent.
    """

    criterion: ReliefCriterion
    benefit_definition: BenefitDefinition
    unit: CountingUnit
    tp: int
    fp: int
    fn: int
    tn: int
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    lr_positive: Estimate
    lr_negative: Estimate
    benefit_with_relief: Proportion
    benefit_without_relief: Proportion
    patients: int
    counting: str
    benefit_with_relief_cluster: Estimate
    benefit_without_relief_cluster: Estimate

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        estimates = (
            "sensitivity",
            "specificity",
            "ppv",
            "npv",
            "lr_positive",
            "lr_negative",
            "benefit_with_relief",
            "benefit_without_relief",
            "benefit_with_relief_cluster",
            "benefit_without_relief_cluster",
        )
        return {
            "criterion": self.criterion,
            "benefit_definition": self.benefit_definition,
            "unit": self.unit,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "patients": self.patients,
            "counting": self.counting,
            **{name: getattr(self, name).to_dict() for name in estimates},
        }


def two_by_two(
    trials: pd.DataFrame | CheckedTrials,
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
    unit: CountingUnit = "patient",
) -> TwoByTwo:
    """Relief against long-term benefit over the counted trials with an outcome.

    Trials are counted as in :func:`~analysis.rates.count_unit` with
    ``outcome_required=True`` and ``pooled=True``: under the patient unit
    each patient's first assessable trial with an outcome, of any aid.
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition, criterion)
    return _two_by_two(*_verdicts(checked, criterion, unit)[1:])


def _verdicts(
    checked: CheckedTrials, criterion: ReliefCriterion, unit: CountingUnit
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positions of the trials the check counts, their relief and benefit."""
    counted = checked.counted(unit, outcome_required=True, pooled=True)
    return counted, checked.relief(criterion)[counted], checked.benefit[counted]


def _two_by_two(relief: np.ndarray, benefit: np.ndarray) -> TwoByTwo:
    return TwoByTwo(
        tp=int((relief & benefit).sum()),
        fp=int((relief & ~benefit).sum()),
        fn=int((~relief & benefit).sum()),
        tn=int((~relief & ~benefit).sum()),
    )


def rule_check(
    trials: pd.DataFrame | CheckedTrials,
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
    unit: CountingUnit = "patient",
) -> RuleCheck:
    """Sensitivity, specificity, predictive values and likelihood ratios of the rule.

    Trials are counted as by :func:`two_by_two`. A figure that cannot be
    computed from the counts (no trials with benefit, or an infinite
    likelihood ratio) is None with the reason.
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition, criterion)
    return _rule_check(checked, criterion, benefit_definition, unit)


def rule_check_by_criterion(
    trials: pd.DataFrame | CheckedTrials,
    benefit_definition: BenefitDefinition = "markedly_improved",
    unit: CountingUnit = "patient",
) -> list[RuleCheck]:
    """:func:`rule_check` under each relief criterion, in their usual order."""
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition)
    patients = checked.patients_among(
        checked.counted(unit, outcome_required=True, pooled=True)
    )
    return [
        _rule_check(checked, criterion, benefit_definition, unit, patients)
        for criterion in RELIEF_CRITERIA
    ]


def _rule_check(
    checked: CheckedTrials,
    criterion: ReliefCriterion,
    benefit_definition: BenefitDefinition,
    unit: CountingUnit,
    patients: int | None = None,
) -> RuleCheck:
    counted, relief, benefit = _verdicts(checked, criterion, unit)
    table = _two_by_two(relief, benefit)
    tp, fp, fn, tn = table.tp, table.fp, table.fn, table.tn
    # Row 0 the trials with relief, row 1 those without.
    _, _, low, high = clustered_intervals(
        benefit,
        checked.patient[counted],
        (~relief).astype("int64"),
        2,
        each_patient_once=unit == "patient",
    )
    if patients is None:
        patients = checked.patients_among(counted)
    return RuleCheck(
        criterion=criterion,
        benefit_definition=benefit_definition,
        unit=unit,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        **dict(
            zip(
                ("sensitivity", "specificity", "ppv", "npv"),
                _shares(
                    (tp, tn, tp, tn),
                    (tp + fn, fp + tn, tp + fp, fn + tn),
                    (
                        "no trials with long-term benefit",
                        "no trials without long-term benefit",
                        "no trials with immediate relief",
                        "no trials without immediate relief",
                    ),
                ),
                strict=True,
            )
        ),
        **_likelihood_ratios(tp, fp, fn, tn),
        benefit_with_relief=proportion(tp, tp + fp),
        benefit_without_relief=proportion(fn, fn + tn),
        patients=patients,
        counting=counting_note(unit, pooled=True, outcome_required=True),
        benefit_with_relief_cluster=_clustered_share(
            tp, tp + fp, low[0], high[0], "no trials with immediate relief"
        ),
        benefit_without_relief_cluster=_clustered_share(
            fn, fn + tn, low[1], high[1], "no trials without immediate relief"
        ),
    )


def _clustered_share(
    count: int, n: int, low: float, high: float, reason_if_none: str
) -> Estimate:
    if n == 0:
        return Estimate(None, None, reason_if_none)
    return Estimate(count / n, (float(low), float(high)))


def _shares(
    counts: Sequence[int], ns: Sequence[int], reasons_if_none: Sequence[str]
) -> list[Estimate]:
    """Each count of its n with the Wilson 95% interval, or None with the reason.

    All in one interval computation: the ROC's table has two for each cut-off.
    """
    counts, ns = np.asarray(counts, dtype="int64"), np.asarray(ns, dtype="int64")
    low, high = limits(counts, ns, "wilson")
    return [
        Estimate(int(count) / int(n), (float(lo), float(hi)))
        if n > 0
        else Estimate(None, None, reason)
        for count, n, lo, hi, reason in zip(
            counts, ns, low, high, reasons_if_none, strict=True
        )
    ]


def _likelihood_ratios(tp: int, fp: int, fn: int, tn: int) -> dict[str, Estimate]:
    """LR+ and LR- of a 2x2, each with the reason when it has no value."""
    return {
        "lr_positive": _likelihood_ratio(
            "LR+",
            tp,
            tp + fn,
            fp,
            fp + tn,
            undefined="no trials with immediate relief",
            infinite="specificity is 100%",
            zero="sensitivity is 0%",
        ),
        "lr_negative": _likelihood_ratio(
            "LR-",
            fn,
            tp + fn,
            tn,
            fp + tn,
            undefined="no trials without immediate relief",
            infinite="specificity is 0%",
            zero="sensitivity is 100%",
        ),
    }


def _likelihood_ratio(
    name: str,
    with_benefit: int,
    benefit_n: int,
    without_benefit: int,
    no_benefit_n: int,
    *,
    undefined: str,
    infinite: str,
    zero: str,
) -> Estimate:
    """The ratio of a result's rate with benefit to its rate without.

    The log-method interval needs both counts above zero; at zero the value
    is still given where it exists, with the reason there is no interval.
    """
    if benefit_n == 0:
        return Estimate(None, None, "no trials with long-term benefit")
    if no_benefit_n == 0:
        return Estimate(None, None, "no trials without long-term benefit")
    if without_benefit == 0:
        if with_benefit == 0:
            return Estimate(None, None, f"{undefined}: {name} is undefined")
        return Estimate(None, None, f"{infinite}: {name} is infinite")
    value = (with_benefit / benefit_n) / (without_benefit / no_benefit_n)
    if with_benefit == 0:
        return Estimate(value, None, f"{zero}: {name} is 0, with no interval")
    # Both rates at 100% leave the log method no variance: a zero-width interval.
    if with_benefit == benefit_n and without_benefit == no_benefit_n:
        return Estimate(
            value,
            None,
            f"the rule gave every trial the same result: {name} is 1, with no interval",
        )
    low, high = confint_proportions_2indep(
        with_benefit,
        benefit_n,
        without_benefit,
        no_benefit_n,
        compare="ratio",
        method="log",
    )
    return Estimate(value, (float(low), float(high)))
