"""The patient page's figure: pain without and with each aid, and at follow-ups."""

from __future__ import annotations

from datetime import date, timedelta
from math import ceil

from ...labels import INTERVENTIONS
from .base import Figure
from .base import figure as _figure

#: One colour per aid, the same on every patient's chart.
AID_COLOURS = {"insole": "#1f77b4", "taping": "#ff7f0e", "brace": "#2ca02c"}
DAY_MS = 24 * 3600 * 1000
#: Tick labels by tick spacing: days up to a month apart, months beyond.
DATE_TICKS = [
    {"dtickrange": [None, "M1"], "value": "%-d %b %Y"},
    {"dtickrange": ["M1", None], "value": "%b %Y"},
]


def patient_pain_figure(patient) -> Figure:
    """One patient's pain: without and with each aid, then at each follow-up.

    One line per trial, one legend entry per aid: a patient's trials of one
    aid share a colour and a legend group, so two insole trials on one day
    give one "Insoles" entry, not two identical ones.
    """
    traces, dates, aids = [], [], set()
    for trial in patient.current_trials:
        days = [trial.trial_date, trial.trial_date]
        pains = [trial.pain_without, trial.pain_with]
        text = ["without the aid", "with the aid"]
        for follow_up in trial.current_follow_ups:
            days.append(follow_up.follow_up_date)
            pains.append(follow_up.pain)
            text.append(f"follow-up, {follow_up.weeks_after_trial:.0f} weeks")
        colour = AID_COLOURS.get(trial.intervention)
        traces.append(
            {
                "type": "scatter",
                "name": INTERVENTIONS[trial.intervention],
                "legendgroup": trial.intervention,
                "showlegend": trial.intervention not in aids,
                "x": [day.isoformat() for day in days],
                "y": pains,
                "text": text,
                "mode": "lines+markers",
                "line": {"color": colour},
                "marker": {"size": 9, "color": colour},
                "hovertemplate": "%{x|%-d %b %Y}: pain %{y} (%{text})"
                f"<extra>trial of {trial.trial_date:%-d %b %Y}</extra>",
            }
        )
        aids.add(trial.intervention)
        dates += days
    return _figure(
        traces,
        "Pain during the activity: without, with the aid, at follow-ups",
        xaxis=date_axis(min(dates), max(dates)) if dates else {"type": "date"},
        yaxis={"range": [-0.5, 10.5], "dtick": 2, "title": {"text": "Pain (0–10)"}},
        height=300,
    )


def date_axis(first: date, last: date) -> dict:
    """An x axis of whole days from ``first`` to ``last``, with room either side.

    Left to itself plotly ticks a one-day range by the hour (down to
    "23:59:59.999"); here ticks are at least a day apart and read as dates.
    """
    pad = max(timedelta(days=1), (last - first) / 20)
    start, end = first - pad, last + pad
    axis = {
        "type": "date",
        "range": [start.isoformat(), end.isoformat()],
        "tickformatstops": DATE_TICKS,
        "gridcolor": "#e5e5e5",
    }
    days = (end - start).days
    if days <= 14:  # plotly would tick these by the hour
        axis |= {"tick0": start.isoformat(), "dtick": ceil(days / 7) * DAY_MS}
    return axis
