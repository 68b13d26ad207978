"""The result in words a patient understands: no scores jargon, no statistics."""

from __future__ import annotations

from dataclasses import dataclass

from ..labels import ACTIVITIES
from ..models import Trial

#: Each aid as a patient calls it, and the verb that goes with it.
AIDS = {
    "insole": ("the insoles", "they are"),
    "taping": ("the taping", "it is"),
    "brace": ("the knee brace", "it is"),
}
#: The clinic's relief criterion in a patient's words.
CRITERIA = {
    "any": "a drop of at least 1 point",
    "mcid": "a drop of at least 2 points, or of 30% of your pain",
}
#: The five answers about change, for a patient, best first.
RATINGS = {
    "markedly_improved": "Much better",
    "moderately_improved": "A little better",
    "same": "About the same",
    "moderately_worse": "A little worse",
    "markedly_worse": "Much worse",
}


@dataclass(frozen=True)
class SheetWords:
    """What the sheet says about one trial's result."""

    meaning: str
    next_steps: str


def aid_words(trial: Trial) -> str:
    """``the insoles``, ``the taping`` or ``the knee brace``."""
    return AIDS[trial.intervention][0]


def activity_words(trial: Trial) -> str:
    """The activity, lower case unless the therapist typed it."""
    if trial.activity == "other":
        return trial.activity_other
    return ACTIVITIES[trial.activity].lower()


def result_words(trial: Trial, verdict: str) -> SheetWords:
    """What the trial's verdict means for the patient, and what to do next."""
    aid, they_are = AIDS[trial.intervention]
    if verdict == "immediate_relief":
        return SheetWords(
            f"Your pain eased at once with {aid}, which suggests {they_are} "
            "likely to help over the next weeks.",
            f"Keep using {aid} for the activities that bring on your knee pain, "
            "as your therapist showed you.",
        )
    if verdict == "no_immediate_relief":
        return SheetWords(
            f"Your pain did not ease enough at once with {aid}, which suggests "
            f"{they_are} unlikely to help much over the next weeks.",
            "Talk with your therapist about what to try instead. If you keep "
            f"using {aid}, we would still like to hear how your knee is doing.",
        )
    return SheetWords(
        f"The activity did not hurt without {aid} on the day, so this test "
        f"could not show whether {they_are} likely to help.",
        "Your therapist may test again with an activity that brings on your pain.",
    )
