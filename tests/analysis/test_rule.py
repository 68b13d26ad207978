from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analysis import (
    GLOBAL_RATINGS,
    RELIEF_CRITERIA,
    Verdict,
    choose_outcome,
    is_long_term_benefit,
    long_term_benefit_column,
    outcome_follow_ups,
    relief_column,
    verdict,
)
from analysis.rule import FollowUpDate

RELIEF = Verdict.IMMEDIATE_RELIEF
NO_RELIEF = Verdict.NO_IMMEDIATE_RELIEF
NOT_ASSESSABLE = Verdict.NOT_ASSESSABLE


@pytest.mark.parametrize(
    ("pain_without", "pain_with", "under_any", "under_mcid"),
    [
        (5, 4, RELIEF, NO_RELIEF),  # 1 point, 20%
        (8, 6, RELIEF, RELIEF),  # 2 points, 25%
        (10, 7, RELIEF, RELIEF),  # 3 points, 30% of a high score
        (10, 9, RELIEF, NO_RELIEF),  # 1 point, 10%
        (3, 2, RELIEF, RELIEF),  # 1 point but 33% of a low score
        (7, 6, RELIEF, NO_RELIEF),  # 1 point, 14%
        (1, 0, RELIEF, RELIEF),  # all of a low score
        (5, 5, NO_RELIEF, NO_RELIEF),
        (4, 6, NO_RELIEF, NO_RELIEF),  # worse with the aid
        (0, 0, NOT_ASSESSABLE, NOT_ASSESSABLE),
        (0, 3, NOT_ASSESSABLE, NOT_ASSESSABLE),
    ],
)
def test_verdict_boundaries(pain_without, pain_with, under_any, under_mcid):
    assert verdict(pain_without, pain_with, "any") is under_any
    assert verdict(pain_without, pain_with, "mcid") is under_mcid


@pytest.mark.parametrize(
    ("pain_without", "pain_with", "two_points", "thirty_percent"),
    [
        (10, 7, RELIEF, RELIEF),  # exactly 30%
        (7, 5, RELIEF, NO_RELIEF),  # 2 of 7 is 28.6%
        (10, 8, RELIEF, NO_RELIEF),
        (3, 2, NO_RELIEF, RELIEF),
    ],
)
def test_verdict_under_the_other_criteria(
    pain_without, pain_with, two_points, thirty_percent
):
    assert verdict(pain_without, pain_with, "two_points") is two_points
    assert verdict(pain_without, pain_with, "thirty_percent") is thirty_percent


def test_verdict_accepts_numpy_integers():
    assert verdict(np.int64(6), np.int64(3)) is RELIEF


@pytest.mark.parametrize(
    ("pain_without", "pain_with"), [(5.0, 4), (5, 4.0), (True, 0), ("5", 4)]
)
def test_verdict_rejects_scores_that_are_not_whole_numbers(pain_without, pain_with):
    with pytest.raises(TypeError, match="whole numbers"):
        verdict(pain_without, pain_with)


@pytest.mark.parametrize(("pain_without", "pain_with"), [(11, 4), (5, -1)])
def test_verdict_rejects_scores_outside_0_to_10(pain_without, pain_with):
    with pytest.raises(ValueError, match="between 0 and 10"):
        verdict(pain_without, pain_with)


def test_verdict_rejects_an_unknown_criterion():
    with pytest.raises(ValueError, match="unknown relief criterion"):
        verdict(5, 3, "half")


def test_predictions_are_in_words():
    assert RELIEF.prediction == "likely to help in the longer term"
    assert NO_RELIEF.prediction == "unlikely to help in the longer term"
    assert NOT_ASSESSABLE.prediction.startswith("cannot be judged")


@pytest.mark.parametrize("criterion", RELIEF_CRITERIA)
def test_relief_column_agrees_with_verdict_on_every_pair(criterion):
    pairs = [(a, b) for a in range(11) for b in range(11)]
    pain_without = pd.Series([a for a, _ in pairs])
    pain_with = pd.Series([b for _, b in pairs])

    column = relief_column(pain_without, pain_with, criterion)

    expected = [
        {RELIEF: True, NO_RELIEF: False, NOT_ASSESSABLE: pd.NA}[
            verdict(a, b, criterion)
        ]
        for a, b in pairs
    ]
    pd.testing.assert_series_equal(
        column, pd.Series(expected, dtype="boolean"), check_names=False
    )


