"""Everything the dashboard page shows, computed from one trials frame."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import pandas as pd

import analysis
from analysis.follow_up import GRACE_WEEKS

from ..labels import ACTIVITIES, INTERVENTIONS
from ..reporting import charts
from ..reporting.filters import TrialFilters
from ..reporting.summary import (
    Summary,
    banded,
    completeness_in_words,
    rate_row,
    rule_in_words,
    summarise,
)
from ..settings import ClinicSettings, clinic_settings
from .kept import current_trials_frame

#: The tables below the charts: grouping (also the filter a row links by), heading.
TABLES = (
    ("activity", "By activity"),
    ("product", "By product"),
    ("therapist", "By therapist"),
)


@dataclass(frozen=True)
class Dashboard:
    """The summary, the tables by activity, product, therapist and month, the charts."""

    summary: Summary
    aids: list[dict]
    completeness: list[dict]
    completeness_words: str
    #: The last week an outcome is due before it is overdue.
    last_due_week: int
    tables: list[tuple[str, str, list[dict]]]
    months: list[dict]
    pain_change: list[dict]
    rule_words: list[str]
    figures: dict[str, str]


def dashboard_content(
    filters: TrialFilters,
    settings: ClinicSettings | None = None,
    today: date | None = None,
) -> Dashboard | None:
    """The dashboard for the trials matching ``filters``; None when there are none.

    Follow-up statuses are as of ``today`` (by default the server's date).
    """
    settings = settings or clinic_settings()
    trials = current_trials_frame(filters, settings)
    if trials.empty:
        return None
    unit = filters.unit
    trials = analysis.check_trials(trials, settings.benefit_definition)
    result = summarise(trials, settings, unit, today)
    options = {
        "unit": unit,
        "criterion": settings.relief_criterion,
        "benefit_definition": settings.benefit_definition,
    }
    base_args = filters.as_args()
    tables = []
    # The tables show one verdict: long-term benefit, the rate the band describes.
    judged = ("long_term_benefit",)
    for by, heading in TABLES:
        rows = banded(
            analysis.response_rates(trials, by=by, **options), settings, judged
        )
        tables.append(
            (
                by,
                heading,
                [
                    _labelled(row, by, base_args, linked=True)
                    for row in rows.to_dict("records")
                ],
            )
        )
    by_month = banded(
        analysis.response_rates(trials, by="month", **options), settings, judged
    )
    months = [
        _labelled(row, "month", base_args, linked=False)
        | {"args": base_args | _month_args(row["month"], filters)}
        for row in by_month.to_dict("records")
    ]
    pain_change = [
        group | {"args": base_args | {"intervention": group["intervention"]}}
        for group in pain_changes(trials.frame)
    ]
    aids = [
        group
        | {
            "label": INTERVENTIONS[group["intervention"]],
            "args": base_args | {"intervention": group["intervention"]},
        }
        for group in result.groups
    ]
    aids.append(result.overall | {"label": "All aids", "args": base_args})
    completeness = [
        group | {"label": INTERVENTIONS[group["intervention"]]}
        for group in result.completeness["groups"]
    ]
    completeness.append(result.completeness["overall"] | {"label": "All aids"})
    return Dashboard(
        summary=result,
        aids=aids,
        completeness=completeness,
        completeness_words=completeness_in_words(result.completeness),
        last_due_week=settings.follow_up_due_weeks + GRACE_WEEKS,
        tables=tables,
        months=months,
        pain_change=pain_change,
        rule_words=rule_in_words(result.rule, settings),
        figures={
            "rates": charts.to_json(charts.rates_figure(result)),
            "rule": charts.to_json(charts.rule_figure(result.rule, settings)),
            "pain_change": charts.to_json(charts.pain_change_figure(pain_change)),
            "months": charts.to_json(charts.months_figure(months)),
        },
    )


def dashboard_summary(
    filters: TrialFilters, settings: ClinicSettings, today: date | None = None
) -> Summary:
    """The numbers behind /api/summary, from the dashboard's kept trials frame."""
    trials = current_trials_frame(filters, settings)
    return summarise(trials, settings, filters.unit, today)


def _labelled(row: dict, by: str, base_args: dict, linked: bool) -> dict:
    """A rates row with a label for people and, if ``linked``, its trials' filters."""
    value = row[by]
    missing = value is None or (isinstance(value, float) and pd.isna(value))
    if by == "activity" and not missing:
        label = ACTIVITIES.get(value, value)
    else:
        label = "Not recorded" if missing else str(value)
    args = None
    if linked and not missing:
        args = base_args | {by: value}
    return {"label": label, "args": args} | rate_row(row)


def _month_args(month: str, filters: TrialFilters) -> dict[str, str]:
    """The month's first and last day, kept inside the date filters."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    last = date(year, number, calendar.monthrange(year, number)[1])
    if filters.since and filters.since > first:
        first = filters.since
    if filters.until and filters.until < last:
        last = filters.until
    return {"since": first.isoformat(), "until": last.isoformat()}


def pain_changes(trials: pd.DataFrame) -> list[dict]:
    """Per aid: how many trials dropped by each number of points, and the quartiles."""
    change = trials["pain_without"] - trials["pain_with"]
    groups = []
    for intervention in INTERVENTIONS:
        mine = trials["intervention"] == intervention
        values = change[mine]
        counts = values.value_counts().sort_index()
        groups.append(
            {
                "intervention": intervention,
                "label": INTERVENTIONS[intervention],
                "trials": int(mine.sum()),
                "mean_without": _mean(trials.loc[mine, "pain_without"]),
                "mean_with": _mean(trials.loc[mine, "pain_with"]),
                "quartiles": (
                    [float(q) for q in values.quantile([0.25, 0.5, 0.75])]
                    if len(values)
                    else None
                ),
                "counts": {int(k): int(v) for k, v in counts.items()},
            }
        )
    return groups


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) else None
