"""The dashboard's numbers as one object, shared by ``report --json`` and the API.

The shape of :meth:`Summary.to_dict` is documented in docs/api.md and kept
stable for scripts and audits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

import analysis

from ..settings import ClinicSettings, clinic_settings
from .filters import TrialFilters
from .frames import trials_frame

RATES = ("immediate_relief", "long_term_benefit")
BAND_KEYS = ("band", "p_in_band", "p_value_vs_low", "p_value_vs_high")
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
    """Rates per aid and overall against the band, and the rule check."""

    settings: ClinicSettings
    unit: str
    groups: list[dict]
    overall: dict
    rule: analysis.RuleCheck
    rule_by_criterion: list[analysis.RuleCheck]

    def to_dict(self) -> dict:
        """Plain types only, in the documented JSON shape."""
        return {
            "settings": {name: getattr(self.settings, name) for name in SETTINGS},
            "unit": self.unit,
            "groups": self.groups,
            "overall": self.overall,
            "rule": self.rule.to_dict(),
            "rule_by_criterion": [check.to_dict() for check in self.rule_by_criterion],
        }


def summarise(
    trials: pd.DataFrame | analysis.CheckedTrials,
    settings: ClinicSettings,
    unit: str = "patient",
) -> Summary:
    """The summary of a trials frame (see :func:`tracker.frames.trials_frame`).

    The frame may come checked already (:func:`analysis.check_trials`).
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
    )


def summary(filters: TrialFilters, settings: ClinicSettings | None = None) -> Summary:
    """The summary of the trials matching ``filters``, under the clinic settings."""
    settings = settings or clinic_settings()
    trials = trials_frame(filters, settings, detail=False)
    return summarise(trials, settings, filters.unit)


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
    """A rate with its intervals and, if judged, its verdict against the band."""
    figures = {
        "count": int(row[f"{rate}_count"]),
        "n": int(row[f"{rate}_n"]),
        "rate": _number(row[f"{rate}_rate"]),
        "wilson": _interval(row, f"{rate}_wilson"),
        "exact": _interval(row, f"{rate}_exact"),
    }
    if f"{rate}_band" not in row:
        return figures | dict.fromkeys(BAND_KEYS)
    return figures | {
        "band": row[f"{rate}_band"],
        "p_in_band": _number(row[f"{rate}_p_in_band"]),
        "p_value_vs_low": _number(row[f"{rate}_p_vs_low"]),
        "p_value_vs_high": _number(row[f"{rate}_p_vs_high"]),
    }


def _number(value) -> float | None:
    """NaN (no cases) as None, so the JSON stays valid."""
    value = float(value)
    return None if math.isnan(value) else value


def _interval(row: dict, prefix: str) -> list[float] | None:
    low, high = _number(row[f"{prefix}_low"]), _number(row[f"{prefix}_high"])
    return None if low is None else [low, high]


UNIT_WORDS = {"patient": "patients", "trial": "trials"}
BENEFIT_WORDS = {
    "markedly_improved": "markedly better",
    "moderately_improved": "at least moderately better",
}


def percent(value: float | None) -> str:
    """A share as a whole percentage, or a dash when there is none."""
    return "—" if value is None else f"{value:.0%}"


def rate_in_words(rate: dict) -> str:
    """ "12 of 40: 30% (18–45%)", the 95% Wilson interval in brackets."""
    text = f"{rate['count']} of {rate['n']}"
    if rate["rate"] is None:
        return text
    low, high = rate["wilson"]
    return f"{text}: {percent(rate['rate'])} ({low * 100:.0f}–{percent(high)})"


def rule_in_words(rule: analysis.RuleCheck, settings: ClinicSettings) -> list[str]:
    """The rule check as sentences a therapist can read aloud."""
    better = BENEFIT_WORDS[rule.benefit_definition]
    when = f"at the {settings.follow_up_due_weeks}-week follow-up"
    if rule.unit == "patient":
        groups = ("patients who felt relief at once", "patients who felt no relief")
        outcome = f"were {better} {when}"
    else:
        groups = ("trials with relief at once", "trials without relief at once")
        outcome = f"ended with the patient {better} {when}"
    sentences = []
    for proportion, group in zip(
        (rule.benefit_with_relief, rule.benefit_without_relief), groups, strict=True
    ):
        if proportion.rate is None:
            sentences.append(f"None of the {group} has an outcome yet.")
            continue
        low, high = proportion.wilson
        sentences.append(
            f"Of {group}, {percent(proportion.rate)} "
            f"({low * 100:.0f}–{percent(high)}) {outcome} "
            f"({proportion.count} of {proportion.n})."
        )
    return sentences


def report_lines(result: Summary) -> list[str]:
    """The summary as a plain-text table for the terminal."""
    settings, overall = result.settings, result.overall
    lines = [
        f"Counting unit: {UNIT_WORDS[result.unit]} "
        f"({overall['trials']} trials from {overall['patients']} patients, "
        f"{overall['assessable']} assessable)",
        f"Relief criterion: {settings.relief_criterion}; long-term benefit: "
        f"{settings.benefit_definition}; outcome follow-up from week "
        f"{settings.follow_up_minimum_weeks}, due at week "
        f"{settings.follow_up_due_weeks}; reference band "
        f"{percent(settings.band_low)}–{percent(settings.band_high)}",
        "",
        f"{'Aid':<9} {'Trials':>7} {'Patients':>8} "
        f"{'Immediate relief':<32} {'Long-term benefit':<32} Band",
    ]
    for label, row in [(g["intervention"], g) for g in result.groups] + [
        ("all", overall)
    ]:
        relief, benefit = row["immediate_relief"], row["long_term_benefit"]
        lines.append(
            f"{label:<9} {row['trials']:>7} {row['patients']:>8} "
            f"{rate_in_words(relief):<32} {rate_in_words(benefit):<32} "
            f"{benefit['band']}"
        )
    rule = result.rule
    lines += [
        "",
        f"Rule check (relief criterion {rule.criterion}): "
        f"relief and benefit {rule.tp}, relief without benefit {rule.fp}, "
        f"benefit without relief {rule.fn}, neither {rule.tn}",
        *rule_in_words(rule, settings),
        "",
        f"{'Criterion':<15} {'Sensitivity':>12} {'Specificity':>12} "
        f"{'LR+':>8} {'LR-':>8}",
    ]
    for check in result.rule_by_criterion:
        lines.append(
            f"{check.criterion:<15} {percent(check.sensitivity.value):>12} "
            f"{percent(check.specificity.value):>12} "
            f"{_ratio(check.lr_positive):>8} {_ratio(check.lr_negative):>8}"
        )
    return lines


def _ratio(estimate: analysis.Estimate) -> str:
    return "—" if estimate.value is None else f"{estimate.value:.2f}"
