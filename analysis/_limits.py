"""Confidence limits of many proportions at once, where some have no cases."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.proportion import proportion_confint


def limits(count, n, method: str) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels' 95% limits by ``method`` of each count of its n; NaN if n is 0.

    ``count`` and ``n`` may be fractional (a cluster interval's effective n).
    """
    count, n = np.asarray(count), np.asarray(n)
    low, high = np.full(len(n), np.nan), np.full(len(n), np.nan)
    cases = n > 0
    # statsmodels divides by n, so groups without cases never reach it.
    if cases.any():
        low[cases], high[cases] = proportion_confint(
            count[cases], n[cases], alpha=0.05, method=method
        )
    return low, high
