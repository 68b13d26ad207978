"""How the clinic's rate compares with a published band.

Trials of foot orthoses report long-term benefit in about 25-50% of
patients (Barton et al. 2011; Vicenzino et al. 2010). A clinic's rate is
judged against such a band by its Wilson interval, so a handful of patients
never reads as "above" or "below". Each verdict comes with the exact
binomial p-value of the claim it makes, and with how many more outcomes the
current rate would need to settle an inconclusive one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import beta, binom, norm
from statsmodels.stats.proportion import proportion_confint

from analysis.rates import checked_counts

__all__ = [
    "BAND_CLAIMS",
    "BAND_VERDICTS",
    "BandCheck",
    "BandClaim",
    "BandVerdict",
    "against_band",
    "band_columns",
]

BandVerdict = Literal["above", "below", "within", "inconclusive", "too_few"]
BAND_VERDICTS: tuple[BandVerdict, ...] = (
    "above",
    "below",
    "within",
    "inconclusive",
    "too_few",
)
#: What a conclusive verdict can say; the claim a p-value is about.
BandClaim = Literal["above", "below", "within"]
BAND_CLAIMS: tuple[BandClaim, ...] = ("above", "below", "within")

# The Wilson interval's z, as statsmodels computes it for alpha = 0.05.
_Z = norm.isf(0.025)


@dataclass(frozen=True)
class BandCheck:
    """A rate against the band [low, high].

    ``p_value`` is the exact one-sided binomial p-value of ``p_value_claim``:
    the verdict when it is conclusive, otherwise the claim the observed rate
    points to (see :func:`against_band`). ``p_value_vs_low`` tests whether
    the rate is above ``low``, ``p_value_vs_high`` whether it is below
    ``high`` (None at an edge of 0 or 1: there is no side beyond it).
    ``p_in_band`` is Bayesian, not a p-value: the posterior probability that
    the true rate lies in the band under a uniform prior. ``more_outcomes_needed``
    is how many more outcomes, at the current rate, until the verdict would
    be conclusive (0 if it is; None if it never would be). The figures are
    None without cases.
    """

    verdict: BandVerdict
    p_value_vs_low: float | None
    p_value_vs_high: float | None
    p_in_band: float | None
    low: float
    high: float
    p_value: float | None = None
    p_value_claim: BandClaim | None = None
    more_outcomes_needed: int | None = None

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "verdict": self.verdict,
            "p_value_vs_low": self.p_value_vs_low,
            "p_value_vs_high": self.p_value_vs_high,
            "p_in_band": self.p_in_band,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "p_value_claim": self.p_value_claim,
            "more_outcomes_needed": self.more_outcomes_needed,
        }


def _check_band(low: float, high: float, minimum_cases: int) -> None:
    if not 0 <= low < high <= 1:
        raise ValueError(f"the band needs 0 <= low < high <= 1; got {low} to {high}")
    if isinstance(minimum_cases, bool) or not isinstance(minimum_cases, int):
        raise TypeError("minimum_cases must be a whole number")
    if minimum_cases < 1:
        raise ValueError("minimum_cases must be at least 1")


def _optional(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def against_band(
    count: int,
    n: int,
    low: float = 0.25,
    high: float = 0.50,
    minimum_cases: int = 10,
) -> BandCheck:
    """Whether ``count`` of ``n`` lies above, below or within [low, high].

    ``too_few`` below ``minimum_cases``; otherwise ``above`` when the whole
    95% Wilson interval is above ``high``, ``below`` when it is wholly below
    ``low``, ``within`` when it lies inside the band, and ``inconclusive``
    when it straddles an edge.

    The p-value says the same as the verdict, by an exact one-sided binomial
    test of its claim: for ``above`` that the rate exceeds ``high``
    (P(X >= count) at ``high``), for ``below`` that it is under ``low``
    (P(X <= count) at ``low``), for ``within`` both at once (the larger of
    the two one-sided p-values: two one-sided tests, TOST). An inconclusive
    or too-few verdict gets the p-value of the claim the observed rate
    points to (above the band, below it, or inside it), named in
    ``p_value_claim``. The exact test is a little more cautious than the
    Wilson interval, so a rate that only just clears an edge can read
    "above, p = 0.03".

    Any band with 0 <= low < high <= 1 works. An edge at 0 (or 1) has no
    side below (or above) it: no rate can be "below" a band starting at 0,
    the test against that edge is not made (its p-value is None), and
    ``within`` rests on the other edge alone (the band [0, 1] holds every
    rate: ``within``, p = 0).

    ``more_outcomes_needed``: the smallest n' >= n (and >= ``minimum_cases``)
    at which, with the rate held at count / n, the Wilson interval would
    clear the edge the claim is about, minus n; None when no n' would (a
    rate exactly on an edge inside 0-1). The caller scales it by the
    follow-up rate to say how many more trials.

    Examples
    --------
    >>> check = against_band(60, 100)
    >>> check.verdict, check.p_value_claim, round(check.p_value, 3)
    ('above', 'above', 0.028)
    >>> against_band(9, 9).verdict
    'too_few'
    >>> check = against_band(59, 100)
    >>> check.verdict, check.p_value_claim, check.more_outcomes_needed
    ('inconclusive', 'above', 19)
    >>> against_band(0, 20, low=0.0, high=0.5).verdict
    'within'
    """
    _check_band(low, high, minimum_cases)
    count, n = checked_counts(count, n)
    if n == 0:
        return BandCheck("too_few", None, None, None, low, high)
    figures = _band_figures(np.array([count]), np.array([n]), low, high, minimum_cases)
    more = figures["more_outcomes_needed"][0]
    return BandCheck(
        verdict=str(figures["band"][0]),
        p_value_vs_low=_optional(figures["p_vs_low"][0]),
        p_value_vs_high=_optional(figures["p_vs_high"][0]),
        p_in_band=float(figures["p_in_band"][0]),
        low=low,
        high=high,
        p_value=float(figures["p_value"][0]),
        p_value_claim=str(figures["p_value_claim"][0]),
        more_outcomes_needed=None if more is pd.NA else int(more),
    )


def _band_figures(
    count: np.ndarray, n: np.ndarray, low: float, high: float, minimum_cases: int
) -> dict[str, np.ndarray]:
    """The verdict and its figures for each ``count`` of ``n``.

    Computed for many rates at once (a dashboard judges one for every
    therapist, product and month). The one-sided binomial p-values are the
    tail probabilities ``binomtest`` returns. Probabilities are NaN, the
    claim None and the outcomes needed <NA> where ``n`` is 0.
    """
    judged = n >= minimum_cases
    wilson_low = np.full(len(n), np.nan)
    wilson_high = np.full(len(n), np.nan)
    if judged.any():
        limits = proportion_confint(
            count[judged], n[judged], alpha=0.05, method="wilson"
        )
        # Rounding can put a limit a hair outside 0-1, which an edge at 0
        # or 1 would then read as beyond it.
        wilson_low[judged], wilson_high[judged] = np.clip(limits, 0.0, 1.0)
    band = np.select(
        [
            ~judged,
            wilson_low > high,
            wilson_high < low,
            (low <= wilson_low) & (wilson_high <= high),
        ],
        ["too_few", "above", "below", "within"],
        default="inconclusive",
    )
    cases = n > 0
    rate = np.where(cases, count / np.maximum(n, 1), np.nan)
    claim = np.select(
        [~cases, rate > high, rate < low], [None, "above", "below"], default="within"
    )
    # The posterior under a Beta(1, 1) prior (shape arguments rather than a
    # frozen distribution, which costs a millisecond to build).
    posterior = (count + 1, n - count + 1)
    with np.errstate(invalid="ignore"):
        p_vs_low = np.where(cases & (low > 0), binom.sf(count - 1, n, low), np.nan)
        p_vs_high = np.where(cases & (high < 1), binom.cdf(count, n, high), np.nan)
        p_above = binom.sf(count - 1, n, high)
        p_below = binom.cdf(count, n, low)
        p_in_band = np.where(
            cases, beta.cdf(high, *posterior) - beta.cdf(low, *posterior), np.nan
        )
    # An untested edge (at 0 or 1) leaves nothing to reject on its side.
    p_within = np.fmax(np.nan_to_num(p_vs_low), np.nan_to_num(p_vs_high))
    p_value = np.select(
        [~cases, claim == "above", claim == "below"],
        [np.nan, p_above, p_below],
        default=p_within,
    )
    return {
        "band": band,
        "p_vs_low": p_vs_low,
        "p_vs_high": p_vs_high,
        "p_in_band": p_in_band,
        "p_value": p_value,
        "p_value_claim": claim,
        "more_outcomes_needed": _more_outcomes_needed(
            n, rate, claim, band, low, high, minimum_cases
        ),
    }


def band_columns(
    rates: pd.DataFrame,
    rate: Literal["immediate_relief", "long_term_benefit"] = "long_term_benefit",
    low: float = 0.25,
    high: float = 0.50,
    minimum_cases: int = 10,
) -> pd.DataFrame:
    """A copy of a :func:`~analysis.rates.response_rates` frame with the band check.

    Adds ``{rate}_band`` (a :data:`BAND_VERDICTS` value), ``{rate}_p_vs_low``,
    ``{rate}_p_vs_high``, ``{rate}_p_in_band``, ``{rate}_p_value``,
    ``{rate}_p_value_claim`` (a :data:`BAND_CLAIMS` value) and
    ``{rate}_more_outcomes_needed`` (nullable integers): for each row what
    :func:`against_band` gives, computed for all rows at once. Where
    :func:`against_band` gives None they hold NaN or <NA>.
    """
    if rate not in ("immediate_relief", "long_term_benefit"):
        raise ValueError(f"unknown rate {rate!r}")
    missing = [c for c in (f"{rate}_count", f"{rate}_n") if c not in rates]
    if missing:
        raise ValueError(f"rates lacks columns {missing}")
    _check_band(low, high, minimum_cases)
    count = rates[f"{rate}_count"].to_numpy("int64")
    n = rates[f"{rate}_n"].to_numpy("int64")
    if ((count < 0) | (count > n)).any():
        raise ValueError("counts must be between 0 and n")
    figures = _band_figures(count, n, low, high, minimum_cases)

    def column(values, dtype=None) -> pd.Series:
        return pd.Series(values, index=rates.index, dtype=dtype)

    return rates.assign(
        **{
            f"{rate}_band": column(figures["band"], "str"),
            f"{rate}_p_vs_low": figures["p_vs_low"],
            f"{rate}_p_vs_high": figures["p_vs_high"],
            f"{rate}_p_in_band": figures["p_in_band"],
            f"{rate}_p_value": figures["p_value"],
            f"{rate}_p_value_claim": column(figures["p_value_claim"], "str"),
            f"{rate}_more_outcomes_needed": column(figures["more_outcomes_needed"]),
        }
    )


def _more_outcomes_needed(
    n: np.ndarray,
    rate: np.ndarray,
    claim: np.ndarray,
    band: np.ndarray,
    low: float,
    high: float,
    minimum_cases: int,
) -> pd.arrays.IntegerArray:
    """Outcomes beyond n until the Wilson interval at ``rate`` settles ``claim``.

    The Wilson interval holds the x with n (rate - x)^2 <= z^2 x (1 - x), so
    it clears an edge e strictly once n > z^2 e (1 - e) / (rate - e)^2, and
    reaches it (as ``within`` allows) once n >= that bound: a closed form
    for every row at once, no search.
    """

    def bound(edge: float) -> np.ndarray:
        spread = _Z**2 * edge * (1 - edge)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(spread == 0, 0.0, spread / (rate - edge) ** 2)

    above = np.floor(bound(high)) + 1
    below = np.floor(bound(low)) + 1
    within = np.maximum(np.ceil(bound(low)), np.ceil(bound(high)))
    needed = np.select(
        [np.isnan(rate), claim == "above", claim == "below"],
        [np.nan, above, below],
        default=within,
    )
    more = np.maximum(needed, np.maximum(n, minimum_cases)) - n
    # A settled verdict needs none; an inconclusive one at least one more,
    # whatever rounding in the bound says.
    more = np.where(band == "inconclusive", np.maximum(more, 1), more)
    more = np.where(np.isin(band, BAND_CLAIMS), 0, more)
    known = np.isfinite(more)
    return pd.arrays.IntegerArray(np.where(known, more, 0).astype("int64"), ~known)
