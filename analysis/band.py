"""How the clinic's rate compares with a published band.

Trials of foot orthoses report long-term benefit in about 25-50% of
patients (Barton et al. 2011; Vicenzino et al. 2010). A clinic's rate is
judged against such a band by its Wilson interval, so a handful of patients
never reads as "above" or "below".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import beta, binom
from statsmodels.stats.proportion import proportion_confint

from analysis.rates import checked_counts

__all__ = ["BAND_VERDICTS", "BandCheck", "BandVerdict", "against_band", "band_columns"]

BandVerdict = Literal["above", "below", "within", "inconclusive", "too_few"]
BAND_VERDICTS: tuple[BandVerdict, ...] = (
    "above",
    "below",
    "within",
    "inconclusive",
    "too_few",
)


@dataclass(frozen=True)
class BandCheck:
    """A rate against the band [low, high].

    ``p_value_vs_low`` tests whether the rate is above ``low`` (one-sided
    exact binomial test), ``p_value_vs_high`` whether it is below ``high``;
    ``p_in_band`` is the probability that the true rate lies in the band
    given the counts and a uniform prior. All three are None without cases.
    """

    verdict: BandVerdict
    p_value_vs_low: float | None
    p_value_vs_high: float | None
    p_in_band: float | None
    low: float
    high: float

    def to_dict(self) -> dict:
        """Plain types only, for JSON."""
        return {
            "verdict": self.verdict,
            "p_value_vs_low": self.p_value_vs_low,
            "p_value_vs_high": self.p_value_vs_high,
            "p_in_band": self.p_in_band,
            "low": self.low,
            "high": self.high,
        }


def _check_band(low: float, high: float, minimum_cases: int) -> None:
    if not 0 < low < high < 1:
        raise ValueError(f"the band needs 0 < low < high < 1; got {low} to {high}")
    if isinstance(minimum_cases, bool) or not isinstance(minimum_cases, int):
        raise TypeError("minimum_cases must be a whole number")
    if minimum_cases < 1:
        raise ValueError("minimum_cases must be at least 1")


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
    when it straddles an edge. The p-values are given even with too few
    cases, for completeness; the verdict is what to show.

    Examples
    --------
    >>> against_band(60, 100).verdict
    'above'
    >>> against_band(9, 9).verdict
    'too_few'
    """
    _check_band(low, high, minimum_cases)
    count, n = checked_counts(count, n)
    if n == 0:
        return BandCheck("too_few", None, None, None, low, high)
    figures = _band_figures(np.array([count]), np.array([n]), low, high, minimum_cases)
    return BandCheck(
        verdict=str(figures["band"][0]),
        p_value_vs_low=float(figures["p_vs_low"][0]),
        p_value_vs_high=float(figures["p_vs_high"][0]),
        p_in_band=float(figures["p_in_band"][0]),
        low=low,
        high=high,
    )


def _band_figures(
    count: np.ndarray, n: np.ndarray, low: float, high: float, minimum_cases: int
) -> dict[str, np.ndarray]:
    """The verdict and the three probabilities for each ``count`` of ``n``.

    Computed for many rates at once (a dashboard judges one for every
    therapist, product and month). The one-sided binomial p-values are the
    tail probabilities ``binomtest`` returns: P(X >= count) under ``low``,
    P(X <= count) under ``high``. The probabilities are NaN where ``n`` is 0.
    """
    judged = n >= minimum_cases
    wilson_low = np.full(len(n), np.nan)
    wilson_high = np.full(len(n), np.nan)
    if judged.any():
        wilson_low[judged], wilson_high[judged] = proportion_confint(
            count[judged], n[judged], alpha=0.05, method="wilson"
        )
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
    # The posterior under a Beta(1, 1) prior (shape arguments rather than a
    # frozen distribution, which costs a millisecond to build).
    posterior = (count + 1, n - count + 1)
    with np.errstate(invalid="ignore"):
        return {
            "band": band,
            "p_vs_low": np.where(cases, binom.sf(count - 1, n, low), np.nan),
            "p_vs_high": np.where(cases, binom.cdf(count, n, high), np.nan),
            "p_in_band": np.where(
                cases, beta.cdf(high, *posterior) - beta.cdf(low, *posterior), np.nan
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
    ``{rate}_p_vs_high`` and ``{rate}_p_in_band`` (NaN without cases): for
    each row what :func:`against_band` gives, computed for all rows at once.
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
    return rates.assign(
        **{
            f"{rate}_band": pd.Series(figures["band"], index=rates.index, dtype="str"),
            f"{rate}_p_vs_low": figures["p_vs_low"],
            f"{rate}_p_vs_high": figures["p_vs_high"],
            f"{rate}_p_in_band": figures["p_in_band"],
        }
    )
