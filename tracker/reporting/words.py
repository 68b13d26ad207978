"""The summary in sentences a therapist can read aloud.

The dashboard shows them beside its tables and ``report`` prints them, so
the page and the terminal say the same thing in the same words.
"""

from __future__ import annotations

import analysis

from ..settings import ClinicSettings

#: A gap in follow-up between trials with and without relief that the words flag.
BIAS_GAP = 0.10
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
