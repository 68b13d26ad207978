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
#: The aids inside a sentence ("With insoles, ...", "taping against a knee brace").
AID_WORDS = {"insole": "insoles", "taping": "taping", "brace": "a knee brace"}
CRITERION_WORDS = {
    "any": "any drop in pain",
    "two_points": "a drop of at least 2 points",
    "thirty_percent": "a drop of at least 30%",
    "mcid": "a drop of at least 2 points or 30% (MCID)",
}
MEASURE_WORDS = {
    "long_term_benefit": "Long-term benefit",
    "immediate_relief": "Immediate relief",
}
#: Where a rate that is not yet conclusive points, against the band.
CLAIM_WORDS = {"above": "above it", "below": "below it", "within": "inside it"}
#: A line each on what the accuracy figures mean, to show beside them.
MEANINGS = {
    "ppv": (
        "PPV (positive predictive value): of the patients who felt relief at "
        "once, the share who were better at the follow-up."
    ),
    "npv": (
        "NPV (negative predictive value): of the patients who felt no relief, "
        "the share who were not better at the follow-up."
    ),
    "lr": (
        "Likelihood ratios: LR+ is how many times more often relief at once is "
        "seen in patients who get better than in those who do not, LR− the same "
        "for no relief. 1 means relief tells you nothing; the further from 1 "
        "(above 2, below 0.5), the more it changes the chances."
    ),
    "auc": (
        "AUC (area under the ROC curve): the chance that a patient who got "
        "better had a bigger drop in pain at once than one who did not. 0.5 is "
        "a coin toss, 1 a perfect split."
    ),
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


def p_in_words(p: float | None) -> str:
    """ "p = 0.003", two significant figures, "p < 0.001" below that."""
    if p is None:
        return "no p-value"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2g}"


def ratio_in_words(value: float) -> str:
    """A ratio to two significant figures (2.1, 0.45), whole from 10 (13)."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def effect_in_words(effect: analysis.RuleEffect, settings: ClinicSettings) -> str:
    """ "Patients who felt relief at once were 2.1 times as likely to be ..."

    The risk ratio where it has an interval; where it is infinite, 0 or 1
    without one, the two rates and their difference say the same thing.
    """
    better = BENEFIT_WORDS[effect.benefit_definition]
    weeks = f"at {settings.follow_up_due_weeks} weeks"
    if effect.unit == "patient":
        who, others = "patients who felt relief at once", "those who felt none"
        likely = f"to be {better} {weeks}"
    else:
        who, others = "trials with relief at once", "those without"
        likely = f"to end with the patient {better} {weeks}"
    start = (
        ""
        if effect.intervention is None
        else (f"With {AID_WORDS[effect.intervention]}, ")
    )
    if effect.reason is not None:
        return _sentence(
            f"{start}the rule's effect cannot be estimated yet: {effect.reason}."
        )
    ratio, p = effect.risk_ratio, p_in_words(effect.fisher_p)
    if ratio.value is not None and ratio.ci is not None:
        low, high = ratio.ci
        return _sentence(
            f"{start}{who} were {ratio_in_words(ratio.value)} times as likely "
            f"{likely} (95% CI {ratio_in_words(low)}–{ratio_in_words(high)}; {p})."
        )
    difference = effect.risk_difference
    low, high = difference.ci
    return _sentence(
        f"{start}{percent(effect.benefit_with_relief.rate)} of {who} were "
        f"{better} {weeks}, against {percent(effect.benefit_without_relief.rate)} "
        f"of {others}: a difference of {_points_of_percent(difference.value)} "
        f"(95% CI {low * 100:.0f} to {high * 100:.0f}; {p})."
    )


def band_in_words(
    rate: dict,
    settings: ClinicSettings,
    unit: str,
    aid: str = "all",
    follow_up: dict | None = None,
) -> str:
    """One banded rate's verdict with the p-value of its claim, in one reading.

    "Long-term benefit with insoles: 62% (53–70%) of 120 patients, above
    the 25–50% band, p = 0.003." A verdict not yet reached says where the
    rate points and how many more outcomes would settle it, and, given the
    ``follow_up`` rate it was scaled by, how many more trials.
    """
    what = "Long-term benefit" + ("" if aid == "all" else f" with {AID_WORDS[aid]}")
    band = f"the {settings.band_low * 100:.0f}–{percent(settings.band_high)} band"
    units = UNIT_WORDS[unit]
    if rate["n"] == 0:
        return f"{what}: no outcomes yet, so no verdict against {band}."
    low, high = rate["wilson"]
    start = (
        f"{what}: {percent(rate['rate'])} ({low * 100:.0f}–{percent(high)}) "
        f"of {rate['n']} {units}"
    )
    verdict, p = rate["band"], p_in_words(rate["p_value"])
    if verdict in ("above", "below", "within"):
        return f"{start}, {verdict} {band}, {p}."
    if verdict == "too_few":
        reading = f"{start}: too few to judge against {band}"
    else:
        reading = (
            f"{start}: not yet clear against {band} "
            f"(it points {CLAIM_WORDS[rate['p_value_claim']]}, {p})"
        )
    more, trials = rate["more_outcomes_needed"], rate["more_trials_needed"]
    if more is None:
        return f"{reading}; at exactly this rate no number of outcomes would settle it."
    outcomes = "1 more outcome" if more == 1 else f"{more} more outcomes"
    reading = f"{reading}; about {outcomes} at this rate would settle it"
    if trials is not None and follow_up is not None and follow_up["rate"]:
        reading += (
            f", about {trials} more {units} at the follow-up rate of "
            f"{percent(follow_up['rate'])}"
        )
    return f"{reading}."


def band_probability_in_words(rate: dict) -> str:
    """``p_in_band`` as what it is: a Bayesian probability, not a p-value."""
    if rate["p_in_band"] is None:
        return "No outcomes yet, so no probability that the rate lies in the band."
    return (
        f"The probability that the true rate lies in the band is "
        f"{percent(rate['p_in_band'])} (Bayesian, starting from a uniform prior: "
        "every rate equally likely)."
    )


def cut_off_in_words(
    check: analysis.CutOffCheck, rule: analysis.RuleCheck
) -> list[str]:
    """The best cut-off of the pain drop on each scale, the clinic's, the AUC."""
    sentences = []
    if check.warning is not None:
        sentences.append(_sentence(f"{check.warning}."))
    points, percents = check.points.best, check.percent.best
    if points is None:
        sentences.append(
            f"No cut-off of the drop in points stands out: {check.points.best_reason}."
        )
    else:
        sentences.append(
            f"The drop that best predicts long-term benefit here is "
            f"{_points(points.cut_off)} or more: sensitivity "
            f"{_estimate(points.sensitivity)}, specificity "
            f"{_estimate(points.specificity)}."
        )
    if percents is None:
        sentences.append(
            f"No cut-off of the drop in percent stands out: "
            f"{check.percent.best_reason}."
        )
    else:
        sentences.append(
            f"As a share of the pain without the aid, the best is a drop of "
            f"{percents.cut_off}% or more: sensitivity "
            f"{_estimate(percents.sensitivity)}, specificity "
            f"{_estimate(percents.specificity)}."
        )
    sentences.append(
        f"The clinic's criterion, {CRITERION_WORDS[rule.criterion]}, gives "
        f"sensitivity {_estimate(rule.sensitivity)} and specificity "
        f"{_estimate(rule.specificity)}."
    )
    sentences.append(
        f"Area under the ROC curve: {_auc(check.points.auc)} for the drop in "
        f"points, {_auc(check.percent.auc)} for the drop in percent."
    )
    return sentences


