"""The summary as plain text for the terminal (``flask --app tracker report``)."""

from __future__ import annotations

import analysis

from ..labels import FUNNEL_POSITION_WORDS, RELIEF_CRITERION_NAMES
from .rows import COMPLETENESS_COUNTS
from .sentences import Sentences
from .summary import Summary
from .words import (
    UNIT_WORDS,
    completeness_in_words,
    p_in_words,
    percent,
    rate_in_words,
    ratio_in_words,
)


def report_lines(result: Summary) -> list[str]:
    """The summary as a plain-text table for the terminal."""
    settings, overall = result.settings, result.overall
    sentences = result.sentences
    lines = [
        f"Counting unit: {UNIT_WORDS[result.unit]} "
        f"({overall['trials']} trials from {overall['patients']} patients, "
        f"{overall['assessable']} assessable)",
        f"Relief criterion: {RELIEF_CRITERION_NAMES[settings.relief_criterion]}; "
        "long-term benefit: "
        f"{settings.benefit_definition}; outcome follow-up from week "
        f"{settings.follow_up_minimum_weeks}, due at week "
        f"{settings.follow_up_due_weeks}; reference band "
        f"{percent(settings.band_low)}–{percent(settings.band_high)}",
        "",
        *rates_lines(result, sentences),
        "",
        *rule_lines(result, sentences),
        "",
        *effect_lines(result, sentences),
        "",
        "Cut-off check: which drop in pain predicts long-term benefit "
        f"({result.cut_off.outcomes} trials with an outcome)",
        *sentences.cut_off,
        "",
        *comparison_lines(result),
        "",
        "Pain at the outcome follow-up and still using the aid",
        *sentences.follow_up_pain,
        "",
        *completeness_lines(result.completeness),
    ]
    if result.by_site is not None:
        lines += ["", *site_lines(result.by_site)]
    return lines


def rates_lines(result: Summary, sentences: Sentences) -> list[str]:
    """Both rates per aid, and each long-term benefit rate against the band."""
    lines = [
        f"{'Aid':<9} {'Trials':>7} {'Patients':>8} "
        f"{'Immediate relief':<32} {'Long-term benefit':<32} Band (long-term benefit)",
    ]
    for label, row in _by_aid(result.groups, result.overall):
        relief, benefit = row["immediate_relief"], row["long_term_benefit"]
        lines.append(
            f"{label:<9} {row['trials']:>7} {row['patients']:>8} "
            f"{rate_in_words(relief):<32} {rate_in_words(benefit):<32} "
            f"{benefit['band']}, {p_in_words(benefit['p_value'])}"
        )
    lines += [
        "",
        "Against the band (long-term benefit only: immediate relief is shown "
        "without a verdict)",
        *(sentences.band[aid] for aid, _ in _by_aid(result.groups, result.overall)),
    ]
    return lines


def rule_lines(result: Summary, sentences: Sentences) -> list[str]:
    """The 2x2 under the clinic's criterion, and the accuracy under each."""
    rule = result.rule
    lines = [
        f"Rule check (relief criterion: {RELIEF_CRITERION_NAMES[rule.criterion]}): "
        f"relief and benefit {rule.tp}, relief without benefit {rule.fp}, "
        f"benefit without relief {rule.fn}, neither {rule.tn}",
        *sentences.rule,
        "",
        f"{'Criterion':<31} {'Sensitivity':>12} {'Specificity':>12} "
        f"{'LR+':>8} {'LR-':>8}",
    ]
    for check in result.rule_by_criterion:
        lines.append(
            f"{RELIEF_CRITERION_NAMES[check.criterion]:<31} "
            f"{percent(check.sensitivity.value):>12} "
            f"{percent(check.specificity.value):>12} "
            f"{_ratio(check.lr_positive):>8} {_ratio(check.lr_negative):>8}"
        )
    return lines


