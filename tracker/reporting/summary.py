"""The dashboard's numbers as one object, shared by ``report --json`` and the API.

The shape of :meth:`Summary.to_dict` is documented in docs/api.md and kept
stable for scripts and audits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

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
#: A gap in follow-up between trials with and without relief that the words flag.
BIAS_GAP = 0.10


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
    """A rate with its intervals and, if judged, its verdict against the band."""
    figures = _figures(row, rate)
    if f"{rate}_band" not in row:
        return figures | dict.fromkeys(BAND_KEYS)
    return figures | {
        "band": row[f"{rate}_band"],
        "p_in_band": _number(row[f"{rate}_p_in_band"]),
        "p_value_vs_low": _number(row[f"{rate}_p_vs_low"]),
        "p_value_vs_high": _number(row[f"{rate}_p_vs_high"]),
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


def completeness_in_words(completeness: dict) -> str:
    """Overall follow-up, and whether it differs with and without relief, aloud."""
    overall = completeness["overall"]
    follow_up = overall["follow_up"]
    count, n = follow_up["count"], follow_up["n"]
    trials = "1 trial" if n == 1 else f"{n} trials"
    if n == 0:
        return "No counted trial has come due for its outcome follow-up yet."
    if count == n:
        which = "the only trial" if n == 1 else f"all {trials}"
        return (
            f"Outcomes are recorded for {which} whose follow-up has come due, "
            "so none is missing from the rule check."
        )
    low, high = follow_up["wilson"]
    start = (
        f"Outcomes are recorded for {percent(follow_up['rate'])} "
        f"({low * 100:.0f}–{percent(high)}) of the {trials} whose follow-up "
        "has come due"
    )
    with_relief = overall["follow_up_with_relief"]
    without_relief = overall["follow_up_without_relief"]
    if without_relief["n"] == 0 or with_relief["n"] == 0:
        which = "all" if without_relief["n"] == 0 else "none"
        return (
            f"{start}; {which} of them had relief at once, so follow-up cannot "
            "be compared with and without relief."
        )
    shares = f"{percent(with_relief['rate'])} with relief at once"
    if abs(with_relief["rate"] - without_relief["rate"]) >= BIAS_GAP:
        return (
            f"{start}; {shares} against {percent(without_relief['rate'])} "
            "without, so missing outcomes could bias the rule check."
        )
    return (
        f"{start}; {shares} and {percent(without_relief['rate'])} without, "
        "a similar share in both."
    )


def completeness_lines(completeness: dict) -> list[str]:
    """The completeness table and its sentence, for the terminal."""
    lines = [
        f"Follow-up completeness on {completeness['as_of']} (the trials counted "
        "for the relief rate; the follow-up rate is out of those past awaiting)",
        f"{'Aid':<9} {'Counted':>7} {'Clinic':>6} {'Patient':>7} {'Awaiting':>8} "
        f"{'Due':>5} {'Overdue':>7} {'Lost':>5} {'Follow-up rate':<26} "
        f"{'With relief':>11} {'Without':>8}",
    ]
    for label, row in [(g["intervention"], g) for g in completeness["groups"]] + [
        ("all", completeness["overall"])
    ]:
        counts = " ".join(
            f"{row[name]:>{width}}"
            for name, width in zip(
                COMPLETENESS_COUNTS, (7, 6, 7, 8, 5, 7, 5), strict=True
            )
        )
        lines.append(
            f"{label:<9} {counts} {rate_in_words(row['follow_up']):<26} "
            f"{percent(row['follow_up_with_relief']['rate']):>11} "
            f"{percent(row['follow_up_without_relief']['rate']):>8}"
        )
    lines.append(completeness_in_words(completeness))
    return lines


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
    return [*lines, "", *completeness_lines(result.completeness)]


def _ratio(estimate: analysis.Estimate) -> str:
    return "—" if estimate.value is None else f"{estimate.value:.2f}"
