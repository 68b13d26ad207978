import numpy as np
import pandas as pd
import pytest
from scipy.stats import quantile_test

import analysis
from analysis import follow_up_pain_by_relief, proportion
from tests.analysis.builders import make_trials

BETTER, SAME = "markedly_improved", "same"


def trials_from(rows, **defaults):
    """Trials from (pain without, pain with, outcome pain, still using) tuples."""
    frame = make_trials(
        [
            {
                "pain_without": without,
                "pain_with": with_aid,
                "outcome_rating": None if outcome is None else SAME,
                "outcome_pain": outcome,
            }
            for without, with_aid, outcome, _ in rows
        ],
        **defaults,
    )
    frame["outcome_still_using"] = pd.array(
        [using for *_, using in rows], dtype="boolean"
    )
    return frame


# A hand-built data set. With relief (pain with < pain without):
#   drops 6-1=5, 6-2=4, 8-4=4, 5-2=3, 4-2=2, 7-7=0, 3-4=-1; still using 5 of 7
# Without relief: drops 6-3=3, 2-2=0, 5-6=-1; still using 1 of 3
# One trial without an outcome and one not assessable (pain without 0).
HAND_BUILT = [
    (6, 2, 1, True),
    (6, 3, 2, True),
    (8, 5, 4, True),
    (5, 1, 2, True),
    (4, 0, 2, False),
    (7, 6, 7, True),
    (3, 1, 4, False),
    (6, 6, 3, True),
    (2, 3, 2, False),
    (5, 5, 6, False),
    (6, 2, None, None),
    (0, 0, 0, True),
]


def by_relief(trials, **options):
    """The figures of ``trials``, indexed by relief group."""
    return follow_up_pain_by_relief(trials, **options).set_index("relief")


def test_hand_built_drops_medians_and_intervals_match_hand_counts():
    table = by_relief(trials_from(HAND_BUILT))
    assert table.index.tolist() == ["with_relief", "without_relief", "all"]
    assert table["outcomes"].tolist() == [7, 3, 10]

    relief = table.loc["with_relief"]
    # Sorted drops -1, 0, 2, 3, 4, 4, 5: the 4th is the median; n = 7 gives
    # k = 1 (P(B <= 0) = 1/128 <= 2.5% < P(B <= 1) = 8/128), the extremes.
    assert relief["median_drop"] == 3
    assert (relief["median_drop_low"], relief["median_drop_high"]) == (-1, 5)
    assert relief["median_drop_reason"] is None
    assert relief["median_pain_without"] == 6  # 3, 4, 5, 6, 6, 7, 8
    assert relief["median_outcome_pain"] == 2  # 1, 2, 2, 2, 4, 4, 7
    assert (relief["still_using_count"], relief["still_using_n"]) == (5, 7)

    without = table.loc["without_relief"]
    assert without["median_drop"] == 0
    assert np.isnan(without["median_drop_low"])
    assert without["median_drop_reason"] == (
        "fewer than 6 outcomes: too few for a 95% interval"
    )
    assert (without["still_using_count"], without["still_using_n"]) == (1, 3)

    everyone = table.loc["all"]
    # -1, -1, 0, 0, 2, 3, 3, 4, 4, 5: the mean of the 5th and 6th.
    assert everyone["median_drop"] == 2.5
    # n = 10: k = 2 (P(B <= 1) = 11/1024 <= 2.5% < P(B <= 2) = 56/1024).
    assert (everyone["median_drop_low"], everyone["median_drop_high"]) == (-1, 4)
    assert everyone["still_using_count"] == 6


def test_the_still_using_share_carries_the_intervals_of_every_rate():
    row = by_relief(trials_from(HAND_BUILT)).loc["with_relief"]
    expected = proportion(5, 7)
    assert row["still_using_rate"] == pytest.approx(expected.rate)
    assert [row["still_using_wilson_low"], row["still_using_wilson_high"]] == (
        pytest.approx(list(expected.wilson))
    )
    assert [row["still_using_exact_low"], row["still_using_exact_high"]] == (
        pytest.approx(list(expected.exact))
    )


