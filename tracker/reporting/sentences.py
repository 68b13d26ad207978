"""Every sentence of a :class:`~.summary.Summary`, as one value the page can show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .words import (
    MEANINGS,
    band_in_words,
    band_probability_in_words,
    comparison_in_words,
    completeness_in_words,
    cut_off_in_words,
    effect_in_words,
    follow_up_pain_in_words,
    rule_in_words,
)

if TYPE_CHECKING:
    from .summary import Summary


@dataclass(frozen=True)
class Sentences:
    """The summary in sentences, for the dashboard and the terminal.

    Dicts by aid have the keys ``insole``, ``taping``, ``brace`` and ``all``
    (the overall figure).
    """

    #: Long-term benefit with and without relief (the rule check).
    rule: list[str]
    #: The rule's effect over all aids, under the clinic's relief criterion.
    effect: str
    #: The same for each aid (no ``all`` key).
    effect_by_aid: dict[str, str]
    #: Each long-term benefit rate against the band: the verdict with its
    #: p-value, and how many more outcomes would settle it.
    band: dict[str, str]
    #: ``p_in_band`` in words: a Bayesian probability, not a p-value.
    band_probability: dict[str, str]
    #: The best cut-off of the pain drop beside the clinic's criterion, the AUC.
    cut_off: list[str]
    #: One per row of ``Summary.aids_compared``, in its order.
    aids_compared: list[str]
    #: Pain at the outcome and still using, with and without relief.
    follow_up_pain: list[str]
    completeness: str
    #: What PPV, NPV, the likelihood ratios and the AUC mean (:data:`MEANINGS`).
    meanings: dict[str, str]


def summary_sentences(summary: Summary) -> Sentences:
    """Every sentence of ``summary``."""
    settings, unit = summary.settings, summary.unit
    rows = {group["intervention"]: group for group in summary.groups}
    rows["all"] = summary.overall
    clinic_effects = [
        effect
        for effect in summary.effects
        if effect.criterion == settings.relief_criterion
        and effect.intervention is not None
    ]
    benefit = {aid: row["long_term_benefit"] for aid, row in rows.items()}
    follow_up = {
        row["intervention"]: row["follow_up"] for row in summary.completeness["groups"]
    }
    follow_up["all"] = summary.completeness["overall"]["follow_up"]
    return Sentences(
        rule=rule_in_words(summary.rule, settings),
        effect=effect_in_words(summary.effect, settings),
        effect_by_aid={
            effect.intervention: effect_in_words(effect, settings)
            for effect in clinic_effects
        },
        band={
            aid: band_in_words(rate, settings, unit, aid, follow_up[aid])
            for aid, rate in benefit.items()
        },
        band_probability={
            aid: band_probability_in_words(rate) for aid, rate in benefit.items()
        },
        cut_off=cut_off_in_words(summary.cut_off, summary.rule),
        aids_compared=[comparison_in_words(row) for row in summary.aids_compared],
        follow_up_pain=follow_up_pain_in_words(summary.follow_up_pain, unit),
        completeness=completeness_in_words(summary.completeness),
        meanings=dict(MEANINGS),
    )
