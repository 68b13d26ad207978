"""Fisher's exact test of a 2×2 table, quick on tables of thousands of trials."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

#: scipy's allowance for rounding when it compares probabilities with the
#: observed table's (relative, here on the log scale).
_RELATIVE = 1e-7


def fisher_p(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact two-sided p of the table ``[[a, b], [c, d]]``.

    The p-value of :func:`scipy.stats.fisher_exact` (a test compares them on
    thousands of tables): the sum of the hypergeometric probabilities of
    every table with the same margins that is no more likely than the one
    observed. Computed from log-factorials over the whole support at once,
    because scipy's walk through the distribution takes milliseconds per
    table of a clinic's thousands of trials, and a dashboard asks for many.

    >>> round(fisher_p(3, 1, 1, 3), 4)  # Fisher's lady tasting tea
    0.4857
    """
    for count in (a, b, c, d):
        if isinstance(count, bool) or int(count) != count or count < 0:
            raise ValueError("the table's cells must be whole numbers from 0")
    a, b, c, d = (int(count) for count in (a, b, c, d))
    first_row, first_column, total = a + b, a + c, a + b + c + d
    low = max(0, first_column - (total - first_row))
    high = min(first_row, first_column)
    k = np.arange(low, high + 1, dtype=float)
    log_p = (
        _log_choose(first_row, k)
        + _log_choose(total - first_row, first_column - k)
        - _log_choose(total, first_column)
    )
    observed = log_p[a - low]
    p = np.exp(log_p[log_p <= observed + _RELATIVE]).sum()
    return float(min(p, 1.0))


def _log_choose(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