@pytest.mark.parametrize(
    ("rating", "markedly", "moderately"),
    [
        ("markedly_improved", True, True),
        ("moderately_improved", False, True),
        ("same", False, False),
        ("markedly_worse", False, False),
    ],
)
def test_is_long_term_benefit(rating, markedly, moderately):
    assert is_long_term_benefit(rating, "markedly_improved") is markedly
    assert is_long_term_benefit(rating, "moderately_improved") is moderately


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_long_term_benefit_column_leaves_trials_without_outcome_missing(dtype):
    ratings = pd.Series(
        ["markedly_improved", None, "moderately_improved", "same"], dtype=dtype
    )

    column = long_term_benefit_column(ratings, "moderately_improved")

    assert column.tolist() == [True, pd.NA, True, False]
    assert str(column.dtype) == "boolean"


def test_long_term_benefit_column_rejects_unknown_ratings():
    with pytest.raises(ValueError, match=r"unknown global ratings: \['better'\]"):
        long_term_benefit_column(pd.Series(["same", "better", None]))


def test_long_term_benefit_column_does_not_change_its_input():
    ratings = pd.Series(list(GLOBAL_RATINGS) + [None])
    before = ratings.copy()

    long_term_benefit_column(ratings)

    pd.testing.assert_series_equal(ratings, before)


TRIAL_DAY = date(2024, 3, 1)


def follow_up(id: int, days: int) -> FollowUpDate:
    return FollowUpDate(id=id, date=TRIAL_DAY + timedelta(days=days))


def test_a_follow_up_before_the_minimum_interval_does_not_count():
    assert choose_outcome(TRIAL_DAY, [follow_up(1, 6 * 7 - 1)]) is None


def test_a_follow_up_at_the_minimum_interval_counts():
    assert choose_outcome(TRIAL_DAY, [follow_up(1, 6 * 7)]).id == 1


def test_the_follow_up_nearest_the_due_week_is_the_outcome():
    chosen = choose_outcome(
        TRIAL_DAY, [follow_up(1, 2 * 7), follow_up(2, 15 * 7), follow_up(3, 11 * 7)]
    )
    assert chosen.id == 3


def test_on_a_tie_the_earlier_follow_up_is_the_outcome():
    chosen = choose_outcome(TRIAL_DAY, [follow_up(1, 14 * 7), follow_up(2, 10 * 7)])
    assert chosen.id == 2


def test_no_follow_ups_means_no_outcome():
    assert choose_outcome(TRIAL_DAY, []) is None


FOLLOW_UP_DAYS = {
    1: [14, 41],  # all too early
    2: [42],
    3: [70, 98],  # a tie around week 12
    4: [30, 90, 77, 200],
    5: [84, 84],
}


def test_outcome_follow_ups_chooses_as_choose_outcome_does():
    follow_ups = pd.DataFrame(
        [
            {"follow_up_id": 10 * trial_id + n, "trial_id": trial_id, "days": days}
            for trial_id, all_days in FOLLOW_UP_DAYS.items()
            for n, days in enumerate(all_days)
        ]
    )

    chosen = outcome_follow_ups(follow_ups)

    expected = {}
    for trial_id, all_days in FOLLOW_UP_DAYS.items():
        outcome = choose_outcome(
            TRIAL_DAY,
            [follow_up(10 * trial_id + n, days) for n, days in enumerate(all_days)],
        )
        if outcome is not None:
            expected[trial_id] = outcome.id
    assert (
        dict(zip(chosen["trial_id"], chosen["follow_up_id"], strict=True)) == expected
    )
    assert expected == {2: 20, 3: 30, 4: 41, 5: 50}
    assert list(chosen.columns) == ["follow_up_id", "trial_id", "days"]


def test_outcome_follow_ups_needs_trial_and_days():
    with pytest.raises(ValueError, match=r"lacks columns \['days'\]"):
        outcome_follow_ups(pd.DataFrame({"trial_id": [1]}))
