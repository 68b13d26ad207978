"""Analysis results as plain rows for the JSON, the templates and the words.

pandas frames and NaN stop here: every value below is an int, a float, a
string, a list or None, so the JSON stays valid and the templates need no
pandas.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

import analysis

from ..settings import ClinicSettings

RATES = ("immediate_relief", "long_term_benefit")
#: The rates judged against the band. The published band describes long-term
#: benefit; immediate relief is shown beside it without a verdict.
JUDGED = ("long_term_benefit",)
BAND_KEYS = (
    "band",
    "p_in_band",
    "p_value_vs_low",
    "p_value_vs_high",
    "p_value",
    "p_value_claim",
    "more_outcomes_needed",
    "more_trials_needed",
)
#: The counts of a completeness row (:func:`analysis.follow_up_completeness`).
COMPLETENESS_COUNTS = (
    "counted",
    "outcome_clinic",
    "outcome_patient",
    "awaiting",
    "due",
    "overdue",
    "lost",
)
FOLLOW_UP_RATES = ("follow_up", "follow_up_with_relief", "follow_up_without_relief")


def completeness(
    trials: analysis.CheckedTrials, settings: ClinicSettings, unit: str, today: date
) -> dict:
    """Follow-up completeness per aid and overall, for JSON and templates."""
    options = {
        "today": today,
        "minimum_weeks": settings.follow_up_minimum_weeks,
        "due_weeks": settings.follow_up_due_weeks,
        "unit": unit,
        "criterion": settings.relief_criterion,
        "benefit_definition": settings.benefit_definition,
    }
    figures = analysis.follow_up_completeness(trials, **options)
    # Column by column: DataFrame.to_dict("records") takes longer than the figures.
    columns = {name: figures[name].tolist() for name in figures.columns}
    *per_aid, overall = (
        dict(zip(columns, values, strict=True))
        for values in zip(*columns.values(), strict=True)
    )
    return {
        "as_of": today.isoformat(),
        "groups": [
            {"intervention": row["intervention"]} | completeness_row(row)
            for row in per_aid
        ],
        "overall": completeness_row(overall),
    }


def completeness_row(row: dict) -> dict:
    """One row of :func:`analysis.follow_up_completeness`, in plain types."""
    return {name: int(row[name]) for name in COMPLETENESS_COUNTS} | {
        rate: _figures(row, rate) for rate in FOLLOW_UP_RATES
    }


def banded(
    rates: pd.DataFrame, settings: ClinicSettings, judged: tuple = RATES
) -> pd.DataFrame:
    """Rates from :func:`analysis.response_rates` with the ``judged`` ones banded."""
    for rate in judged:
        rates = analysis.band_columns(
            rates, rate, settings.band_low, settings.band_high
        )
    return rates


def rate_row(row: dict) -> dict:
    """One row of :func:`banded` rates, for JSON and templates.

    Rates that were not judged get None for the band figures (tables that
    show one verdict).
    """
    return {
        "trials": int(row["trials"]),
        "patients": int(row["patients"]),
        "assessable": int(row["assessable"]),
        **{rate: rate_dict(row, rate) for rate in RATES},
    }


def rate_dict(row: dict, rate: str) -> dict:
    """A rate with its intervals and, if judged, its verdict against the band.

    ``more_trials_needed`` is None here: it needs the follow-up rate
    (:func:`with_trials_needed`).
    """
    figures = _figures(row, rate) | _cluster_figures(row, rate)
    if f"{rate}_band" not in row:
        return figures | dict.fromkeys(BAND_KEYS)
    more = row[f"{rate}_more_outcomes_needed"]
    return figures | {
        "band": row[f"{rate}_band"],
        "p_in_band": _number(row[f"{rate}_p_in_band"]),
        "p_value_vs_low": _number(row[f"{rate}_p_vs_low"]),
        "p_value_vs_high": _number(row[f"{rate}_p_vs_high"]),
        "p_value": _number(row[f"{rate}_p_value"]),
        "p_value_claim": _text(row[f"{rate}_p_value_claim"]),
        "more_outcomes_needed": None if pd.isna(more) else int(more),
        "more_trials_needed": None,
    }


def with_trials_needed(rate: dict, follow_up: dict) -> dict:
    """A banded rate with ``more_trials_needed``, its outcomes over the follow-up rate.

    Outcomes come in for only a share of the trials, so a verdict that needs
    40 more outcomes at a follow-up rate of 80% needs 50 more trials. None
    when the outcomes needed are None, or no outcome has come in yet.
    """
    more, count, n = rate["more_outcomes_needed"], follow_up["count"], follow_up["n"]
    if more == 0:
        needed = 0
    elif more is None or count == 0:
        needed = None
    else:
        needed = -(-more * n // count)  # more / (count / n), rounded up, exactly
    return rate | {"more_trials_needed": needed}


def comparison_rows(comparisons: pd.DataFrame) -> list[dict]:
    """:func:`analysis.compare_aids` as plain rows, the difference as an estimate."""
    rows = []
    for row in comparisons.to_dict("records"):
        difference = _number(row["difference"])
        low, high = _number(row["difference_low"]), _number(row["difference_high"])
        rows.append(
            {
                "measure": row["measure"],
                "intervention_a": row["intervention_a"],
                "intervention_b": row["intervention_b"],
                "count_a": int(row["count_a"]),
                "n_a": int(row["n_a"]),
                "rate_a": _number(row["rate_a"]),
                "count_b": int(row["count_b"]),
                "n_b": int(row["n_b"]),
                "rate_b": _number(row["rate_b"]),
                "difference": {
                    "value": difference,
                    "ci": None if low is None else [low, high],
                    "reason": _text(row["reason"]),
                },
                "p_value": _number(row["p_value"]),
                "p_holm": _number(row["p_holm"]),
                "patients_in_both": int(row["patients_in_both"]),
            }
        )
    return rows


def by_site(
    trials: analysis.CheckedTrials, criterion: str, benefit_definition: str
) -> dict | None:
    """Each site's rates and its place in the funnel of long-term benefit.

    Every trial counts, as in the dashboard's funnels: sites are compared as
    products and therapists are, without a verdict each. None when the
    trials carry no ``site`` column: the user sees one site, or the filters
    chose one.
    """
    if "site" not in trials.frame:
        return None
    rates = analysis.response_rates(
        trials,
        by="site",
        unit="trial",
        criterion=criterion,
        benefit_definition=benefit_definition,
    )
    funnel = analysis.funnel_plot_data(rates)
    sites = []
    for row in funnel.groups.to_dict("records"):
        sites.append(
            {"site": row["site"]}
            | rate_row(row)
            | {
                "funnel": {
                    "position": str(row["position"]),
                    "limits_95": funnel_limits(row, "95"),
                    "limits_998": funnel_limits(row, "998"),
                }
            }
        )
    return {"unit": "trial", "pooled_rate": funnel.target, "sites": sites}


def funnel_limits(row: dict, level: str) -> list[float] | None:
    """A funnel group's limits at ``level`` ("95" or "998"); None without cases."""
    low, high = _number(row[f"low_{level}"]), _number(row[f"high_{level}"])
    return None if low is None else [low, high]


