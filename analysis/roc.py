"""Which cut-off of the immediate pain drop predicts long-term benefit best here.

The rule reads relief as a drop of at least one point (or two, or 30%); this
module asks the clinic's own outcomes which drop predicts best. Over the
trials the rule check counts (assessable, with an outcome; under the
patient unit each patient once, whichever aid), the drop in
pain (``pain_without - pain_with``, in points and as a percentage of
``pain_without``) is scored against long-term benefit: the ROC curve, its
area with DeLong's 95% interval, and sensitivity, specificity and the
likelihood ratios at each whole cut-off, with the intervals of
:mod:`analysis.accuracy`.

Scores are whole numbers from 0 to 10, so a trial is one of 121 pairs of
scores: everything is computed from the count of trials per pair and
outcome, never by sorting the trials themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis._trials import (
    COUNTING_UNITS,
    CheckedTrials,
    CountingUnit,
    check_choice,
    check_trials,
    counting_note,
)
from analysis.accuracy import Estimate, _likelihood_ratios, _shares
from analysis.auc import auc_estimate
from analysis.rule import BenefitDefinition

__all__ = [
    "DROP_SCALES",
    "MINIMUM_OUTCOMES",
    "PERCENT_CUT_OFFS",
    "POINT_CUT_OFFS",
    "CutOff",
    "CutOffCheck",
    "DropCurve",
    "DropScale",
    "cut_off_check",
]

DropScale = Literal["points", "percent"]
DROP_SCALES: tuple[DropScale, ...] = ("points", "percent")
#: "Relief = a drop of at least k points", for each k.
POINT_CUT_OFFS: tuple[int, ...] = tuple(range(1, 11))
#: "Relief = a drop of at least k% of the pain without the aid", for each k.
PERCENT_CUT_OFFS: tuple[int, ...] = tuple(range(10, 101, 10))
#: Fewer outcomes than this and the result carries a warning.
MINIMUM_OUTCOMES = 30

_SCORES = 11  # pain scores 0 to 10
_PAIN_WITHOUT, _PAIN_WITH = np.divmod(np.arange(_SCORES**2), _SCORES)
_DROP = _PAIN_WITHOUT - _PAIN_WITH


@dataclass(frozen=True)
class CutOff:
    """Relief read as a drop of at least ``cut_off`` (points, or percent).

    The estimates are those of :class:`analysis.accuracy.RuleCheck`: Wilson
    intervals for sensitivity and specificity, log-method intervals for the
    likelihood ratios. ``youden`` is sensitivity + specificity - 1, None
    without trials in both outcome groups.
    """

    cut_off: int
    tp: int
    fp: int
    fn: int
    tn: int
    sensitivity: Estimate
    specificity: Estimate
    lr_positive: Estimate
    lr_negative: Estimate
    youden: float | None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "cut_off": self.cut_off,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            **{
                name: getattr(self, name).to_dict()
                for name in ("sensitivity", "specificity", "lr_positive", "lr_negative")
            },
            "youden": self.youden,
        }


@dataclass(frozen=True)
class DropCurve:
    """The drop on one scale against long-term benefit.

    ``auc`` is the area under the ROC curve: the chance that a trial with
    benefit had a larger drop than one without (ties count half), with
    DeLong's 95% interval. ``thresholds``, ``fpr`` and ``tpr`` are the
    curve's points for a plot, from (0, 0) (threshold None: nobody counts
    as relieved) to (1, 1), one point per drop seen, relief being a drop of
    at least the threshold. ``best`` is the cut-off with the largest Youden
    index (the smaller cut-off on a tie), None with ``best_reason`` when
    none does better than chance or it cannot be computed.
    """

    scale: DropScale
    auc: Estimate
    thresholds: tuple[float | None, ...]
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    cut_offs: tuple[CutOff, ...]
    best: CutOff | None
    best_reason: str | None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "scale": self.scale,
            "auc": self.auc.to_dict(),
            "curve": {
                "thresholds": list(self.thresholds),
                "fpr": list(self.fpr),
                "tpr": list(self.tpr),
            },
            "cut_offs": [cut_off.to_dict() for cut_off in self.cut_offs],
            "best": None if self.best is None else self.best.cut_off,
            "best_reason": self.best_reason,
        }


@dataclass(frozen=True)
class CutOffCheck:
    """The drop in points and in percent against long-term benefit.

    ``outcomes`` counts the trials used (``with_benefit`` +
    ``without_benefit``), ``patients`` the patients they come from and
    ``counting`` which trials they are; ``warning`` is set below
    :data:`MINIMUM_OUTCOMES`, when the best cut-off may well be chance.
    """

    benefit_definition: BenefitDefinition
    unit: CountingUnit
    outcomes: int
    with_benefit: int
    without_benefit: int
    patients: int
    counting: str
    points: DropCurve
    percent: DropCurve
    warning: str | None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "benefit_definition": self.benefit_definition,
            "unit": self.unit,
            "outcomes": self.outcomes,
            "with_benefit": self.with_benefit,
            "without_benefit": self.without_benefit,
            "patients": self.patients,
            "counting": self.counting,
            "points": self.points.to_dict(),
            "percent": self.percent.to_dict(),
            "warning": self.warning,
        }

    def table(self) -> pd.DataFrame:
        """One row per scale and cut-off; NaN where an estimate has no value."""
        rows = []
        for curve in (self.points, self.percent):
            best = None if curve.best is None else curve.best.cut_off
            for cut_off in curve.cut_offs:
                row = {
                    "scale": curve.scale,
                    "cut_off": cut_off.cut_off,
                    "tp": cut_off.tp,
                    "fp": cut_off.fp,
                    "fn": cut_off.fn,
                    "tn": cut_off.tn,
                }
                for name in (
                    "sensitivity",
                    "specificity",
                    "lr_positive",
                    "lr_negative",
                ):
                    estimate = getattr(cut_off, name)
                    low, high = estimate.ci or (np.nan, np.nan)
                    row |= {
                        name: _nan_if_none(estimate.value),
                        f"{name}_low": low,
                        f"{name}_high": high,
                    }
                row |= {
                    "youden": _nan_if_none(cut_off.youden),
                    "best": cut_off.cut_off == best,
                }
                rows.append(row)
        return pd.DataFrame(rows)


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else value


def cut_off_check(
    trials: pd.DataFrame | CheckedTrials,
    benefit_definition: BenefitDefinition = "markedly_improved",
    unit: CountingUnit = "patient",
) -> CutOffCheck:
    """The ROC of the immediate pain drop against long-term benefit.

    Counts trials as :func:`analysis.rule_check` does: assessable, with an
    outcome, and with ``unit="patient"`` each patient once, through their
    first such trial of any aid. Under ``unit="trial"`` DeLong's interval
    and the others treat a patient's trials as independent. On each
    scale: the curve, its AUC with DeLong's 95% interval (normal, clipped to
    0-1), and a :class:`CutOff` at each of :data:`POINT_CUT_OFFS` or
    :data:`PERCENT_CUT_OFFS`. A drop of 2 points is the rule's
    ``two_points`` criterion and 30% its ``thirty_percent``; the percentage
    boundary is exact (3 of 10 is 30%). A figure that cannot be computed is
    None with the reason, as in :func:`analysis.rule_check`.

    Examples
    --------
    >>> trials = pd.DataFrame(
    ...     {
    ...         "trial_id": range(1, 7),
    ...         "patient_id": range(1, 7),
    ...         "intervention": "insole",
    ...         "trial_date": "2024-01-01",
    ...         "pain_without": 6,
    ...         "pain_with": [2, 2, 3, 5, 5, 6],
    ...         "outcome_rating": ["markedly_improved"] * 3 + ["same"] * 3,
    ...     }
    ... )
    >>> check = cut_off_check(trials)
    >>> check.points.auc.value, check.points.best.cut_off, check.percent.best.cut_off
    (1.0, 2, 20)
    >>> check.warning
    'only 6 trials with an outcome (fewer than 30): the best cut-off may be chance'
    """
    check_choice("counting unit", unit, COUNTING_UNITS)
    checked = check_trials(trials, benefit_definition)
    counted = checked.counted(unit, outcome_required=True, pooled=True)
    pair = checked.pain_without[counted] * _SCORES + checked.pain_with[counted]
    benefit = checked.benefit[counted]
    # Trials per (pain without, pain with) pair: row 0 without benefit, row 1 with.
    per_pair = np.bincount(
        pair + _SCORES**2 * benefit, minlength=2 * _SCORES**2
    ).reshape(2, _SCORES**2)
    without_benefit, with_benefit = (int(total) for total in per_pair.sum(axis=1))
    outcomes = with_benefit + without_benefit
    assessable = _PAIN_WITHOUT > 0
    points = _curve(
        "points",
        per_pair,
        _DROP,
        [_DROP >= cut_off for cut_off in POINT_CUT_OFFS],
        POINT_CUT_OFFS,
    )
    percent = _curve(
        "percent",
        per_pair[:, assessable],
        100 * _DROP[assessable] / _PAIN_WITHOUT[assessable],
        # Whole numbers, so a drop of exactly k% counts.
        [
            (100 * _DROP >= cut_off * _PAIN_WITHOUT)[assessable]
            for cut_off in PERCENT_CUT_OFFS
        ],
        PERCENT_CUT_OFFS,
    )
    warning = None
    if outcomes == 0:
        warning = "no trials with an outcome"
    elif outcomes < MINIMUM_OUTCOMES:
        warning = (
            f"only {outcomes} trials with an outcome (fewer than "
            f"{MINIMUM_OUTCOMES}): the best cut-off may be chance"
        )
    return CutOffCheck(
        benefit_definition=benefit_definition,
        unit=unit,
        outcomes=outcomes,
        with_benefit=with_benefit,
        without_benefit=without_benefit,
        patients=checked.patients_among(counted),
        counting=counting_note(unit, pooled=True, outcome_required=True),
        points=points,
        percent=percent,
        warning=warning,
    )


def _curve(
    scale: DropScale,
    per_pair: np.ndarray,
    drop: np.ndarray,
    relieved: list[np.ndarray],
    cut_offs: tuple[int, ...],
) -> DropCurve:
    """One scale's curve from the trials per pair and each pair's drop."""
    values, position = np.unique(drop, return_inverse=True)
    without_benefit = np.bincount(position, per_pair[0], minlength=len(values))
    with_benefit = np.bincount(position, per_pair[1], minlength=len(values))
    # Each cut-off's 2x2: trials at or above it with and without benefit.
    relieved_at = np.array(relieved)
    tp = relieved_at @ per_pair[1]
    fp = relieved_at @ per_pair[0]
    fn, tn = with_benefit.sum() - tp, without_benefit.sum() - fp
    count = len(cut_offs)
    shares = _shares(
        (*tp, *tn),
        (*(tp + fn), *(fp + tn)),
        (
            *["no trials with long-term benefit"] * count,
            *["no trials without long-term benefit"] * count,
        ),
    )
    rows = [
        _cut_off(
            cut_off,
            tables,
            sensitivity=shares[number],
            specificity=shares[count + number],
        )
        for number, (cut_off, tables) in enumerate(
            zip(cut_offs, zip(tp, fp, fn, tn, strict=True), strict=True)
        )
    ]
    best, best_reason = _best(rows)
    seen = (with_benefit + without_benefit) > 0
    thresholds, fpr, tpr = _points(
        values[seen], with_benefit[seen], without_benefit[seen]
    )
    return DropCurve(
        scale=scale,
        auc=auc_estimate(with_benefit, without_benefit),
        thresholds=thresholds,
        fpr=fpr,
        tpr=tpr,
        cut_offs=tuple(rows),
        best=best,
        best_reason=best_reason,
    )


def _cut_off(
    cut_off: int,
    table: tuple[int, int, int, int],
    sensitivity: Estimate,
    specificity: Estimate,
) -> CutOff:
    tp, fp, fn, tn = (int(cell) for cell in table)
    youden = None
    if sensitivity.value is not None and specificity.value is not None:
        youden = sensitivity.value + specificity.value - 1
    return CutOff(
        cut_off=cut_off,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        sensitivity=sensitivity,
        specificity=specificity,
        **_likelihood_ratios(tp, fp, fn, tn),
        youden=youden,
    )


def _best(rows: list[CutOff]) -> tuple[CutOff | None, str | None]:
    """The cut-off with the largest Youden index, the smaller one on a tie."""
    if rows[0].youden is None:
        return None, (rows[0].sensitivity.reason or rows[0].specificity.reason)
    with_benefit = rows[0].tp + rows[0].fn
    without_benefit = rows[0].fp + rows[0].tn
    # sensitivity + specificity scaled to whole numbers, so ties are exact.
    scores = [row.tp * without_benefit + row.tn * with_benefit for row in rows]
    best = rows[int(np.argmax(scores))]
    if max(scores) <= with_benefit * without_benefit:
        return None, "no cut-off does better than chance (Youden index 0 or less)"
    return best, None


def _points(
    values: np.ndarray, with_benefit: np.ndarray, without_benefit: np.ndarray
) -> tuple[tuple, tuple, tuple]:
    """The curve from (0, 0) down through each drop seen, largest first."""
    m, n = with_benefit.sum(), without_benefit.sum()
    if m == 0 or n == 0:
        return (), (), ()
    tpr = np.cumsum(with_benefit[::-1]) / m
    fpr = np.cumsum(without_benefit[::-1]) / n
    thresholds = [None, *(_plain(value) for value in values[::-1])]
    return (
        tuple(thresholds),
        (0.0, *(float(x) for x in fpr)),
        (0.0, *(float(x) for x in tpr)),
    )


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)
