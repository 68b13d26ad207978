"""The patient page's figure: pain without and with each aid, and at follow-ups."""

from __future__ import annotations

from ...labels import INTERVENTIONS
from .base import Figure
from .base import figure as _figure


def patient_pain_figure(patient) -> Figure:
    """One patient's pain: without and with each aid, then at each follow-up."""
    traces = []
    for trial in patient.current_trials:
        name = f"{INTERVENTIONS[trial.intervention]} ({trial.trial_date})"
        dates = [trial.trial_date, trial.trial_date]
        pains = [trial.pain_without, trial.pain_with]
        text = ["without the aid", "with the aid"]
        for follow_up in trial.current_follow_ups:
            dates.append(follow_up.follow_up_date)
            pains.append(follow_up.pain)
            text.append(f"follow-up, {follow_up.weeks_after_trial:.0f} weeks")
        traces.append(
            {
                "type": "scatter",
                "name": name,
                "x": dates,
                "y": pains,
                "text": text,
                "mode": "lines+markers",
                "marker": {"size": 9},
                "hovertemplate": "%{x}: pain %{y} (%{text})",
            }
        )
    return _figure(
        traces,
        "Pain during the activity: without, with the aid, at follow-ups",
        yaxis={"range": [-0.5, 10.5], "dtick": 2, "title": {"text": "Pain (0–10)"}},
        height=300,
    )
