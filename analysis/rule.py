"""The immediate-relief rule, the outcome follow-up and long-term benefit.

The clinical rule: if pain during a provoking activity drops at once when the
aid is on, the aid is likely to help in the longer term; if not, it is
unlikely to. Every verdict the app shows or counts is computed here, from the
stored scores, so the rule exists in exactly one place.

The scalar rule and the vocabulary import nothing heavy: the app's models and
every command use them. Only the column functions need pandas, and load it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from numbers import Integral
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BENEFIT_DEFINITIONS",
    "CLINIC_RELIEF_CRITERIA",
    "GLOBAL_RATINGS",
    "RELIEF_CRITERIA",
    "BenefitDefinition",
    "ReliefCriterion",
    "Verdict",
    "choose_outcome",
    "immediate_relief",
    "is_long_term_benefit",
    "long_term_benefit_column",
    "outcome_follow_ups",
    "relief_column",
    "verdict",
]

ReliefCriterion = Literal["any", "two_points", "thirty_percent", "mcid"]
#: Every criterion the rule check compares; the clinic setting offers two.
RELIEF_CRITERIA: tuple[ReliefCriterion, ...] = (
    "any",
    "two_points",
    "thirty_percent",
    "mcid",
)
CLINIC_RELIEF_CRITERIA: tuple[ReliefCriterion, ...] = ("any", "mcid")

#: The 5-point global rating of change of the foot-orthoses trials, worst first.
GLOBAL_RATINGS = (
    "markedly_worse",
    "moderately_worse",
    "same",
    "moderately_improved",
    "markedly_improved",
)
BenefitDefinition = Literal["markedly_improved", "moderately_improved"]
BENEFIT_DEFINITIONS: tuple[BenefitDefinition, ...] = (
    "markedly_improved",
    "moderately_improved",
)


class Verdict(enum.StrEnum):
    """What the rule says about one trial."""

    IMMEDIATE_RELIEF = "immediate_relief"
    NO_IMMEDIATE_RELIEF = "no_immediate_relief"
    NOT_ASSESSABLE = "not_assessable"

    @property
    def prediction(self) -> str:
        """The verdict in words a patient can be told."""
        return _PREDICTIONS[self]


_PREDICTIONS = {
    Verdict.IMMEDIATE_RELIEF: "likely to help in the longer term",
    Verdict.NO_IMMEDIATE_RELIEF: "unlikely to help in the longer term",
    Verdict.NOT_ASSESSABLE: (
        "cannot be judged: the activity did not provoke pain without the aid"
    ),
}


def _check_criterion(criterion: str) -> None:
    if criterion not in RELIEF_CRITERIA:
        raise ValueError(
            f"unknown relief criterion {criterion!r}; expected one of {RELIEF_CRITERIA}"
        )


def immediate_relief(pain_without, pain_with, criterion: ReliefCriterion = "any"):
    """Whether the drop in pain meets the relief criterion.

    Works element-wise on scalars, NumPy arrays and pandas Series alike, so the
    screens and the statistics share one definition. Integer arithmetic keeps
    the 30% boundary exact (3 of 10 is relief, 2 of 7 is not).

    - ``any``: a reduction of at least 1 point (the rule as stated; closest to
      Barton et al. 2011).
    - ``two_points``: at least 2 points.
    - ``thirty_percent``: at least 30% of the pain without the aid.
    - ``mcid``: 2 points or 30% (Farrar et al. 2001).

    It does not decide assessability: see :func:`verdict`.
    """
    _check_criterion(criterion)
    reduction = pain_without - pain_with
    two_points = reduction >= 2
    thirty_percent = (reduction >= 1) & (10 * reduction >= 3 * pain_without)
    if criterion == "any":
        return reduction >= 1
    if criterion == "two_points":
        return two_points
    if criterion == "thirty_percent":
        return thirty_percent
    return two_points | thirty_percent


def verdict(
    pain_without: int, pain_with: int, criterion: ReliefCriterion = "any"
) -> Verdict:
    """The rule's verdict for one trial (0-10 scores).

    A trial whose activity caused no pain without the aid cannot show relief,
    so it is ``NOT_ASSESSABLE`` and left out of every rate.

    Examples
    --------
    >>> verdict(5, 4).value
    'immediate_relief'
    >>> verdict(5, 4, "mcid").value
    'no_immediate_relief'
    >>> verdict(0, 0).value
    'not_assessable'
    """
    for score in (pain_without, pain_with):
        if isinstance(score, bool) or not isinstance(score, Integral):
            raise TypeError("pain scores must be whole numbers")
        if not 0 <= score <= 10:
            raise ValueError("pain scores must be between 0 and 10")
    if pain_without == 0:
        return Verdict.NOT_ASSESSABLE
    if immediate_relief(pain_without, pain_with, criterion):
        return Verdict.IMMEDIATE_RELIEF
    return Verdict.NO_IMMEDIATE_RELIEF


def relief_column(
    pain_without: pd.Series, pain_with: pd.Series, criterion: ReliefCriterion = "any"
) -> pd.Series:
    """:func:`verdict` for whole columns: True / False, or <NA> if not assessable."""
    import pandas as pd

    relief = pd.Series(
        immediate_relief(
            pain_without.to_numpy("int64"), pain_with.to_numpy("int64"), criterion
        ),
        index=pain_without.index,
        dtype="boolean",
    )
    return relief.mask(pain_without == 0)


def is_long_term_benefit(
    rating: str, definition: BenefitDefinition = "markedly_improved"
) -> bool:
    """Whether a global rating of change counts as long-term benefit.

    ``markedly_improved`` is the success definition of Barton et al. 2011 and
    Vicenzino et al. 2010 (the studies behind the 25-50% figure);
    ``moderately_improved`` widens it to moderately improved or better
    (Collins et al. 2008).
    """
    if definition not in BENEFIT_DEFINITIONS:
        raise ValueError(f"unknown benefit definition {definition!r}")
    if rating not in GLOBAL_RATINGS:
        raise ValueError(f"unknown global rating {rating!r}")
    return GLOBAL_RATINGS.index(rating) >= GLOBAL_RATINGS.index(definition)


def long_term_benefit_column(
    ratings: pd.Series, definition: BenefitDefinition = "markedly_improved"
) -> pd.Series:
    """:func:`is_long_term_benefit` for a column: True / False, <NA> without outcome."""
    if definition not in BENEFIT_DEFINITIONS:
        raise ValueError(f"unknown benefit definition {definition!r}")
    known = ratings.dropna()
    unknown = set(known.unique()) - set(GLOBAL_RATINGS)
    if unknown:
        raise ValueError(f"unknown global ratings: {sorted(unknown)}")
    benefit = ratings.isin(GLOBAL_RATINGS[GLOBAL_RATINGS.index(definition) :])
    return benefit.astype("boolean").mask(ratings.isna())


@dataclass(frozen=True)
class FollowUpDate:
    """The little the outcome choice needs to know about a follow-up."""

    id: int
    date: date


def _outcome_distance(days: int, due_days: int) -> tuple[int, int]:
    # Nearest to the due week; on a tie the earlier follow-up wins.
    return abs(days - due_days), days


def choose_outcome(
    trial_date: date,
    follow_ups: Iterable[FollowUpDate],
    minimum_weeks: int = 6,
    due_weeks: int = 12,
) -> FollowUpDate | None:
    """The follow-up that counts as the trial's outcome, or None.

    Only follow-ups at or after ``minimum_weeks`` count; of those, the one
    nearest to ``due_weeks`` (the earlier on a tie). Earlier follow-ups are
    kept and shown but say nothing about the long term.
    """
    due_days = due_weeks * 7
    candidates = [
        f for f in follow_ups if (f.date - trial_date).days >= minimum_weeks * 7
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda f: _outcome_distance((f.date - trial_date).days, due_days),
    )


def outcome_follow_ups(
    follow_ups: pd.DataFrame, minimum_weeks: int = 6, due_weeks: int = 12
) -> pd.DataFrame:
    """:func:`choose_outcome` for many trials at once.

    ``follow_ups`` has one row per follow-up with ``trial_id`` and ``days``
    (days since the trial) plus any other columns; the result keeps one row
    per trial that has an outcome, with the same columns.
    """
    missing = {"trial_id", "days"} - set(follow_ups.columns)
    if missing:
        raise ValueError(f"follow_ups lacks columns {sorted(missing)}")
    eligible = follow_ups[follow_ups["days"] >= minimum_weeks * 7]
    ranked = eligible.assign(
        _distance=(eligible["days"] - due_weeks * 7).abs()
    ).sort_values(["trial_id", "_distance", "days"], kind="stable")
    return (
        ranked.drop_duplicates("trial_id")
        .drop(columns="_distance")
        .reset_index(drop=True)
    )
