"""Funnel plots: each product's or therapist's rate against the pooled rate.

A group's rate is plotted against its number of cases, with 95% and 99.8%
limits around the pooled rate that narrow as the number grows
(Spiegelhalter 2005, "Funnel plots for comparing institutional
performance", Stat Med 24:1185-1202). A small group far from the pooled rate
is then not mistaken for a real difference, and a large group only a little
off it is not overlooked.

The limits are exact binomial ones, not the normal approximation. One
clinic's groups are small, and near 0% or 100% the normal limits are too
narrow on one side and run past 0 or 1 on the other. Spiegelhalter's
interpolation (his Appendix A.1.1) turns the binomial's step-shaped quantiles
into smooth lines. For the p-quantile, with ``r`` the smallest count such
that P(R <= r) >= p, the line is at ``(r - a) / n``, where
``a = (P(R <= r) - p) / P(R = r)``.

That formula spreads each count's probability over the unit below it, so
used for the upper limit it would sit up to one case too low. For example, 3
of 3 at a pooled 80% would plot above the 99.8% line, although it happens
half the time. So the upper limit is worked out the same way for the cases
*without* benefit and mirrored. A group is then outside a limit exactly
when the exact binomial probability of a count at least as far out as its
own (its own included) is below 2.5% (95% limits) or 0.1% (99.8% limits),
on each side alike. Limits are clipped to 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binom

__all__ = [
    "FUNNEL_POSITIONS",
    "LIMIT_COLUMNS",
    "Funnel",
    "FunnelPosition",
    "funnel_limits",
    "funnel_plot_data",
]

FunnelPosition = Literal[
    "below_998", "below_95", "inside", "above_95", "above_998", "no_cases"
]
#: Lowest first; ``no_cases`` for a group without cases, which has no rate.
FUNNEL_POSITIONS: tuple[FunnelPosition, ...] = (
    "below_998",
    "below_95",
    "inside",
    "above_95",
    "above_998",
    "no_cases",
)
#: The limits, as rates, after the ``n`` column of :func:`funnel_limits`.
LIMIT_COLUMNS: tuple[str, ...] = ("low_998", "low_95", "high_95", "high_998")
#: One-sided tail probabilities of the 99.8% and 95% limits.
_TAILS = {"998": 0.001, "95": 0.025}


@dataclass(frozen=True, eq=False)
class Funnel:
    """The pooled rate, the limits to draw, and where each group lies.

    ``target`` is the pooled rate (None when no group has cases).
    ``limits`` is :func:`funnel_limits` on a grid of n from 1 to the largest
    group (empty without cases). ``groups`` is a copy of the groups with
    ``rate``, the :data:`LIMIT_COLUMNS` at the group's own n, and
    ``position`` (categories :data:`FUNNEL_POSITIONS`) added, so that a
    dot's colour and its place against the lines agree.
    """

    target: float | None
    limits: pd.DataFrame
    groups: pd.DataFrame


def funnel_limits(target: float, n: ArrayLike) -> pd.DataFrame:
    """The 95% and 99.8% limits, as rates, around ``target`` at each ``n``.

    One row per ``n`` (whole numbers from 1), in the order given, with the
    ``n`` column and then :data:`LIMIT_COLUMNS`.

    Examples
    --------
    >>> limits = funnel_limits(0.5, [10, 1000])
    >>> [round(x, 4) for x in limits.iloc[0, 1:]]
    [0.0002, 0.1324, 0.8676, 0.9998]
    >>> [round(x, 3) for x in limits.iloc[1, 1:]]
    [0.451, 0.469, 0.531, 0.549]
    """
    target = _checked_target(target)
    sizes = np.asarray(n)
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or (sizes < 1).any():
        raise ValueError("n must be whole numbers from 1")
    sizes = sizes.astype("int64")
    columns = {"n": sizes}
    for level, tail in _TAILS.items():
        columns[f"low_{level}"] = _interpolated_quantile(tail, sizes, target)
        columns[f"high_{level}"] = 1.0 - _interpolated_quantile(
            tail, sizes, 1.0 - target
        )
    return pd.DataFrame(columns, columns=["n", *LIMIT_COLUMNS])


def funnel_plot_data(
    groups: pd.DataFrame,
    count: str = "long_term_benefit_count",
    n: str = "long_term_benefit_n",
    points: int = 400,
) -> Funnel:
    """A funnel plot of ``count`` out of ``n`` for each row of ``groups``.

    ``groups`` has one row per product, therapist..., for example
    :func:`analysis.rates.response_rates` by product (whose default columns
    ``count`` and ``n`` name; pass ``immediate_relief_count`` and
    ``immediate_relief_n`` for relief). Compare products under
    ``unit="trial"``, as that function says. The target is the pooled rate,
    the sum of ``count`` over the sum of ``n``.

    The grid of n takes every whole number up to ``points``. Beyond that it
    takes ``points`` numbers spaced evenly on a log scale from 1 to the
    largest group, which is closest where the lines bend.

    Examples
    --------
    >>> groups = pd.DataFrame({"product": ["A", "B", "C"],
    ...                        "long_term_benefit_count": [2, 20, 9],
    ...                        "long_term_benefit_n": [20, 40, 20]})
    >>> result = funnel_plot_data(groups)
    >>> round(result.target, 3), len(result.limits)
    (0.388, 40)
    >>> result.groups["position"].tolist()
    ['below_95', 'inside', 'inside']
    """
    _check_columns(groups, count, n)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError("points must be a whole number of at least 2")
    counts = _whole_numbers(groups[count], count)
    sizes = _whole_numbers(groups[n], n)
    if ((counts < 0) | (counts > sizes)).any():
        raise ValueError(f"{count} must lie between 0 and {n}")

    result = groups.copy()
    cases = sizes > 0
    result["rate"] = np.where(cases, counts / np.maximum(sizes, 1), np.nan)
    if not cases.any():
        for column in LIMIT_COLUMNS:
            result[column] = np.nan
        result["position"] = pd.Categorical(
            ["no_cases"] * len(result), categories=list(FUNNEL_POSITIONS)
        )
        empty = pd.DataFrame(columns=["n", *LIMIT_COLUMNS])
        return Funnel(None, empty, result)

    target = float(counts.sum() / sizes.sum())
    own = funnel_limits(target, sizes[cases])
    for column in LIMIT_COLUMNS:
        result[column] = np.nan
        result.loc[cases, column] = own[column].to_numpy()
    result["position"] = _positions(result, cases)
    grid = funnel_limits(target, _grid(int(sizes.max()), points))
    return Funnel(target, grid, result)


def _interpolated_quantile(tail: float, n: np.ndarray, rate: float) -> np.ndarray:
    """Spiegelhalter's interpolated ``tail`` quantile of Binomial(n, rate), over n."""
    r = binom.ppf(tail, n, rate)
    a = (binom.cdf(r, n, rate) - tail) / binom.pmf(r, n, rate)
    return np.clip((r - a) / n, 0.0, 1.0)


