"""The dashboard's figures: rates, the rule, pain change, months, ROC, funnels."""

from __future__ import annotations

from analysis import CutOffCheck, Funnel, RuleCheck

from ...labels import INTERVENTIONS
from ...settings import ClinicSettings
from .base import BAND_COLOUR, BENEFIT_COLOUR, RELIEF_COLOUR, Figure
from .base import figure as _figure


def _error_bars(rates: list[dict]) -> dict:
    """Asymmetric error bars from each rate's Wilson interval (0 where none)."""
    plus, minus = [], []
    for rate in rates:
        if rate["rate"] is None:
            plus.append(0)
            minus.append(0)
        else:
            plus.append(rate["wilson"][1] - rate["rate"])
            minus.append(rate["rate"] - rate["wilson"][0])
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def _band(settings: ClinicSettings) -> dict:
    """The published band, shaded behind the bars with its label at the top left."""
    low, high = settings.band_low, settings.band_high
    return {
        "shapes": [
            {
                "type": "rect",
                "xref": "x domain",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": low,
                "y1": high,
                "fillcolor": BAND_COLOUR,
                "line": {"width": 0},
                "layer": "below",
            }
        ],
        "annotations": [
            {
                "text": f"published {low:.0%}–{high:.0%}",
                "xref": "x domain",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": high,
                "yanchor": "top",
                "showarrow": False,
            }
        ],
    }


def _rate_bars(name: str, labels: list[str], rates: list[dict], colour) -> dict:
    return {
        "type": "bar",
        "name": name,
        "x": labels,
        "y": [r["rate"] for r in rates],
        "error_y": _error_bars(rates),
        "marker": {"color": colour},
        "customdata": [[r["count"], r["n"]] for r in rates],
        "hovertemplate": "%{y:.0%} (%{customdata[0]} of %{customdata[1]})",
    }


def rates_figure(summary) -> Figure:
    """Long-term benefit and immediate relief per aid, 95% Wilson bars, the band."""
    aids = [INTERVENTIONS[group["intervention"]] for group in summary.groups]
    traces = [
        _rate_bars(name, aids, [group[rate] for group in summary.groups], colour)
        for rate, name, colour in (
            ("long_term_benefit", "Long-term benefit", BENEFIT_COLOUR),
            ("immediate_relief", "Immediate relief", RELIEF_COLOUR),
        )
    ]
    return _figure(
        traces,
        "Response rates per aid, with 95% intervals",
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1], "title": {"text": "Rate"}},
        **_band(summary.settings),
    )


def rule_figure(rule: RuleCheck, settings: ClinicSettings) -> Figure:
    """Long-term benefit with and without immediate relief, with 95% intervals."""
    arms = [rule.benefit_with_relief.to_dict(), rule.benefit_without_relief.to_dict()]
    bars = _rate_bars(
        "Long-term benefit",
        ["Immediate relief", "No immediate relief"],
        arms,
        [BENEFIT_COLOUR, "#9e9e9e"],
    )
    return _figure(
        [bars],
        "Long-term benefit by the rule's verdict",
        yaxis={
            "tickformat": ".0%",
            "range": [0, 1],
            "title": {"text": "Long-term benefit"},
        },
        showlegend=False,
        **_band(settings),
    )


def pain_change_figure(pain_change: list[dict]) -> Figure:
    """How many trials dropped by each number of points, per aid."""
    traces = []
    for group in pain_change:
        if not group["trials"]:
            continue
        points = sorted(group["counts"])
        traces.append(
            {
                "type": "bar",
                "name": group["label"],
                "x": points,
                "y": [group["counts"][p] for p in points],
            }
        )
    return _figure(
        traces,
        "Change in pain with the aid on (pain without minus pain with)",
        barmode="group",
        xaxis={
            "title": {"text": "Points less pain with the aid (negative: worse)"},
            "dtick": 1,
        },
        yaxis={"title": {"text": "Trials"}},
    )


#: Below this many cases a month's rate is drawn as a hollow point: one or
#: two cases give 0% or 100%, which says little.
FEW_CASES = 10