@pytest.mark.parametrize("n", [6, 7, 9, 10, 17, 40, 101, 500])
def test_median_interval_is_scipys_distribution_free_quantile_interval(n):
    rng = np.random.default_rng(n)
    pain_without = rng.integers(1, 11, n)
    outcome_pain = rng.integers(0, 11, n)
    rows = [
        (int(a), 0, int(b), True)
        for a, b in zip(pain_without, outcome_pain, strict=True)
    ]
    row = by_relief(trials_from(rows)).loc["with_relief"]
    drops = pain_without - outcome_pain
    interval = quantile_test(drops, q=0, p=0.5).confidence_interval(0.95)
    assert row["median_drop"] == np.median(drops)
    assert (row["median_drop_low"], row["median_drop_high"]) == (
        interval.low,
        interval.high,
    )


def test_the_relief_criterion_decides_who_is_in_which_group():
    # A drop of 1 point of 6 is relief under "any", not under "mcid".
    rows = [(6, 5, 2, True)] * 3 + [(6, 2, 1, True)] * 2
    trials = trials_from(rows)
    by_any = by_relief(trials, criterion="any")
    by_mcid = by_relief(trials, criterion="mcid")
    assert by_any.loc[["with_relief", "without_relief"], "outcomes"].tolist() == [5, 0]
    assert by_mcid.loc[["with_relief", "without_relief"], "outcomes"].tolist() == [
        2,
        3,
    ]


def test_a_patients_repeat_trial_of_an_aid_counts_only_under_the_trial_unit():
    rows = [(6, 2, 1, True), (6, 2, 6, False)]
    trials = trials_from(rows, patient_id=1)
    per_patient = by_relief(trials).loc["all"]
    per_trial = by_relief(trials, unit="trial").loc["all"]
    assert (per_patient["outcomes"], per_patient["median_drop"]) == (1, 5)
    assert (per_trial["outcomes"], per_trial["median_drop"]) == (2, 2.5)


def test_a_patient_who_tried_two_aids_counts_once_as_in_the_rule_check():
    rows = [(6, 2, 1, True), (6, 6, 6, False)]
    trials = trials_from(rows, patient_id=1)
    trials["intervention"] = ["insole", "taping"]
    per_patient = by_relief(trials)
    assert per_patient["outcomes"].tolist() == [1, 0, 1]
    assert per_patient.loc["all", "median_drop"] == 5
    rule = analysis.rule_check(trials)
    assert rule.benefit_with_relief.n + rule.benefit_without_relief.n == 1
    assert by_relief(trials, unit="trial")["outcomes"].tolist() == [1, 1, 2]


def test_without_outcomes_every_figure_is_missing_with_the_reason():
    table = follow_up_pain_by_relief(
        trials_from([(6, 2, None, None), (5, 5, None, None)])
    )
    assert table["outcomes"].tolist() == [0, 0, 0]
    assert (
        table[["median_drop", "median_drop_low", "still_using_rate"]]
        .isna()
        .all(axis=None)
    )
    assert set(table["median_drop_reason"]) == {"no trials with an outcome"}


def test_takes_checked_trials_and_leaves_the_frame_as_it_was():
    trials = trials_from(HAND_BUILT)
    before = trials.copy()
    checked = analysis.check_trials(trials)
    pd.testing.assert_frame_equal(
        follow_up_pain_by_relief(checked), follow_up_pain_by_relief(trials)
    )
    pd.testing.assert_frame_equal(trials, before)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("outcome_still_using", None, "outcome_still_using must hold True or False"),
        ("outcome_pain", 11, "outcome_pain must hold whole numbers from 0 to 10"),
        ("outcome_pain", None, "outcome_pain must hold whole numbers from 0 to 10"),
    ],
)
def test_refuses_an_outcome_without_its_pain_or_still_using(column, value, message):
    trials = trials_from(HAND_BUILT)
    trials[column] = trials[column].astype(object)
    trials.loc[0, column] = value
    with pytest.raises(ValueError, match=message):
        follow_up_pain_by_relief(trials)


def test_refuses_a_frame_without_the_outcome_columns():
    trials = trials_from(HAND_BUILT).drop(columns="outcome_still_using")
    with pytest.raises(ValueError, match="outcome_still_using"):
        follow_up_pain_by_relief(trials)
