"""One row per patient where it matters: the figures over all aids count a
patient once, the figures per aid once per aid (issue 17)."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis import (
    TwoByTwo,
    check_trials,
    count_unit,
    counting_note,
    cut_off_check,
    follow_up_completeness,
    response_rates,
    rule_check,
    rule_check_by_criterion,
    rule_effects,
    two_by_two,
)
from tests.analysis.builders import make_trials

BENEFIT, NO_BENEFIT = "markedly_improved", "same"


def three_aids_five_trials() -> pd.DataFrame:
    """Patient 1 tries all three aids in five trials; patients 2 and 3 one each.

    Patient 1's first assessable trial (1) has no outcome; their first
    assessable trial with one is their second insole (2), relief and benefit.
    """
    return make_trials(
        [
            {"patient_id": 1, "pain_with": 6, "trial_date": date(2024, 1, 1)},
            {
                "patient_id": 1,
                "pain_with": 2,
                "outcome_rating": BENEFIT,
                "trial_date": date(2024, 1, 2),
            },
            {
                "patient_id": 1,
                "intervention": "taping",
                "pain_without": 0,
                "pain_with": 0,
                "outcome_rating": NO_BENEFIT,
                "trial_date": date(2024, 1, 3),
            },
            {
                "patient_id": 1,
                "intervention": "taping",
                "pain_without": 5,
                "pain_with": 3,
                "outcome_rating": NO_BENEFIT,
                "trial_date": date(2024, 1, 4),
            },
            {
                "patient_id": 1,
                "intervention": "brace",
                "pain_without": 7,
                "pain_with": 7,
                "outcome_rating": BENEFIT,
                "trial_date": date(2024, 1, 5),
            },
            # Patient 2: taping, relief, no benefit. Patient 3: brace, neither.
            {"patient_id": 2, "intervention": "taping", "outcome_rating": NO_BENEFIT},
            {
                "patient_id": 3,
                "intervention": "brace",
                "pain_with": 6,
                "outcome_rating": BENEFIT,
            },
        ]
    )


def test_pooled_counting_takes_each_patients_first_trial_of_any_aid():
    trials = three_aids_five_trials()

    assert count_unit(trials, pooled=True)["trial_id"].tolist() == [1, 6, 7]
    assert count_unit(trials, pooled=True, outcome_required=True)[
        "trial_id"
    ].tolist() == [2, 6, 7]
    assert count_unit(trials)["trial_id"].tolist() == [1, 4, 5, 6, 7]


def test_the_overall_rates_count_each_patient_once():
    overall = response_rates(three_aids_five_trials(), by=None).iloc[0]

    assert overall["immediate_relief_n"] == overall["immediate_relief_patients"] == 3
    assert overall["immediate_relief_count"] == 1  # patient 2; patient 1's trial 1 not
    assert overall["long_term_benefit_n"] == 3
    assert overall["long_term_benefit_count"] == 2  # patient 1's trial 2, patient 3


def test_the_rates_per_aid_count_each_patient_once_per_aid():
    rates = response_rates(three_aids_five_trials()).set_index("intervention")

    assert rates["immediate_relief_n"].tolist() == [1, 2, 2]
    assert rates["long_term_benefit_n"].tolist() == [1, 2, 2]
    assert (rates["immediate_relief_patients"] == rates["immediate_relief_n"]).all()


def test_other_groupings_count_once_per_aid():
    month = response_rates(three_aids_five_trials(), by="month").iloc[0]

    assert month["immediate_relief_n"] == 5
    assert month["immediate_relief_patients"] == 3


def test_under_the_trial_unit_the_rates_say_how_many_patients_the_trials_are():
    overall = response_rates(three_aids_five_trials(), by=None, unit="trial").iloc[0]

    assert overall["immediate_relief_n"] == 6
    assert overall["immediate_relief_patients"] == 3
    assert overall["immediate_relief_design_effect"] >= 1


def test_the_pooled_two_by_two_takes_the_first_assessable_trial_with_an_outcome():
    trials = three_aids_five_trials()

    # Patient 1 by trial 2 (relief, benefit), 2 (relief only), 3 (benefit only).
    assert two_by_two(trials) == TwoByTwo(tp=1, fp=1, fn=1, tn=0)
    check = rule_check(trials)
    assert check.patients == 3
    assert check.counting == (
        "each patient once: their first assessable trial with an outcome (of any aid)"
    )
    assert all(c.patients == 3 for c in rule_check_by_criterion(trials))


def test_the_pooled_two_by_two_of_one_aid_is_that_aids():
    trials = three_aids_five_trials()
    taping = trials[trials["intervention"] == "taping"]

    assert two_by_two(taping) == TwoByTwo(tp=0, fp=2, fn=0, tn=0)


def test_the_roc_counts_each_patient_once():
    check = cut_off_check(three_aids_five_trials())

    assert (check.outcomes, check.patients) == (3, 3)
    assert (check.with_benefit, check.without_benefit) == (2, 1)


def test_the_pooled_effect_is_the_rule_checks_not_the_sum_of_the_aids():
    trials = three_aids_five_trials()

    pooled, *per_aid = rule_effects(trials, criteria=("any",))

    assert (pooled.tp, pooled.fp, pooled.fn, pooled.tn) == (1, 1, 1, 0)
    assert pooled.patients == 3
    assert [(e.tp, e.fp, e.fn, e.tn) for e in per_aid] == [
        (1, 0, 0, 0),
        (0, 2, 0, 0),
        (0, 0, 2, 0),
    ]
    assert [e.patients for e in per_aid] == [1, 2, 2]


def test_under_the_trial_unit_the_pooled_effect_is_the_sum_of_the_aids():
    pooled, *per_aid = rule_effects(
        three_aids_five_trials(), criteria=("any",), unit="trial"
    )

    cells = np.array([(e.tp, e.fp, e.fn, e.tn) for e in per_aid]).sum(axis=0)
    assert (pooled.tp, pooled.fp, pooled.fn, pooled.tn) == tuple(cells)
    assert pooled.patients == 3
    assert pooled.counting == (
        "every assessable trial with an outcome; a patient may count more than once"
    )


def test_completeness_counts_each_patient_once_in_the_row_for_all_aids():
    trials = three_aids_five_trials()
    trials["outcome_source"] = pd.Categorical(
        np.where(trials["outcome_rating"].notna(), "clinic", None),
        categories=["clinic", "patient"],
    )
    trials["lost"] = False

    figures = follow_up_completeness(trials, today=date(2024, 7, 1))

    assert figures["counted"].tolist() == [1, 2, 2, 3]
    assert figures["outcome_clinic"].tolist() == [0, 2, 2, 2]


@pytest.mark.parametrize("unit", ["patient", "trial"])
def test_the_counted_positions_are_kept_per_unit_outcome_and_pooling(unit):
    checked = check_trials(three_aids_five_trials())

    pooled = checked.counted(unit, outcome_required=True, pooled=True)

    assert checked.counted(unit, outcome_required=True, pooled=True) is pooled
    assert (checked.counted(unit, outcome_required=True) is pooled) == (unit == "trial")
    assert not pooled.flags.writeable


@pytest.mark.parametrize(
    ("unit", "pooled", "outcome_required", "words"),
    [
        ("patient", True, False, "each patient once: their first assessable trial"),
        (
            "patient",
            False,
            True,
            "each patient once per aid: their first assessable trial with an "
            "outcome of that aid",
        ),
        ("trial", True, True, "every assessable trial with an outcome; a patient"),
    ],
)
def test_the_counting_in_words(unit, pooled, outcome_required, words):
    assert counting_note(unit, pooled, outcome_required).startswith(words)


def test_the_counting_in_words_refuses_an_unknown_unit():
    with pytest.raises(ValueError, match="unknown counting unit"):
        counting_note("visit")