def months_figure(months: list[dict]) -> Figure:
    """Trials per month (bars, left axis) and both rates over time (lines, right).

    A rate from fewer than :data:`FEW_CASES` cases that month is a hollow
    point; the page says so beside the chart.
    """
    labels = [month["label"] for month in months]
    traces = [
        {
            "type": "bar",
            "name": "Trials",
            "x": labels,
            "y": [month["trials"] for month in months],
            "marker": {"color": "#cfd8dc"},
        }
    ]
    for rate, name, colour in (
        ("immediate_relief", "Immediate relief", RELIEF_COLOUR),
        ("long_term_benefit", "Long-term benefit", BENEFIT_COLOUR),
    ):
        rates = [month[rate] for month in months]
        traces.append(
            {
                "type": "scatter",
                "name": name,
                "x": labels,
                "y": [r["rate"] for r in rates],
                "mode": "lines+markers",
                "cliponaxis": False,  # a 0% or 100% point drawn whole
                "line": {"color": colour},
                "marker": {
                    "color": colour,
                    "size": 8,
                    "symbol": [
                        "circle-open" if r["n"] < FEW_CASES else "circle" for r in rates
                    ],
                    "line": {"color": colour, "width": 2},
                },
                "customdata": [[r["count"], r["n"]] for r in rates],
                "hovertemplate": "%{y:.0%} (%{customdata[0]} of %{customdata[1]})",
                "yaxis": "y2",
            }
        )
    return _figure(
        traces,
        "Trials and rates by month",
        yaxis={"title": {"text": "Trials"}},
        yaxis2={
            "title": {"text": "Rate"},
            "tickformat": ".0%",
            "range": [0, 1],
            # Ticks of its own, not lined up with the trial counts' grid.
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 0.2,
            "showgrid": False,
            "anchor": "x",
            "overlaying": "y",
            "side": "right",
        },
        margin={"l": 60, "r": 60, "t": 50, "b": 50},
    )


#: The ROC curve's two scales: how a threshold reads, and the trace's colour.
DROP_SCALES = {
    "points": ("Drop in points", "#1565c0"),
    "percent": ("Drop in percent", "#ef6c00"),
}
CHANCE_COLOUR = "#9e9e9e"


def drop_in_words(scale: str, threshold: float | None) -> str:
    """A point of the ROC curve in words: which trials count as relieved there."""
    if threshold is None:
        return "no trial counted as relieved"
    if scale == "percent":
        return f"relief = a drop of at least {threshold:.0f}%"
    if threshold > 0:
        points = "point" if threshold == 1 else "points"
        return f"relief = a drop of at least {threshold:g} {points}"
    if threshold == 0:
        return "relief = no rise in pain"
    return f"relief = a rise of at most {-threshold:g}"


def roc_figure(check: CutOffCheck, clinic: RuleCheck, clinic_label: str) -> Figure:
    """The ROC curves of the pain drop in points and percent, against chance.

    Each scale's Youden-best cut-off is starred, and the clinic's own
    criterion (``clinic``, the rule check under the setting) is a diamond on
    the same axes, so the two can be compared where they sit. The stars have
    no text: both scales' best often share a point, where labels overprint,
    and the sentences beside the chart name them.
    """
    traces = [
        {
            "type": "scatter",
            "name": "Chance (area 0.5)",
            "x": [0, 1],
            "y": [0, 1],
            "mode": "lines",
            "line": {"color": CHANCE_COLOUR, "dash": "dash"},
            "hoverinfo": "skip",
        }
    ]
    for curve in (check.points, check.percent):
        if not curve.fpr:
            continue
        name, colour = DROP_SCALES[curve.scale]
        if curve.auc.value is not None:
            name = f"{name} (area {curve.auc.value:.2f})"
        traces.append(
            {
                "type": "scatter",
                "name": name,
                "x": list(curve.fpr),
                "y": list(curve.tpr),
                "mode": "lines+markers",
                "line": {"color": colour},
                "marker": {"size": 6},
                "text": [drop_in_words(curve.scale, t) for t in curve.thresholds],
                "hovertemplate": "%{text}: sensitivity %{y:.0%}, "
                "1 − specificity %{x:.0%}<extra></extra>",
            }
        )
    # The clinic's diamond first: where it is also the best, the star sits on it.
    if clinic.sensitivity.value is not None and clinic.specificity.value is not None:
        traces.append(
            {
                "type": "scatter",
                "name": f"Clinic's criterion ({clinic_label})",
                "x": [1 - clinic.specificity.value],
                "y": [clinic.sensitivity.value],
                "mode": "markers",
                "marker": {
                    "symbol": "diamond",
                    "size": 17,
                    "color": BENEFIT_COLOUR,
                    "line": {"color": "white", "width": 1},
                },
                "hovertemplate": "clinic's criterion: sensitivity %{y:.0%}, "
                "1 − specificity %{x:.0%}<extra></extra>",
            }
        )
    best = [curve for curve in (check.points, check.percent) if curve.best]
    if best:
        traces.append(
            {
                "type": "scatter",
                "name": "Best cut-off (Youden)",
                "x": [1 - curve.best.specificity.value for curve in best],
                "y": [curve.best.sensitivity.value for curve in best],
                "mode": "markers",
                "marker": {"symbol": "star", "size": 13, "color": "#212121"},
                "text": [_cut_off_label(curve) for curve in best],
                "hovertemplate": "best: %{text}<extra></extra>",
            }
        )
    share = {"tickformat": ".0%", "range": [-0.02, 1.02], "dtick": 0.2}
    return _figure(
        traces,
        "Which drop in pain predicts long-term benefit",
        height=460,
        xaxis=share
        | {
            "title": {"text": "1 − specificity (no benefit, yet relief at once)"},
            "gridcolor": "#e5e5e5",
        },
        yaxis=share | {"title": {"text": "Sensitivity (benefit, and relief at once)"}},
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
    )