def follow_up_pain(figures: pd.DataFrame, criterion: str, unit: str) -> dict:
    """:func:`analysis.follow_up_pain_by_relief` as plain rows, for JSON and words."""
    groups = []
    for row in figures.to_dict("records"):
        low, high = _number(row["median_drop_low"]), _number(row["median_drop_high"])
        groups.append(
            {
                "relief": row["relief"],
                "outcomes": int(row["outcomes"]),
                "median_pain_without": _number(row["median_pain_without"]),
                "median_outcome_pain": _number(row["median_outcome_pain"]),
                "median_drop": {
                    "value": _number(row["median_drop"]),
                    "ci": None if low is None else [low, high],
                    "reason": _text(row["median_drop_reason"]),
                },
                "still_using": _figures(row, "still_using"),
            }
        )
    return {
        "criterion": criterion,
        "counting": analysis.counting_note(unit, pooled=True, outcome_required=True),
        "groups": groups,
    }


def _figures(row: dict, rate: str) -> dict:
    """``count`` of ``n``, the rate and its two 95% intervals."""
    return {
        "count": int(row[f"{rate}_count"]),
        "n": int(row[f"{rate}_n"]),
        "rate": _number(row[f"{rate}_rate"]),
        "wilson": _interval(row, f"{rate}_wilson"),
        "exact": _interval(row, f"{rate}_exact"),
    }


def _cluster_figures(row: dict, rate: str) -> dict:
    """The cluster interval of a rate from :func:`analysis.response_rates`.

    It is the one to read (``interval``) wherever a patient counts more
    than once (fewer patients than trials counted): the others treat a
    patient's trials as independent.
    """
    n, patients = int(row[f"{rate}_n"]), int(row[f"{rate}_patients"])
    return {
        "patients": patients,
        "design_effect": _number(row[f"{rate}_design_effect"]),
        "cluster": _interval(row, f"{rate}_cluster"),
        "interval": "cluster" if patients < n else "wilson",
    }


def _number(value) -> float | None:
    """NaN (no cases) as None, so the JSON stays valid."""
    value = float(value)
    return None if math.isnan(value) else value


def _text(value) -> str | None:
    """A text cell, None where pandas holds NaN or None."""
    return None if value is None or pd.isna(value) else str(value)


def _interval(row: dict, prefix: str) -> list[float] | None:
    low, high = _number(row[f"{prefix}_low"]), _number(row[f"{prefix}_high"])
    return None if low is None else [low, high]
