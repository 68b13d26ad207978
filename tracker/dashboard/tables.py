"""The dashboard's tables by site, activity, product and therapist; pain changes.

Each row carries its label for people and the trial filters its numbers
link by; sites, products and therapists also get their funnel's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import analysis

from ..labels import ACTIVITIES, FUNNEL_POSITION_WORDS, INTERVENTIONS
from ..reporting.filters import NOT_RECORDED
from ..reporting.rows import JUDGED, funnel_limits
from ..reporting.summary import banded, rate_row
from ..settings import ClinicSettings

#: The tables below the charts: grouping (also the filter a row links by), heading.
TABLES = (
    ("site", "By site"),
    ("activity", "By activity"),
    ("product", "By product"),
    ("therapist", "By therapist"),
)
#: Groupings of many small groups: no verdict per row, a funnel plot instead,
#: so a product with four outcomes is not read as better or worse (issue 17).
FUNNELS = ("site", "product", "therapist")
#: Groupings whose missing value the trial filters can ask for.
FILTERED_WHEN_MISSING = ("product", "therapist")


@dataclass(frozen=True)
class GroupTable:
    """The rates by one grouping and, for products and therapists, their funnel.

    ``judged`` says whether each row gets a verdict against the band.
    ``funnel`` places the groups in a funnel plot, every trial counted as
    comparing products needs; ``funnel_rows`` are its table's rows.
    """

    by: str
    heading: str
    rows: list[dict]
    judged: bool
    funnel: analysis.Funnel | None = None
    funnel_rows: list[dict] | None = None


def group_tables(
    trials: analysis.CheckedTrials,
    options: dict,
    settings: ClinicSettings,
    base_args: dict,
) -> list[GroupTable]:
    """The rates by activity, banded; by site, product and therapist, in funnels.

    Sites come first, when the trials span several. Funnels count every
    trial, whatever the page's unit: a patient's first trial of an aid says
    nothing about the products tried later. Their tables then give the
    funnels' own numbers, from one count.
    """
    tables = []
    for by, heading in TABLES:
        if by == "site" and by not in trials.frame:
            continue  # the trials of one site
        funnel = funnel_table = None
        if by in FUNNELS:
            rows = analysis.response_rates(trials, by=by, **options | {"unit": "trial"})
            funnel = analysis.funnel_plot_data(rows)
            funnel_table = funnel_rows(funnel, by, base_args)
        else:
            rows = banded(
                analysis.response_rates(trials, by=by, **options), settings, JUDGED
            )
        tables.append(
            GroupTable(
                by=by,
                heading=heading,
                rows=[
                    labelled(row, by, base_args, linked=True)
                    for row in rows.to_dict("records")
                ],
                judged=funnel is None,
                funnel=funnel,
                funnel_rows=funnel_table,
            )
        )
    return tables


def labelled(row: dict, by: str, base_args: dict, linked: bool) -> dict:
    """A rates row with a label for people and, if ``linked``, its trials' filters."""
    return group_label(row[by], by, base_args, linked) | rate_row(row)


def group_label(value, by: str, base_args: dict, linked: bool) -> dict:
    """A group's label for people and, if ``linked``, its trials' filters.

    A blank product or a trial nobody is named on reads "(not recorded)" and
    links to the trials without one; every trial has an activity.
    """
    missing = (
        value is None or value == "" or (isinstance(value, float) and pd.isna(value))
    )
    if by == "activity" and not missing:
        label = ACTIVITIES.get(value, value)
    else:
        label = NOT_RECORDED if missing else str(value)
    args = None
    if linked and not missing:
        args = base_args | {by: value}
    elif linked and by in FILTERED_WHEN_MISSING:
        args = base_args | {by: NOT_RECORDED}
    return {"label": label, "args": args}


def funnel_rows(funnel: analysis.Funnel, by: str, base_args: dict) -> list[dict]:
    """The groups of a funnel, for its table and its plot."""
    rows = []
    for group in funnel.groups.to_dict("records"):
        position = str(group["position"])
        rows.append(
            group_label(group[by], by, base_args, linked=True)
            | {
                "count": int(group["long_term_benefit_count"]),
                "n": int(group["long_term_benefit_n"]),
                "rate": None if position == "no_cases" else float(group["rate"]),
                "limits_95": funnel_limits(group, "95"),
                "limits_998": funnel_limits(group, "998"),
                "position": position,
                "position_words": FUNNEL_POSITION_WORDS[position],
            }
        )
    return rows


def pain_changes(trials: analysis.CheckedTrials) -> list[dict]:
    """Per aid: how many trials dropped by each number of points, and the quartiles."""
    # A drop runs from -10 to 10 points: counted in 21 slots, 10 meaning no change.
    change = trials.pain_without - trials.pain_with
    groups = []
    for code, intervention in enumerate(INTERVENTIONS):
        mine = trials.intervention == code
        values = change[mine]
        counts = np.bincount(values + 10, minlength=21)
        groups.append(
            {
                "intervention": intervention,
                "label": INTERVENTIONS[intervention],
                "trials": len(values),
                "mean_without": _mean(trials.pain_without[mine]),
                "mean_with": _mean(trials.pain_with[mine]),
                "quartiles": (
                    np.quantile(values, [0.25, 0.5, 0.75]).tolist()
                    if len(values)
                    else None
                ),
                "counts": {
                    int(drop) - 10: int(counts[drop]) for drop in np.flatnonzero(counts)
                },
            }
        )
    return groups


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None
