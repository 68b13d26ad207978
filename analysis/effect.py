"""The rule's effect: how much more often trials with immediate relief benefit.

The rule check (:mod:`analysis.accuracy`) asks how well relief predicts
benefit; this asks how large the difference is, in the terms a trial report
uses: benefit with relief minus benefit without (risk difference), their
ratio (risk ratio), the odds ratio, and Fisher's exact test of no
difference. The pooled 2x2 is the rule check's, counted the same way; each
aid's is counted once per patient and aid.

The methods, and why:

- risk difference: Newcombe's hybrid score interval (method 10 of Newcombe
  1998), built from the Wilson intervals the rates already show; it exists
  at 0% and 100%.
- risk ratio: the log method (Katz). It is closed-form and the method of the
  rule check's likelihood ratios, which are ratios of two proportions too.
  statsmodels' Koopman score interval is not used: when every trial in a row
  benefits, its cubic gives complex limits or an interval that misses the
  estimate.
- odds ratio: the sample odds ratio with Gart's adjusted logit interval (0.5
  added to every cell, statsmodels' ``logit-adjusted``). It is closed-form
  and stays finite when a cell is empty. The exact conditional interval
  (``scipy.stats.contingency.odds_ratio``) is not used because it gets slower
  as the counts grow, and it would be too slow on the whole clinic's
  history.
- Fisher's exact test: two-sided, valid at any count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

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
    counting_note,
)
from analysis.accuracy import Estimate, TwoByTwo
from analysis.fisher import fisher_p
from analysis.rates import Proportion, _whole_number, proportion
from analysis.rule import (
    BENEFIT_DEFINITIONS,
    RELIEF_CRITERIA,
    BenefitDefinition,
    ReliefCriterion,
)

__all__ = ["RuleEffect", "rule_effect", "rule_effects"]


@dataclass(frozen=True)
class RuleEffect:
    """Long-term benefit with immediate relief against benefit without it.

    ``intervention`` is the aid, or None for all aids pooled (the rule
    check's table). ``risk_ratio`` is what the sentence "patients who felt
    relief at once were 2.1 times as likely to be markedly better (95% CI
    1.3-3.4)" needs, together with ``criterion`` and ``benefit_definition``.
    The rates behind it are ``benefit_with_relief`` and
    ``benefit_without_relief``. ``patients`` counts the patients behind the
    table and ``counting`` says which trials it holds, where known (None
    from :func:`rule_effect` given only a table).

    When something is None, and why:

    - A row with no trials (no relief, or no trials without relief, or no
      outcomes at all) leaves nothing to compare. ``reason`` says which row
      is empty, all three estimates are None with that reason, and
      ``fisher_p`` is None. The non-empty row's rate is still given.
    - Otherwise ``risk_difference`` and ``fisher_p`` always exist. Fisher's p
      is 1 when nobody, or everybody, benefits.
    - ``risk_ratio`` uses the log method, which needs benefit in both rows.
      With no benefit in either row it is undefined (None). With no benefit
      without relief it is infinite (None). With no benefit with relief it
      is 0, with no interval. When every trial benefits it is 1, with no
      interval (the log method has no variance then).
    - ``odds_ratio`` is undefined (None) when nobody, or everybody,
      benefits. When one cell is empty the sample odds ratio is 0 (value 0)
      or infinite (value None), but Gart's interval is still given, and
      ``reason`` says why.
    """

    intervention: Intervention | None
    criterion: ReliefCriterion
    benefit_definition: BenefitDefinition
    unit: CountingUnit
    tp: int
    fp: int
    fn: int
    tn: int
    benefit_with_relief: Proportion
    benefit_without_relief: Proportion
    risk_difference: Estimate
    risk_ratio: Estimate
    odds_ratio: Estimate
    fisher_p: float | None
    reason: str | None = None
    patients: int | None = None
    counting: str | None = None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        nested = (
            "benefit_with_relief",
            "benefit_without_relief",
            "risk_difference",
            "risk_ratio",
            "odds_ratio",
        )
        return {
            "intervention": self.intervention,
            "criterion": self.criterion,
            "benefit_definition": self.benefit_definition,
            "unit": self.unit,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            **{name: getattr(self, name).to_dict() for name in nested},
            "fisher_p": self.fisher_p,
            "reason": self.reason,
            "patients": self.patients,
            "counting": self.counting,
        }


def rule_effect(
    table: TwoByTwo,
    criterion: ReliefCriterion = "any",
    benefit_definition: BenefitDefinition = "markedly_improved",
    unit: CountingUnit = "patient",
    intervention: Intervention | None = None,
) -> RuleEffect:
    """The effect of relief on benefit in one 2x2 table.

    The labels (``criterion`` ... ``intervention``) are only carried along
    so that the result says what it is about.

    Examples
    --------
    >>> effect = rule_effect(TwoByTwo(tp=6, fp=1, fn=11, tn=24))
    >>> round(effect.risk_ratio.value, 2), [round(x, 2) for x in effect.risk_ratio.ci]
    (2.73, [1.53, 4.85])
    >>> round(effect.fisher_p, 4)
    0.0122
    >>> rule_effect(TwoByTwo(tp=0, fp=0, fn=3, tn=5)).reason
    'no trials with immediate relief'
    """
    check_choice("relief criterion", criterion, RELIEF_CRITERIA)
    check_choice("benefit definition", benefit_definition, BENEFIT_DEFINITIONS)
    check_choice("counting unit", unit, COUNTING_UNITS)
    check_choice("intervention", intervention, (*INTERVENTIONS, None))
    tp, fp, fn, tn = _cells(table)
    labels = {
        "intervention": intervention,
        "criterion": criterion,
        "benefit_definition": benefit_definition,
        "unit": unit,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "benefit_with_relief": proportion(tp, tp + fp),
        "benefit_without_relief": proportion(fn, fn + tn),
    }
    empty_row = _empty_row(tp + fp, fn + tn)
    if empty_row is not None:
        nothing = Estimate(None, None, empty_row)
        return RuleEffect(
            **labels,
            risk_difference=nothing,
            risk_ratio=nothing,
            odds_ratio=nothing,
            fisher_p=None,
            reason=empty_row,
        )
    low, high = confint_proportions_2indep(
        tp, tp + fp, fn, fn + tn, compare="diff", method="newcomb"
    )
    return RuleEffect(
        **labels,
        risk_difference=Estimate(
            tp / (tp + fp) - fn / (fn + tn), (float(low), float(high))
        ),
        risk_ratio=_risk_ratio(tp, fp, fn, tn),
        odds_ratio=_odds_ratio(tp, fp, fn, tn),
        fisher_p=fisher_p(tp, fp, fn, tn),
    )


def rule_effects(
    trials: pd.DataFrame | CheckedTrials,
    criteria: Sequence[ReliefCriterion] = RELIEF_CRITERIA,
    benefit_definition: BenefitDefinition = "markedly_improved",
    unit: CountingUnit = "patient",
) -> list[RuleEffect]:
    """:func:`rule_effect` per aid and pooled, under each relief criterion.

    The trials are counted as the rule check counts them
    (:func:`analysis.accuracy.two_by_two`): assessable, with an outcome.
    Under ``unit="patient"`` each aid's table holds each patient's first
    such trial of that aid, and the pooled table each patient's first such
    trial of any aid, so a patient who tried two aids is once in each aid's
    table and once in the pooled one: the pooled table is the rule check's,
    not the sum of the aids'. Under ``unit="trial"`` every such trial
    counts and the pooled table is the sum of the aids'; the intervals then
    treat a patient's trials as independent. The tables are taken as they
    are, not weighted by aid (no Mantel-Haenszel).

    For each criterion in ``criteria`` (pass
    :data:`analysis.rule.CLINIC_RELIEF_CRITERIA` for the clinic's two), the
    order is: pooled (``intervention`` None), then insole, taping and brace.
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    for criterion in criteria:
        check_choice("relief criterion", criterion, RELIEF_CRITERIA)
    checked = check_trials(trials, benefit_definition)
    per_aid = checked.counted(unit, outcome_required=True)
    pooled = checked.counted(unit, outcome_required=True, pooled=True)
    patients = {
        None: checked.patients_among(pooled),
        **{
            aid: checked.patients_among(per_aid[checked.intervention[per_aid] == i])
            for i, aid in enumerate(INTERVENTIONS)
        },
    }
    counting = {
        None: counting_note(unit, pooled=True, outcome_required=True),
        **dict.fromkeys(
            INTERVENTIONS, counting_note(unit, pooled=False, outcome_required=True)
        ),
    }
    effects = []
    for criterion in criteria:
        relief = checked.relief(criterion)
        tables = _tables(checked, per_aid, relief)
        # Under the trial unit the pooled trials are the aids' trials.
        pooled_tables = (
            tables if pooled is per_aid else _tables(checked, pooled, relief)
        )
        for aid, table in (
            (None, pooled_tables.sum(axis=0)),
            *zip(INTERVENTIONS, tables, strict=True),
        ):
            effect = rule_effect(
                TwoByTwo(*(int(cell) for cell in table)),
                criterion,
                benefit_definition,
                unit,
                aid,
            )
            effects.append(
                replace(effect, patients=patients[aid], counting=counting[aid])
            )
    return effects


def _tables(
    checked: CheckedTrials, counted: np.ndarray, relief: np.ndarray
) -> np.ndarray:
    """Each aid's 2x2 over the ``counted`` trials: one row of tp, fp, fn, tn per aid."""
    # One pass over the trials: cell = aid * 4 + 2 * no relief + no benefit.
    return np.bincount(
        checked.intervention[counted] * 4
        + 2 * ~relief[counted]
        + ~checked.benefit[counted],
        minlength=4 * len(INTERVENTIONS),
    ).reshape(len(INTERVENTIONS), 4)


def _cells(table: TwoByTwo) -> tuple[int, int, int, int]:
    if not isinstance(table, TwoByTwo):
        raise TypeError(f"table must be a TwoByTwo, not {type(table).__name__}")
    cells = tuple(
        _whole_number(getattr(table, name), name) for name in ("tp", "fp", "fn", "tn")
    )
    if min(cells) < 0:
        raise ValueError(f"the cells of a 2x2 cannot be negative; got {cells}")
    return cells


def _empty_row(with_relief: int, without_relief: int) -> str | None:
    if with_relief == 0 and without_relief == 0:
        return "no trials with an outcome"
    if with_relief == 0:
        return "no trials with immediate relief"
    if without_relief == 0:
        return "no trials without immediate relief"
    return None


def _risk_ratio(tp: int, fp: int, fn: int, tn: int) -> Estimate:
    if tp == 0 and fn == 0:
        return Estimate(
            None, None, "no trials with long-term benefit: the risk ratio is undefined"
        )
    if fn == 0:
        return Estimate(
            None,
            None,
            "no long-term benefit without immediate relief: the risk ratio is infinite",
        )
    if tp == 0:
        return Estimate(
            0.0,
            None,
            "no long-term benefit with immediate relief: "
            "the risk ratio is 0, with no interval",
        )
    if fp == 0 and tn == 0:
        return Estimate(
            1.0,
            None,
            "every trial had long-term benefit: the risk ratio is 1, with no interval",
        )
    low, high = confint_proportions_2indep(
        tp, tp + fp, fn, fn + tn, compare="ratio", method="log"
    )
    value = (tp / (tp + fp)) / (fn / (fn + tn))
    return Estimate(value, (float(low), float(high)))


def _odds_ratio(tp: int, fp: int, fn: int, tn: int) -> Estimate:
    if tp == 0 and fn == 0:
        return Estimate(
            None, None, "no trials with long-term benefit: the odds ratio is undefined"
        )
    if fp == 0 and tn == 0:
        return Estimate(
            None, None, "every trial had long-term benefit: the odds ratio is undefined"
        )
    low, high = confint_proportions_2indep(
        tp, tp + fp, fn, fn + tn, compare="odds-ratio", method="logit-adjusted"
    )
    ci = (float(low), float(high))
    # With both rows and both columns filled, at most one of tp*tn and fp*fn is 0.
    if fp * fn == 0:
        return Estimate(
            None,
            ci,
            "an empty cell: the odds ratio is infinite; "
            "its interval adds 0.5 to every cell",
        )
    if tp * tn == 0:
        return Estimate(
            0.0,
            ci,
            "an empty cell: the odds ratio is 0; its interval adds 0.5 to every cell",
        )
    return Estimate((tp * tn) / (fp * fn), ci)
