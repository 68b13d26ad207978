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
from .rows import (
    JUDGED,
    banded,
    by_site,
    comparison_rows,
    completeness,
    follow_up_pain,
    rate_row,
    with_trials_needed,
)
from .sentences import Sentences, summary_sentences
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
    """Everything the dashboard, ``report`` and the API show, computed once.

    Rates per aid and overall against the band, the rule check and its
    effect, the cut-off check, the aids compared, follow-up completeness and
    follow-up pain, and each site when the trials span several. ``groups``
    and ``overall`` are plain rows (see
    :mod:`.rows`): only long-term benefit carries a band verdict, immediate
    relief has its band figures None. The sentences to read aloud are
    :attr:`sentences`.
    """

    settings: ClinicSettings
    unit: str
    groups: list[dict]
    overall: dict
    rule: analysis.RuleCheck
    rule_by_criterion: list[analysis.RuleCheck]
    #: Follow-up completeness per aid and overall, as of a date (see docs/api.md).
    completeness: dict
    #: The rule's effect over all aids under the clinic's relief criterion.
    effect: analysis.RuleEffect
    #: The effect under each relief criterion (or the clinic's only, for the
    #: dashboard): all aids, then insole, taping, brace.
    effects: list[analysis.RuleEffect]
    #: Which drop in pain predicts long-term benefit, over all aids.
    cut_off: analysis.CutOffCheck
    #: Each pair of aids compared (:func:`.rows.comparison_rows`), benefit first.
    aids_compared: list[dict]
    #: Pain at the outcome and still using, by relief (:func:`.rows.follow_up_pain`).
    follow_up_pain: dict
    #: Each site in the funnel (:func:`.rows.by_site`), or None for one site.
    by_site: dict | None = None

    @property
    def sentences(self) -> Sentences:
        """Everything above in sentences a therapist can read aloud."""
        return summary_sentences(self)

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
            "effect": self.effect.to_dict(),
            "effects": [effect.to_dict() for effect in self.effects],
            "cut_off": self.cut_off.to_dict(),
            "aids_compared": self.aids_compared,
            "follow_up_pain": self.follow_up_pain,
            "by_site": self.by_site,
        }


def summarise(
    trials: pd.DataFrame | analysis.CheckedTrials,
    settings: ClinicSettings,
    unit: str = "patient",
    today: date | None = None,
    every_criterion: bool = True,
) -> Summary:
    """The summary of a trials frame (see :func:`tracker.frames.trials_frame`).

    The frame may come checked already (:func:`analysis.check_trials`).
    Follow-up statuses are as of ``today`` (by default the server's date).
    Without ``every_criterion`` the rule's effect is worked out under the
    clinic's relief criterion only, all the dashboard shows: each criterion
    costs four Fisher tests on the whole history.
    """
    criterion, benefit = settings.relief_criterion, settings.benefit_definition
    options = {"unit": unit, "criterion": criterion, "benefit_definition": benefit}
    # One check of the frame, and one choice of the trials that count, for all.
    trials = analysis.check_trials(trials, benefit)
    per_aid = banded(
        analysis.response_rates(trials, by="intervention", **options),
        settings,
        JUDGED,
    )
    overall = banded(
        analysis.response_rates(trials, by=None, **options), settings, JUDGED
    )
    by_criterion = analysis.rule_check_by_criterion(trials, benefit, unit)
    rule = next(c for c in by_criterion if c.criterion == criterion)
    criteria = analysis.RELIEF_CRITERIA if every_criterion else (criterion,)
    effects = analysis.rule_effects(trials, criteria, benefit, unit)
    follow_up = completeness(trials, settings, unit, today or date.today())
    follow_up_by_aid = {row["intervention"]: row for row in follow_up["groups"]}
    return Summary(
        settings=settings,
        unit=unit,
        groups=[
            {"intervention": row["intervention"]}
            | _with_trials_needed(rate_row(row), follow_up_by_aid[row["intervention"]])
            for row in per_aid.to_dict("records")
        ],
        overall=_with_trials_needed(
            rate_row(overall.iloc[0].to_dict()), follow_up["overall"]
        ),
        rule=rule,
        rule_by_criterion=by_criterion,
        completeness=follow_up,
        effect=next(
            e for e in effects if e.criterion == criterion and e.intervention is None
        ),
        effects=effects,
        cut_off=analysis.cut_off_check(trials, benefit, unit),
        aids_compared=comparison_rows(analysis.compare_aids(trials, **options)),
        follow_up_pain=follow_up_pain(
            analysis.follow_up_pain_by_relief(trials, **options), criterion, unit
        ),
        by_site=by_site(trials, criterion, benefit),
    )


def _with_trials_needed(row: dict, follow_up_row: dict) -> dict:
    """A rates row with the trials its verdict needs, at its follow-up rate."""
    rate = "long_term_benefit"
    return row | {rate: with_trials_needed(row[rate], follow_up_row["follow_up"])}


def summary(filters: TrialFilters, settings: ClinicSettings | None = None) -> Summary:
    """The summary of the trials matching ``filters``, under the clinic settings."""
    settings = settings or clinic_settings()
    several = filters.spans_sites()
    trials = trials_frame(filters, settings, detail=False, by_site=several)
    return summarise(trials, settings, filters.unit)
