"""Analysis results as plotly figures.

Figures travel as JSON in a ``data-figure`` attribute and are drawn by
``static/charts.js`` with the plotly.js the app serves itself, so a page has
no inline script for the Content-Security-Policy to allow and no external
URL. Every figure has a table or sentences beside it for screen readers.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis import RuleCheck

from .models import INTERVENTIONS
from .settings import ClinicSettings

RELIEF_COLOUR = "#6c8ebf"
BENEFIT_COLOUR = "#1b5e20"
WITHOUT_COLOUR = "#c62828"
WITH_COLOUR = "#1565c0"
BAND_COLOUR = "rgba(255, 193, 7, 0.25)"


def to_json(figure: go.Figure) -> str:
    """The figure as the JSON charts.js passes to Plotly.newPlot."""
    return figure.to_json()


def _layout(figure: go.Figure, title: str, **layout) -> go.Figure:
    defaults = {
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.2},
        # Plain colours rather than the plotly_white template: a tenth of the time.
        "plot_bgcolor": "white",
        "yaxis_gridcolor": "#e5e5e5",
    }
    figure.update_layout(title=title, **(defaults | layout))
    return figure


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


def _band(figure: go.Figure, settings: ClinicSettings) -> None:
    figure.add_hrect(
        y0=settings.band_low,
        y1=settings.band_high,
        fillcolor=BAND_COLOUR,
        line_width=0,
        layer="below",
        annotation_text=(f"published {settings.band_low:.0%}–{settings.band_high:.0%}"),
        annotation_position="top left",
    )


def rates_figure(summary) -> go.Figure:
    """Long-term benefit and immediate relief per aid, 95% Wilson bars, the band."""
    aids = [INTERVENTIONS[group["intervention"]] for group in summary.groups]
    figure = go.Figure()
    for rate, name, colour in (
        ("long_term_benefit", "Long-term benefit", BENEFIT_COLOUR),
        ("immediate_relief", "Immediate relief", RELIEF_COLOUR),
    ):
        rates = [group[rate] for group in summary.groups]
        figure.add_trace(
            go.Bar(
                name=name,
                x=aids,
                y=[r["rate"] for r in rates],
                error_y=_error_bars(rates),
                marker_color=colour,
                customdata=[[r["count"], r["n"]] for r in rates],
                hovertemplate="%{y:.0%} (%{customdata[0]} of %{customdata[1]})",
            )
        )
    _band(figure, summary.settings)
    return _layout(
        figure,
        "Response rates per aid, with 95% intervals",
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1], "title": "Rate"},
    )


def rule_figure(rule: RuleCheck, settings: ClinicSettings) -> go.Figure:
    """Long-term benefit with and without immediate relief, with 95% intervals."""
    arms = [rule.benefit_with_relief.to_dict(), rule.benefit_without_relief.to_dict()]
    figure = go.Figure(
        go.Bar(
            x=["Immediate relief", "No immediate relief"],
            y=[arm["rate"] for arm in arms],
            error_y=_error_bars(arms),
            marker_color=[BENEFIT_COLOUR, "#9e9e9e"],
            customdata=[[arm["count"], arm["n"]] for arm in arms],
            hovertemplate="%{y:.0%} (%{customdata[0]} of %{customdata[1]})",
        )
    )
    _band(figure, settings)
    return _layout(
        figure,
        "Long-term benefit by the rule's verdict",
        yaxis={"tickformat": ".0%", "range": [0, 1], "title": "Long-term benefit"},
        showlegend=False,
    )


def pain_change_figure(pain_change: list[dict]) -> go.Figure:
    """How many trials dropped by each number of points, per aid."""
    figure = go.Figure()
    for group in pain_change:
        if not group["trials"]:
            continue
        points = sorted(group["counts"])
        figure.add_trace(
            go.Bar(
                name=group["label"],
                x=points,
                y=[group["counts"][p] for p in points],
            )
        )
    return _layout(
        figure,
        "Change in pain with the aid on (pain without minus pain with)",
        barmode="group",
        xaxis={"title": "Points less pain with the aid (negative: worse)", "dtick": 1},
        yaxis={"title": "Trials"},
    )


def months_figure(months: list[dict]) -> go.Figure:
    """Trials per month (bars) and both rates over time (lines)."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    labels = [month["label"] for month in months]
    figure.add_trace(
        go.Bar(
            name="Trials",
            x=labels,
            y=[month["trials"] for month in months],
            marker_color="#cfd8dc",
        ),
        secondary_y=False,
    )
    for rate, name, colour in (
        ("immediate_relief", "Immediate relief", RELIEF_COLOUR),
        ("long_term_benefit", "Long-term benefit", BENEFIT_COLOUR),
    ):
        figure.add_trace(
            go.Scatter(
                name=name,
                x=labels,
                y=[month[rate]["rate"] for month in months],
                mode="lines+markers",
                line_color=colour,
            ),
            secondary_y=True,
        )
    figure.update_yaxes(title_text="Trials", secondary_y=False)
    figure.update_yaxes(
        title_text="Rate", tickformat=".0%", range=[0, 1], secondary_y=True
    )
    return _layout(figure, "Trials and rates by month")


def patient_pain_figure(patient) -> go.Figure:
    """One patient's pain: without and with each aid, then at each follow-up."""
    figure = go.Figure()
    for trial in patient.current_trials:
        name = f"{INTERVENTIONS[trial.intervention]} ({trial.trial_date})"
        dates = [trial.trial_date, trial.trial_date]
        pains = [trial.pain_without, trial.pain_with]
        text = ["without the aid", "with the aid"]
        for follow_up in trial.current_follow_ups:
            dates.append(follow_up.follow_up_date)
            pains.append(follow_up.pain)
            text.append(f"follow-up, {follow_up.weeks_after_trial:.0f} weeks")
        figure.add_trace(
            go.Scatter(
                name=name,
                x=dates,
                y=pains,
                text=text,
                mode="lines+markers",
                marker={"size": 9},
                hovertemplate="%{x}: pain %{y} (%{text})",
            )
        )
    return _layout(
        figure,
        "Pain during the activity: without, with the aid, at follow-ups",
        yaxis={"range": [-0.5, 10.5], "dtick": 2, "title": "Pain (0–10)"},
        height=300,
    )
