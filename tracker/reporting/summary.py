"""The dashboard's numbers as one object, shared by ``report --json`` and the API.

The shape of :meth:`Summary.to_dict` is documented in docs/api.md and kept
stable for scripts and audits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

import analysis

from ..settings import ClinicSettings, clinic_settings
from .filters import TrialFilters
from .frames import trials_frame
from .rows import banded, completeness, rate_row
from .words import completeness_in_words, rule_in_words

#: Importable from here, where the dashboard and the benchmarks look for them.
__all__ = [
    "SETTINGS",
    "Summary",
    "banded",
    "completeness",
    "completeness_in_words",
    "rate_row",
    "rule_in_words",
    "summarise",
    "summary",
]
#: The settings a summary depends on, under the names the JSON gives them.
SETTINGS = (
    "relief_criterion",
    "benefit_definition",
    "follow_up_minimum_weeks",
    "follow_up_due_weeks",
    "band_low",
    "band_high",
)


@dataclass(frozen=True)
class Summary:
    """Rates per aid and overall against the band, the rule check, completeness."""

    settings: ClinicSettings
    unit: str
    groups: list[dict]
    overall: dict
    rule: analysis.RuleCheck
    rule_by_criterion: list[analysis.RuleCheck]
    #: Follow-up completeness per aid and overall, as of a date (see docs/api.md).
    completeness: dict

    def to_dict(self) -> dict:
        """Plain types only, in the documented JSON shape."""
        return {
            "settings": {name: getattr(self.settings, name) for name in SETTINGS},
            "unit": self.unit,
            "groups": self.groups,
            "overall": self.overall,
            "rule": self.rule.to_dict(),
            "rule_by_criterion": [check.to_dict() for check in self.rule_by_criterion],
            "completeness": self.completeness,
        }


def summarise(
    trials: pd.DataFrame | analysis.CheckedTrials,
    settings: ClinicSettings,
    unit: str = "patient",
    today: date | None = None,
) -> Summary:
    """The summary of a trials frame (see :func:`tracker.frames.trials_frame`).

    The frame may come checked already (:func:`analysis.check_trials`).
    Follow-up statuses are as of ``today`` (by default the server's date).
    """
    options = {
        "unit": unit,
        "criterion": settings.relief_criterion,
        "benefit_definition": settings.benefit_definition,
    }
    # One check of the frame, and one choice of the trials that count, for all.
    trials = analysis.check_trials(trials, settings.benefit_definition)
    per_aid = banded(
        analysis.response_rates(trials, by="intervention", **options), settings
    )
    overall = banded(analysis.response_rates(trials, by=None, **options), settings)
    by_criterion = analysis.rule_check_by_criterion(
        trials, settings.benefit_definition, unit
    )
    rule = next(c for c in by_criterion if c.criterion == settings.relief_criterion)
    return Summary(
        settings=settings,
        unit=unit,
        groups=[
            {"intervention": row["intervention"]} | rate_row(row)
            for row in per_aid.to_dict("records")
        ],
        overall=rate_row(overall.iloc[0].to_dict()),
        rule=rule,
        rule_by_criterion=by_criterion,
        completeness=completeness(trials, settings, unit, today or date.today()),
    )


def summary(filters: TrialFilters, settings: ClinicSettings | None = None) -> Summary:
    """The summary of the trials matching ``filters``, under the clinic settings."""
    settings = settings or clinic_settings()
    trials = trials_frame(filters, settings, detail=False)
    return summarise(trials, settings, filters.unit)