def effect_lines(result: Summary, sentences: Sentences) -> list[str]:
    """The effect's sentence, then risk ratio, difference and p per aid."""
    criterion = result.settings.relief_criterion
    lines = [
        f"The rule's effect (relief criterion: {RELIEF_CRITERION_NAMES[criterion]})",
        sentences.effect,
        f"{'Aid':<9} {'Risk ratio (95% CI)':<22} {'Difference (95% CI)':<24} "
        f"{'Odds ratio (95% CI)':<22} Fisher's p",
    ]
    for effect in result.effects:
        if effect.criterion != criterion:
            continue
        difference = effect.risk_difference
        lines.append(
            f"{effect.intervention or 'all':<9} "
            f"{_ratio_with_interval(effect.risk_ratio):<22} "
            f"{_difference(difference.value, difference.ci):<24} "
            f"{_ratio_with_interval(effect.odds_ratio):<22} "
            f"{_p_value(effect.fisher_p)}"
        )
    return lines


def comparison_lines(result: Summary) -> list[str]:
    """Each pair of aids: both rates, the difference, Holm's adjusted p."""
    lines = [
        "Aids compared (difference in percentage points with its 95% CI; "
        "p after Holm's adjustment over the three pairs)",
        f"{'Measure':<18} {'Aids':<16} {'Rates':<12} {'Difference':<20} p",
    ]
    for row in result.aids_compared:
        difference = row["difference"]
        lines.append(
            f"{row['measure']:<18} "
            f"{row['intervention_a'] + ' / ' + row['intervention_b']:<16} "
            f"{percent(row['rate_a']) + ' / ' + percent(row['rate_b']):<12} "
            f"{_difference(difference['value'], difference['ci']):<20} "
            f"{_p_value(row['p_holm'])}"
        )
    return lines


def completeness_lines(completeness: dict) -> list[str]:
    """The completeness table and its sentence, for the terminal."""
    lines = [
        f"Follow-up completeness on {completeness['as_of']} (the trials counted "
        "for the relief rate; the follow-up rate is out of those past awaiting)",
        f"{'Aid':<9} {'Counted':>7} {'Clinic':>6} {'Patient':>7} {'Awaiting':>8} "
        f"{'Due':>5} {'Overdue':>7} {'Lost':>5} {'Follow-up rate':<26} "
        f"{'With relief':>11} {'Without':>8}",
    ]
    for label, row in _by_aid(completeness["groups"], completeness["overall"]):
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


def site_lines(by_site: dict) -> list[str]:
    """Each site's rates and where its long-term benefit lies in the funnel."""
    lines = [
        "By site (every trial counts; long-term benefit against the pooled rate "
        f"of {percent(by_site['pooled_rate'])}, in the funnel's limits)",
        f"{'Site':<24} {'Trials':>7} {'Immediate relief':<32} "
        f"{'Long-term benefit':<32} In the funnel",
    ]
    for row in by_site["sites"]:
        lines.append(
            f"{row['site']:<24} {row['trials']:>7} "
            f"{rate_in_words(row['immediate_relief']):<32} "
            f"{rate_in_words(row['long_term_benefit']):<32} "
            f"{FUNNEL_POSITION_WORDS[row['funnel']['position']]}"
        )
    return lines


def _by_aid(groups: list[dict], overall: dict) -> list[tuple[str, dict]]:
    return [(group["intervention"], group) for group in groups] + [("all", overall)]


def _p_value(p: float | None) -> str:
    """A p-value for a table column: "0.035", "<0.001", or a dash."""
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.2g}"


def _ratio(estimate: analysis.Estimate) -> str:
    return "—" if estimate.value is None else f"{estimate.value:.2f}"


def _ratio_with_interval(estimate: analysis.Estimate) -> str:
    if estimate.value is None:
        return "—"
    text = ratio_in_words(estimate.value)
    if estimate.ci is None:
        return text
    low, high = estimate.ci
    return f"{text} ({ratio_in_words(low)}–{ratio_in_words(high)})"


def _difference(value: float | None, ci: list | tuple | None) -> str:
    """A difference of two rates in percentage points, with its interval."""
    if value is None:
        return "—"
    text = f"{value * 100:+.0f}"
    if ci is None:
        return text
    return f"{text} ({ci[0] * 100:.0f} to {ci[1] * 100:.0f})"
