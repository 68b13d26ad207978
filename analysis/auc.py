"""The area under an ROC curve and DeLong's interval, from counts per score.

For :mod:`analysis.roc`: the scores are whole numbers, so both groups
arrive as the count of trials at each score, never as trials to sort.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from analysis.accuracy import Estimate

__all__ = ["auc_estimate", "delong_auc"]


def delong_auc(
    with_benefit: np.ndarray, without_benefit: np.ndarray
) -> tuple[float, float]:
    """The AUC and DeLong's variance from the count of trials at each score.

    ``with_benefit[k]`` and ``without_benefit[k]`` count the trials of each
    group at the k-th score, in ascending order. This is the midrank
    algorithm of Sun & Xu (2014, IEEE Signal Process. Lett. 21:1389) for
    the variance of DeLong, DeLong & Clarke-Pearson (1988, Biometrics
    44:837), with the trials at one score sharing one midrank: each trial
    with benefit is placed by the share of trials without it that it beats
    (ties half), and the other way round; the AUC is the mean placement,
    the Mann-Whitney U / (m n). The variance is NaN with fewer than two
    trials in a group.

    Examples
    --------
    >>> delong_auc([0, 1, 1], [1, 1, 0])
    (0.875, 0.03125)
    """
    cases = np.asarray(with_benefit, dtype="float64")
    controls = np.asarray(without_benefit, dtype="float64")
    if cases.shape != controls.shape or cases.ndim != 1:
        raise ValueError("the counts must be two lists of the same length")
    if (cases < 0).any() or (controls < 0).any():
        raise ValueError("the counts must not be negative")
    m, n = cases.sum(), controls.sum()
    if m == 0 or n == 0:
        raise ValueError("both groups need at least one trial")
    # Sun & Xu's midrank differences T_Z - T_X (and T_Z - T_Y) are, per
    # score, the other group's trials below it plus half those tied with it;
    # a trial without benefit is placed by the share above it instead. Whole
    # numbers until the division, so a perfect split gives exactly 1.
    controls_below = np.cumsum(controls) - controls
    cases_above = m - np.cumsum(cases)
    placement_cases = (2 * controls_below + controls) / (2 * n)
    placement_controls = (2 * cases_above + cases) / (2 * m)
    auc = (cases @ (2 * controls_below + controls)) / (2 * m * n)
    if m < 2 or n < 2:
        return float(auc), float("nan")
    spread_cases = cases @ (placement_cases - auc) ** 2 / (m - 1)
    spread_controls = controls @ (placement_controls - auc) ** 2 / (n - 1)
    return float(auc), float(spread_cases / m + spread_controls / n)


def auc_estimate(with_benefit: np.ndarray, without_benefit: np.ndarray) -> Estimate:
    """The AUC with DeLong's 95% interval, or the reason there is none."""
    if with_benefit.sum() == 0:
        return Estimate(None, None, "no trials with long-term benefit")
    if without_benefit.sum() == 0:
        return Estimate(None, None, "no trials without long-term benefit")
    auc, variance = delong_auc(with_benefit, without_benefit)
    if np.isnan(variance):
        return Estimate(
            auc,
            None,
            "DeLong's interval needs two trials with and two without long-term benefit",
        )
    if _placements_all_alike(with_benefit, without_benefit):
        return Estimate(
            auc,
            None,
            "the drops with and without benefit do not overlap, or are all the "
            "same: DeLong's variance is 0, with no interval",
        )
    half_width = float(norm.isf(0.025) * np.sqrt(variance))
    return Estimate(auc, (max(0.0, auc - half_width), min(1.0, auc + half_width)))


def _placements_all_alike(
    with_benefit: np.ndarray, without_benefit: np.ndarray
) -> bool:
    """Whether DeLong's variance is exactly 0, judged on whole numbers.

    It is 0 when every trial of a group has the same placement among the
    other group; rounding would leave a tiny positive variance instead.
    """

    def alike(group: np.ndarray, other: np.ndarray) -> bool:
        # Twice the number of the other group's trials each score beats.
        beaten = 2 * (np.cumsum(other) - other) + other
        return len(np.unique(beaten[group > 0])) == 1

    return alike(with_benefit, without_benefit) and alike(without_benefit, with_benefit)