def _positions(result: pd.DataFrame, cases: np.ndarray) -> pd.Categorical:
    rate = result["rate"].to_numpy()
    position = np.select(
        [
            ~cases,
            rate < result["low_998"].to_numpy(),
            rate < result["low_95"].to_numpy(),
            rate > result["high_998"].to_numpy(),
            rate > result["high_95"].to_numpy(),
        ],
        ["no_cases", "below_998", "below_95", "above_998", "above_95"],
        default="inside",
    )
    return pd.Categorical(position, categories=list(FUNNEL_POSITIONS))


def _grid(largest: int, points: int) -> np.ndarray:
    if largest <= points:
        return np.arange(1, largest + 1)
    return np.unique(np.rint(np.geomspace(1, largest, points)).astype("int64"))


def _checked_target(target: float) -> float:
    if isinstance(target, bool) or not isinstance(target, int | float | np.number):
        raise TypeError(f"target must be a number, not {target!r}")
    if not 0 <= target <= 1:
        raise ValueError(f"target must lie between 0 and 1; got {target}")
    return float(target)


def _check_columns(groups: pd.DataFrame, count: str, n: str) -> None:
    if not isinstance(groups, pd.DataFrame):
        raise TypeError(f"groups must be a DataFrame, not {type(groups).__name__}")
    missing = [column for column in (count, n) if column not in groups]
    if missing:
        raise ValueError(f"groups lacks columns {missing}")


def _whole_numbers(values: pd.Series, name: str) -> np.ndarray:
    if (
        not pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
        or values.isna().any()
    ):
        raise ValueError(f"{name} must hold whole numbers")
    numbers = values.to_numpy(dtype="float64")
    if (numbers != np.floor(numbers)).any():
        raise ValueError(f"{name} must hold whole numbers")
    return numbers.astype("int64")
