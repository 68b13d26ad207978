"""Where a trial stands with its outcome follow-up: awaiting, due, overdue...

Computed from the dates whenever it is shown, never stored, so it moves on
by itself as the weeks pass. Light (no NumPy or pandas), like
:mod:`analysis.rule`, so every page and command can use it.
"""

from __future__ import annotations

import enum
from datetime import date

__all__ = [
    "FOLLOW_UP_STATUSES",
    "GRACE_WEEKS",
    "FollowUpStatus",
    "follow_up_status",
    "status_window",
]

#: How long after the due week a missing outcome is still "due", not "overdue".
GRACE_WEEKS = 4


class FollowUpStatus(enum.StrEnum):
    """A trial's follow-up status, from the clinic's point of view."""

    AWAITING = "awaiting"  # before the minimum week: too early for an outcome
    DUE = "due"  # from the minimum week to GRACE_WEEKS after the due week
    OVERDUE = "overdue"  # later than that, still without an outcome
    OUTCOME_RECORDED = "outcome_recorded"
    LOST = "lost"  # a therapist gave up on the outcome, with a reason


FOLLOW_UP_STATUSES: tuple[str, ...] = tuple(status.value for status in FollowUpStatus)


def status_window(minimum_weeks: int, due_weeks: int) -> tuple[int, int]:
    """The days after the trial when the outcome is due: first and last."""
    return minimum_weeks * 7, (due_weeks + GRACE_WEEKS) * 7


def follow_up_status(
    trial_date: date,
    has_outcome: bool,
    lost: bool,
    today: date,
    minimum_weeks: int = 6,
    due_weeks: int = 12,
) -> FollowUpStatus:
    """A trial's follow-up status on ``today``.

    An outcome, once recorded, wins over a "lost" mark (the patient came
    back after all); a lost trial stays lost whatever the date.

    Examples
    --------
    >>> follow_up_status(date(2026, 1, 1), False, False, date(2026, 2, 11))
    <FollowUpStatus.AWAITING: 'awaiting'>
    >>> follow_up_status(date(2026, 1, 1), False, False, date(2026, 2, 12))
    <FollowUpStatus.DUE: 'due'>
    >>> follow_up_status(date(2026, 1, 1), False, False, date(2026, 4, 23))
    <FollowUpStatus.DUE: 'due'>
    >>> follow_up_status(date(2026, 1, 1), False, False, date(2026, 4, 24))
    <FollowUpStatus.OVERDUE: 'overdue'>
    """
    if has_outcome:
        return FollowUpStatus.OUTCOME_RECORDED
    if lost:
        return FollowUpStatus.LOST
    first, last = status_window(minimum_weeks, due_weeks)
    days = (today - trial_date).days
    if days < first:
        return FollowUpStatus.AWAITING
    if days <= last:
        return FollowUpStatus.DUE
    return FollowUpStatus.OVERDUE