def _cut_off_label(curve) -> str:
    unit = "%" if curve.scale == "percent" else " pts"
    return f"≥{curve.best.cut_off}{unit}"


#: A funnel dot's look by where it lies: legend name, colour, symbol.
FUNNEL_MARKERS = {
    "inside": ("Within the 95% limits", "#607d8b", "circle"),
    "outside_95": ("Beyond the 95% limits", "#ef6c00", "diamond"),
    "outside_998": ("Beyond the 99.8% limits", "#c62828", "square"),
}
FUNNEL_GROUPS = {
    "inside": "inside",
    "below_95": "outside_95",
    "above_95": "outside_95",
    "below_998": "outside_998",
    "above_998": "outside_998",
}


def funnel_figure(funnel: Funnel, rows: list[dict], title: str) -> Figure:
    """Each group's long-term benefit rate against its outcomes, in the funnel.

    ``rows`` are the groups as the page's table lists them (``label``,
    ``count``, ``n``, ``rate``, ``position``). Groups without outcomes have
    no dot. Colour and symbol both say where a dot lies, so the plot reads
    without colour too.
    """
    traces = []
    if funnel.target is not None:
        limits = funnel.limits
        sizes = limits["n"].tolist()
        for level, dash, width in (("998", "dot", 1), ("95", "dash", 1.5)):
            words = "99.8%" if level == "998" else "95%"
            for side in ("low", "high"):
                traces.append(
                    {
                        "type": "scatter",
                        "name": f"{words} limits",
                        "legendgroup": level,
                        "showlegend": side == "low",
                        "x": sizes,
                        "y": limits[f"{side}_{level}"].tolist(),
                        "mode": "lines",
                        "line": {"color": "#78909c", "dash": dash, "width": width},
                        "hoverinfo": "skip",
                    }
                )
        traces.append(
            {
                "type": "scatter",
                "name": f"Pooled rate ({funnel.target:.0%})",
                "x": [sizes[0], sizes[-1]],
                "y": [funnel.target, funnel.target],
                "mode": "lines",
                "line": {"color": BENEFIT_COLOUR, "width": 2},
                "hoverinfo": "skip",
            }
        )
    for group, (name, colour, symbol) in FUNNEL_MARKERS.items():
        dots = [row for row in rows if FUNNEL_GROUPS.get(row["position"]) == group]
        if not dots:
            continue
        traces.append(
            {
                "type": "scatter",
                "name": name,
                "x": [row["n"] for row in dots],
                "y": [row["rate"] for row in dots],
                "mode": "markers",
                "marker": {"color": colour, "symbol": symbol, "size": 10},
                "text": [row["label"] for row in dots],
                "customdata": [[row["count"]] for row in dots],
                "hovertemplate": "%{text}: %{customdata[0]} of %{x} "
                "(%{y:.0%})<extra></extra>",
            }
        )
    return _figure(
        traces,
        title,
        height=380,
        xaxis={"title": {"text": "Trials with an outcome"}, "rangemode": "tozero"},
        yaxis={
            "tickformat": ".0%",
            "range": [-0.02, 1.02],
            "title": {"text": "Long-term benefit"},
        },
    )