def comparison_in_words(row: dict) -> str:
    """One pair of aids compared, with Holm's adjusted p-value."""
    what = MEASURE_WORDS[row["measure"]]
    pair = (
        f"{AID_WORDS[row['intervention_a']]} against {AID_WORDS[row['intervention_b']]}"
    )
    difference = row["difference"]
    if difference["value"] is None:
        return f"{what}, {pair}: cannot be compared ({difference['reason']})."
    low, high = difference["ci"]
    return (
        f"{what}, {pair}: {percent(row['rate_a'])} against "
        f"{percent(row['rate_b'])}, a difference of "
        f"{_points_of_percent(difference['value'])} (95% CI {low * 100:.0f} to "
        f"{high * 100:.0f}), {p_in_words(row['p_holm'])} after Holm's adjustment."
    )


def follow_up_pain_in_words(figures: dict, unit: str) -> list[str]:
    """Pain at the outcome against pain without the aid, and still using, aloud."""
    if unit == "patient":
        groups = {
            "with_relief": "Patients who felt relief at once",
            "without_relief": "Patients who felt no relief",
        }
    else:
        groups = {
            "with_relief": "Trials with relief at once",
            "without_relief": "Trials without relief at once",
        }
    sentences = []
    for group in figures["groups"]:
        if group["relief"] not in groups:
            continue
        who = groups[group["relief"]]
        if group["outcomes"] == 0:
            sentences.append(f"{who}: no outcomes yet.")
            continue
        drop = group["median_drop"]
        value = drop["value"]
        interval = f"no interval: {drop['reason']}"
        if drop["ci"] is not None:
            low, high = drop["ci"]
            if value < 0:  # said as a rise, so the interval is the rise's too
                low, high = -high, -low
            interval = f"95% CI {low:g} to {high:g}"
        if value == 0:
            change = (
                f"the same as without the aid at the trial (median change 0; "
                f"{interval})"
            )
        else:
            change = (
                f"a median {_points(abs(value))} "
                f"{'lower' if value > 0 else 'higher'} than without the aid at "
                f"the trial ({interval})"
            )
        using = group["still_using"]
        low, high = using["wilson"]
        sentences.append(
            f"{who}: pain during the activity at the follow-up was {change}, and "
            f"{percent(using['rate'])} ({low * 100:.0f}–{percent(high)}) were "
            f"still using the aid ({using['count']} of {using['n']})."
        )
    return sentences


def _estimate(estimate: analysis.Estimate) -> str:
    """A share with its interval, or a dash with the reason."""
    if estimate.value is None:
        return f"— ({estimate.reason})"
    if estimate.ci is None:
        return percent(estimate.value)
    low, high = estimate.ci
    return f"{percent(estimate.value)} ({low * 100:.0f}–{percent(high)})"


def _auc(auc: analysis.Estimate) -> str:
    if auc.value is None:
        return f"not computed ({auc.reason})"
    if auc.ci is None:
        return f"{auc.value:.2f} (no interval: {auc.reason})"
    return f"{auc.value:.2f} (95% CI {auc.ci[0]:.2f}–{auc.ci[1]:.2f})"


def _points(value: float) -> str:
    return "1 point" if value == 1 else f"{value:g} points"


def _points_of_percent(difference: float) -> str:
    """A difference of two rates in percentage points, signed."""
    points = round(difference * 100)
    word = "percentage point" if abs(points) == 1 else "percentage points"
    return f"{points:+d} {word}" if points else f"0 {word}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
