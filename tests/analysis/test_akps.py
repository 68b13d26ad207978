"""The AKPS as published (Kujala 1993), its total, and its change by relief."""

import math

import pandas as pd
import pytest

from analysis.akps import ITEMS, MAXIMUM, MCID, check_points, total
from analysis.akps_change import AKPS_CHANGE_COLUMNS, akps_change_by_relief

#: Kujala et al. 1993, each item's points in the order printed.
PUBLISHED = {
    "limp": (5, 3, 0),
    "support": (5, 3, 0),
    "walking": (5, 3, 2, 0),
    "stairs": (10, 8, 5, 0),
    "squatting": (5, 4, 3, 2, 0),
    "running": (10, 8, 6, 3, 0),
    "jumping": (10, 7, 2, 0),
    "prolonged_sitting": (10, 8, 6, 4, 0),
    "pain": (10, 8, 6, 3, 0),
    "swelling": (10, 8, 6, 4, 0),
    "kneecap_movements": (10, 6, 4, 2, 0),
    "thigh_atrophy": (5, 3, 0),
    "flexion_deficiency": (5, 3, 0),
}


def test_the_items_score_as_published_item_by_item():
    assert [item.number for item in ITEMS] == list(range(1, 14))
    assert {item.key: item.points for item in ITEMS} == PUBLISHED
    assert list(PUBLISHED) == [item.key for item in ITEMS]
    assert MAXIMUM == 100 and MCID == 10
    for item in ITEMS:
        assert all(option.text for option in item.options)


def test_the_total_adds_the_points_of_a_complete_questionnaire():
    assert total([item.points[0] for item in ITEMS]) == 100
    assert total([item.points[-1] for item in ITEMS]) == 0
    second_best = [item.points[1] for item in ITEMS]
    assert total(second_best) == 3 + 3 + 3 + 8 + 4 + 8 + 7 + 8 + 8 + 8 + 6 + 3 + 3


def test_a_questionnaire_is_complete_or_absent():
    assert total([None] * 13) is None
    partial = [5, 5, None, 10, 5, 10, 10, 10, 10, None, 10, 5, 5]
    with pytest.raises(ValueError, match="answer every item or none: items 3, 10"):
        total(partial)
    with pytest.raises(ValueError, match="13 items, not 12"):
        total([5] * 12)


def test_points_no_option_scores_are_refused_with_the_allowed_ones():
    with pytest.raises(
        ValueError, match=r"4 is not a score of item 1 \(limp\): 5, 3 or 0"
    ):
        check_points(ITEMS[0], 4)
    answers = [item.points[0] for item in ITEMS]
    answers[3] = 9  # stairs: 10, 8, 5 or 0
    with pytest.raises(ValueError, match="9 is not a score of item 4"):
        total(answers)
    with pytest.raises(TypeError):
        check_points(ITEMS[0], True)


def trials(outcomes, baseline=60, pain_with=2, **columns) -> pd.DataFrame:
    n = len(outcomes)
    return pd.DataFrame(
        {
            "trial_id": range(1, n + 1),
            "patient_id": range(1, n + 1),
            "intervention": "insole",
            "trial_date": "2026-01-05",
            "pain_without": 6,
            "pain_with": pain_with,
            "outcome_rating": "same",
            "akps_baseline": baseline,
            "akps_outcome": outcomes,
        }
        | columns
    )


def test_the_change_against_hand_computed_figures():
    # Changes 12, 8, 15, -3, 10, 20, 5, 11: sorted -3 5 8 10 11 12 15 20.
    table = akps_change_by_relief(trials([72, 68, 75, 57, 70, 80, 65, 71]))
    assert list(table.columns) == ["intervention", "relief", *AKPS_CHANGE_COLUMNS]
    row = table.iloc[0]
    assert (row["intervention"], row["relief"], row["outcomes"]) == (
        "insole",
        "with_relief",
        8,
    )
    assert row["median_change"] == 10.5
    # n = 8: P(B <= 1) = 9/256 > 2.5%, so the 1st and 8th values bound it.
    assert (row["median_change_low"], row["median_change_high"]) == (-3, 20)
    # Mean 9.75, SD sqrt(327.5 / 7), t(0.975, 7) = 2.364624.
    assert row["mean_change"] == 9.75
    half = 2.364624 * math.sqrt(327.5 / 7) / math.sqrt(8)
    assert row["mean_change_low"] == pytest.approx(9.75 - half, abs=1e-5)
    assert row["mean_change_high"] == pytest.approx(9.75 + half, abs=1e-5)
    # 5 of 8 improved by 10 or more: Wilson 30.57% to 86.32%.
    assert (row["improved_count"], row["improved_n"]) == (5, 8)
    assert row["improved_wilson_low"] == pytest.approx(0.3057, abs=1e-4)
    assert row["improved_wilson_high"] == pytest.approx(0.8632, abs=1e-4)


def test_trials_are_split_by_relief_and_by_aid_and_pooled():
    frame = trials(
        [80, 75, 62, 61],
        pain_with=[1, 2, 6, 6],
        intervention=["insole", "taping", "insole", "taping"],
    )
    table = akps_change_by_relief(frame).set_index(["intervention", "relief"])
    assert table.loc[("insole", "with_relief"), "mean_change"] == 20
    assert table.loc[("insole", "without_relief"), "mean_change"] == 2
    assert table.loc[("taping", "all"), "outcomes"] == 2
    assert table.loc[("brace", "all"), "outcomes"] == 0
    assert math.isnan(table.loc[("brace", "all"), "median_change"])
    pooled = table.loc[(None, "with_relief")]
    assert (pooled["outcomes"], pooled["mean_change"]) == (2, 17.5)


def test_a_patient_counts_once_per_aid_and_once_over_all_aids():
    frame = trials(
        [80, 70, 90],
        intervention=["insole", "insole", "brace"],
        patient_id=[1, 1, 1],
        trial_date=["2026-01-05", "2026-02-05", "2026-03-05"],
    )
    table = akps_change_by_relief(frame).set_index(["intervention", "relief"])
    assert table.loc[("insole", "all"), "outcomes"] == 1
    assert table.loc[("insole", "all"), "mean_change"] == 20  # the first insole trial
    assert table.loc[("brace", "all"), "outcomes"] == 1
    assert table.loc[(None, "all"), "outcomes"] == 1
    by_trial = akps_change_by_relief(frame, unit="trial").set_index(
        ["intervention", "relief"]
    )
    assert by_trial.loc[(None, "all"), "outcomes"] == 3


def test_only_trials_with_both_questionnaires_count_and_totals_are_checked():
    frame = trials([70, None, 75], baseline=[60, 60, None])
    assert akps_change_by_relief(frame).iloc[2]["outcomes"] == 1
    with pytest.raises(ValueError, match="akps_outcome must hold AKPS totals"):
        akps_change_by_relief(trials([101]))
    with pytest.raises(ValueError, match="mcid"):
        akps_change_by_relief(trials([70]), mcid=0)
