"""Intervals that allow for a patient's several trials: patients as clusters.

The rates' Wilson and Clopper-Pearson intervals assume the counted trials
are independent, which a patient's trials under the trial unit are not. So
each rate also has a cluster interval:

- the variance of the rate is the cluster-robust (CRV1) sandwich of an
  intercept-only linear model of the 0/1 verdicts, clustered by patient:
  what statsmodels' ``OLS(...).fit(cov_type="cluster")`` gives, with its
  small-sample factor G/(G-1) for G patients. The model has one
  coefficient, so the sandwich is the sum of each patient's squared
  residual sum, computed here with ``np.bincount``: statsmodels'
  ``cov_cluster`` finds the clusters with ``np.unique`` on every call,
  which takes seconds at a million trials;
- its ratio to the binomial variance is the design effect, never taken
  below 1 (a smaller one is noise from few patients), and the rate's
  effective sample size is n / design effect (Kish);
- the interval is statsmodels' Wilson interval at that effective size
  (Korn & Graubard 1998, Survey Methodology 24:193, use the effective size
  the same way with Clopper-Pearson).

Wilson at an effective size keeps what the Wilson interval is chosen for:
limits within 0-100% that exist at 0% and 100%, where a logit-scale
interval from GEE has none (and GEE's iterations are slow at a million
trials). With one trial per patient the design effect is G/(G-1), so the
cluster interval is the Wilson interval to within that factor. A rate of 0%
or 100% has no spread to estimate it from: its design effect is 1. One
patient's trials count as one.

Within a grouping (by product, say) a cluster is one patient's trials in
one group: a patient who tried two products is a cluster in each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._limits import limits

__all__ = ["clustered_intervals", "patient_pairs"]


def patient_pairs(
    group: np.ndarray, patient: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each trial's (group, patient) pair as a number from 0, and each pair's group.

    ``patient`` numbers the patients from 0 and ``group`` the groups, fewer
    than ``groups``. Made once, the pairs serve every subset of the trials:
    the rates' patient counts and the clusters of both rates of a row.

    >>> number, pair_group = patient_pairs(np.array([0, 0, 1]), np.array([4, 4, 4]), 2)
    >>> number.tolist(), pair_group.tolist()
    ([0, 0, 1], [0, 1])
    """
    group = np.asarray(group, dtype="int64")
    patient = np.asarray(patient, dtype="int64")
    patients = int(patient.max()) + 1 if len(patient) else 0
    pair = group * patients + patient
    if groups * patients <= 4 * len(pair) + 4096:
        # Few pairs possible (one row, or the aids): a slot for each, no hashing.
        present = np.bincount(pair, minlength=groups * patients) > 0
        number = np.cumsum(present) - 1
        return number[pair], np.flatnonzero(present) // max(patients, 1)
    number, pairs = pd.factorize(pair)
    return number, pairs // patients


def clustered_intervals(
    success: np.ndarray,
    patient: np.ndarray | None,
    group: np.ndarray | None = None,
    groups: int = 1,
    each_patient_once: bool = False,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each group's rate of ``success`` with patients as clusters (see the module).

    ``success`` holds one verdict per counted trial, ``patient`` its
    patient's number (from 0) and ``group`` its group's (from 0, fewer than
    ``groups``; all 0 by default). Returns, per group, the patients, the
    design effect and the Wilson 95% limits at the effective sample size;
    NaN where a group has no trials. ``each_patient_once`` says the caller
    knows no patient has two trials in a group (the patient unit, pooled or
    per aid): every cluster is one trial, and none need be found. ``pairs``
    is :func:`patient_pairs` of a larger set of trials, the counted trials'
    pair numbers and every pair's group, so that the pairs are found once;
    ``patient`` is then not needed (None).

    Examples
    --------
    >>> patients, effect, low, high = clustered_intervals(
    ...     np.array([True, True, False, False, True, False]),
    ...     np.array([0, 0, 1, 1, 2, 3]),
    ... )
    >>> int(patients[0]), round(float(effect[0]), 3)
    (4, 2.222)
    >>> [round(float(x), 3) for x in (low[0], high[0])]
    [0.117, 0.883]
    """
    success = np.asarray(success, dtype=bool)
    group = np.zeros(len(success), "int64") if group is None else np.asarray(group)
    n = np.bincount(group, minlength=groups).astype("float64")
    count = np.bincount(group, weights=success, minlength=groups)
    rate = count / np.maximum(n, 1)
    within = count * (1 - rate)  # the squared residuals summed, n p (1 - p)
    if each_patient_once:
        clusters, between = n.astype("int64"), within
    else:
        if pairs is None:
            pairs = patient_pairs(group, patient, groups)
        clusters, between = _between_patients(success, *pairs, groups, rate)
    spread = (within > 0) & (clusters > 1)
    effect = np.ones(groups)
    effect[spread] = np.maximum(
        1.0,
        clusters[spread] / (clusters[spread] - 1) * between[spread] / within[spread],
    )
    single = (within > 0) & (clusters == 1)
    effect[single] = n[single]
    effect[n == 0] = np.nan
    effective_n = np.where(n > 0, n / effect, 0.0)
    low, high = limits(rate * effective_n, effective_n, "wilson")
    return clusters.astype("int64"), effect, low, high


def _between_patients(
    success: np.ndarray,
    number: np.ndarray,
    pair_group: np.ndarray,
    groups: int,
    rate: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: its patients, and their residuals summed, squared and added up.

    The second is the meat of the cluster sandwich. Pairs without a counted
    trial have nothing to add.
    """
    trials_of = np.bincount(number, minlength=len(pair_group))
    successes_of = np.bincount(number[success], minlength=len(pair_group))
    residual_sums = successes_of - rate[pair_group] * trials_of
    return (
        np.bincount(pair_group[trials_of > 0], minlength=groups),
        np.bincount(pair_group, weights=residual_sums**2, minlength=groups),
    )
