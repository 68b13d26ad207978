"""The summary as plain text for the terminal (``flask --app tracker report``)."""

from __future__ import annotations

import analysis

from .rows import COMPLETENESS_COUNTS
from .summary import Summary
from .words import (
    UNIT_WORDS,
    completeness_in_words,
    percent,
    rate_in_words,
    rule_in_words,
)


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
