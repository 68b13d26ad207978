import json
from math import sqrt

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    RELIEF_CRITERIA,
    TwoByTwo,
    rule_check,
    rule_check_by_criterion,
    two_by_two,
)
from tests.analysis.builders import from_two_by_two, make_trials

Z = 1.959963984540054


def wilson(count, n):
    """The Wilson 95% interval from its formula, as an independent reference."""
    p = count / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return centre - half, centre + half


# Vicenzino et al. 2010: relief from foot orthoses against success at 12 weeks.
VICENZINO = {"tp": 6, "fp": 1, "fn": 11, "tn": 24}


@pytest.fixture
def vicenzino():
    return rule_check(from_two_by_two(**VICENZINO))


def test_the_two_by_two_is_counted_from_the_trials():
    assert two_by_two(from_two_by_two(**VICENZINO)) == TwoByTwo(**VICENZINO)


def test_vicenzino_likelihood_ratios(vicenzino):
    assert vicenzino.lr_positive.value == pytest.approx(8.8, abs=0.05)
    assert vicenzino.lr_positive.ci == pytest.approx((1.2, 66.9), abs=0.05)
    assert vicenzino.lr_negative.value == pytest.approx((11 / 17) / (24 / 25))
    assert vicenzino.lr_negative.ci == pytest.approx((0.470, 0.966), abs=5e-4)
    assert vicenzino.lr_positive.reason is None


@pytest.mark.parametrize(
    ("name", "count", "n"),
    [
        ("sensitivity", 6, 17),
        ("specificity", 24, 25),
        ("ppv", 6, 7),
        ("npv", 24, 35),
    ],
)
def test_vicenzino_accuracy_by_hand(vicenzino, name, count, n):
    estimate = getattr(vicenzino, name)

    assert estimate.value == pytest.approx(count / n)
    assert estimate.ci == pytest.approx(wilson(count, n))
    assert estimate.reason is None


def test_benefit_with_and_without_relief(vicenzino):
    assert (vicenzino.benefit_with_relief.count, vicenzino.benefit_with_relief.n) == (
        6,
        7,
    )
    assert vicenzino.benefit_without_relief.rate == pytest.approx(11 / 35)
    assert vicenzino.benefit_without_relief.wilson == pytest.approx(wilson(11, 35))


def test_rule_check_is_plain_for_json(vicenzino):
    as_dict = json.loads(json.dumps(vicenzino.to_dict()))

    assert {key: as_dict[key] for key in ("criterion", "tp", "fp", "fn", "tn")} == {
        "criterion": "any",
        **VICENZINO,
    }
    assert as_dict["unit"] == "patient"
    assert as_dict["benefit_definition"] == "markedly_improved"
    assert as_dict["sensitivity"]["value"] == pytest.approx(6 / 17)
    assert as_dict["lr_positive"]["ci"] == pytest.approx([1.164, 66.87], abs=5e-3)
    assert as_dict["benefit_with_relief"]["count"] == 6


def test_specificity_of_100_percent_makes_lr_positive_infinite():
    check = rule_check(from_two_by_two(tp=5, fp=0, fn=5, tn=10))

    assert check.specificity.value == 1.0
    assert check.specificity.ci == pytest.approx(wilson(10, 10))
    assert check.lr_positive.value is None
    assert check.lr_positive.ci is None
    assert check.lr_positive.reason == "specificity is 100%: LR+ is infinite"
    assert check.lr_negative.value == pytest.approx(0.5)
    assert check.lr_negative.ci is not None


def test_sensitivity_of_0_percent_gives_lr_positive_0_without_interval():
    check = rule_check(from_two_by_two(tp=0, fp=3, fn=5, tn=7))

    assert check.sensitivity.value == 0.0
    assert check.lr_positive.value == 0.0
    assert check.lr_positive.ci is None
    assert check.lr_positive.reason.startswith("sensitivity is 0%")


def test_specificity_of_0_percent_makes_lr_negative_infinite():
    check = rule_check(from_two_by_two(tp=3, fp=2, fn=4, tn=0))

    assert check.lr_negative.value is None
    assert check.lr_negative.reason == "specificity is 0%: LR- is infinite"
    assert check.npv.value == 0.0


def test_sensitivity_of_100_percent_gives_lr_negative_0_without_interval():
    check = rule_check(from_two_by_two(tp=4, fp=2, fn=0, tn=5))

    assert check.lr_negative.value == 0.0
    assert check.lr_negative.ci is None
    assert check.lr_negative.reason.startswith("sensitivity is 100%")
    assert check.lr_positive.value == pytest.approx(1 / (2 / 7))


def test_without_relief_at_all_lr_positive_is_undefined():
    check = rule_check(from_two_by_two(tp=0, fp=0, fn=3, tn=4))

    assert check.ppv.reason == "no trials with immediate relief"
    assert check.lr_positive.value is None
    assert check.lr_positive.reason == (
        "no trials with immediate relief: LR+ is undefined"
    )
    assert check.benefit_with_relief.reason == "no cases"
    assert check.lr_negative.value == 1.0
    assert check.lr_negative.ci is None
    assert check.lr_negative.reason.startswith("the rule gave every trial the same")


def test_with_relief_in_every_trial_lr_positive_is_1_without_interval():
    check = rule_check(from_two_by_two(tp=3, fp=4, fn=0, tn=0))

    assert check.lr_positive.value == 1.0
    assert check.lr_positive.ci is None
    assert check.lr_negative.reason == (
        "no trials without immediate relief: LR- is undefined"
    )


def test_without_benefit_nothing_about_detection_can_be_said():
    check = rule_check(from_two_by_two(tp=0, fp=3, fn=0, tn=4))

    for estimate in (check.sensitivity, check.lr_positive, check.lr_negative):
        assert estimate.value is None
        assert estimate.reason == "no trials with long-term benefit"
    assert check.specificity.value == pytest.approx(4 / 7)


def test_an_empty_table_gives_reasons_not_errors():
    check = rule_check(make_trials([]))

    assert (check.tp, check.fp, check.fn, check.tn) == (0, 0, 0, 0)
    assert all(
        estimate.value is None and estimate.reason
        for estimate in (
            check.sensitivity,
            check.specificity,
            check.ppv,
            check.npv,
            check.lr_positive,
            check.lr_negative,
        )
    )
    json.dumps(check.to_dict())


def test_non_assessable_trials_and_trials_without_outcome_are_left_out():
    trials = make_trials(
        [{"pain_without": 0, "pain_with": 0, "outcome_rating": "markedly_improved"}] * 3
        + [{"outcome_rating": None}] * 4
    )

    assert two_by_two(trials) == TwoByTwo(0, 0, 0, 0)


def repeat_trials():
    return make_trials(
        [
            {"patient_id": 1, "outcome_rating": "markedly_improved"},
            {"patient_id": 1, "pain_with": 6, "outcome_rating": "same"},
            {"patient_id": 2, "intervention": "taping", "outcome_rating": "same"},
        ]
    )


def test_counting_patients_takes_one_trial_per_patient_and_aid():
    assert two_by_two(repeat_trials(), unit="patient") == TwoByTwo(1, 1, 0, 0)


def test_counting_trials_takes_every_trial():
    assert two_by_two(repeat_trials(), unit="trial") == TwoByTwo(1, 1, 0, 1)


def test_every_criterion_in_order():
    trials = make_trials(
        [{"pain_without": 5, "pain_with": 4, "outcome_rating": "markedly_improved"}]
        + [{"pain_without": 8, "pain_with": 6, "outcome_rating": "same"}]
    )

    checks = rule_check_by_criterion(trials)

    assert [check.criterion for check in checks] == list(RELIEF_CRITERIA)
    # A 1-point drop of 5 is relief only under "any"; 8 -> 6 is 2 points, 25%.
    assert [(c.tp, c.fp, c.fn, c.tn) for c in checks] == [
        (1, 1, 0, 0),
        (0, 1, 1, 0),
        (0, 0, 1, 1),
        (0, 1, 1, 0),
    ]
    assert checks == [rule_check(trials, criterion) for criterion in RELIEF_CRITERIA]


def test_the_benefit_definition_changes_the_condition():
    trials = make_trials([{"outcome_rating": "moderately_improved"}])

    assert two_by_two(trials, benefit_definition="markedly_improved").fp == 1
    assert two_by_two(trials, benefit_definition="moderately_improved").tp == 1


def test_the_trials_frame_is_left_as_it_was():
    trials = repeat_trials()
    before = trials.copy()

    rule_check_by_criterion(trials)

    pd.testing.assert_frame_equal(trials, before)


def test_unusable_input_is_refused():
    with pytest.raises(ValueError, match="unknown counting unit"):
        rule_check(repeat_trials(), unit="visit")
    with pytest.raises(ValueError, match="unknown relief criterion"):
        rule_check(repeat_trials(), criterion="half")
    with pytest.raises(ValueError, match="unknown benefit definition"):
        rule_check_by_criterion(repeat_trials(), benefit_definition="same")
    with pytest.raises(ValueError, match=r"lacks columns \['outcome_rating'\]"):
        two_by_two(repeat_trials().drop(columns="outcome_rating"))


def test_under_the_trial_unit_benefit_with_and_without_relief_allow_for_patients():
    # Patient 1 benefits in all four trials with relief; the others in none.
    trials = make_trials(
        [{"patient_id": 1, "outcome_rating": "markedly_improved"}] * 4
        + [{"patient_id": 2, "outcome_rating": "same"}] * 2
        + [{"patient_id": 3, "outcome_rating": "same"}]
        + [
            {"patient_id": patient, "pain_with": 6, "outcome_rating": rating}
            for patient, rating in [(4, "markedly_improved"), (4, "same")] * 2
            + [(5, "same"), (6, "markedly_improved")]
        ]
    )

    check = rule_check(trials, unit="trial")

    assert (check.tp, check.fp, check.fn, check.tn) == (4, 3, 3, 3)
    assert check.patients == 6
    for cluster, rows in (
        (check.benefit_with_relief_cluster, trials.iloc[:7]),
        (check.benefit_without_relief_cluster, trials.iloc[7:]),
    ):
        benefit = (rows["outcome_rating"] == "markedly_improved").to_numpy(float)
        fit = sm.OLS(benefit, np.ones(len(rows))).fit(
            cov_type="cluster", cov_kwds={"groups": rows["patient_id"].to_numpy()}
        )
        rate = benefit.mean()
        effective_n = len(rows) * min(
            1.0, rate * (1 - rate) / len(rows) / fit.bse[0] ** 2
        )
        assert cluster.value == pytest.approx(rate)
        assert cluster.ci == pytest.approx(
            proportion_confint(rate * effective_n, effective_n, method="wilson")
        )
    with_relief = check.benefit_with_relief
    assert check.benefit_with_relief_cluster.ci[0] < with_relief.wilson[0]


def test_under_the_patient_unit_the_cluster_rates_differ_only_by_g_over_g_1(
    vicenzino,
):
    assert vicenzino.patients == sum(VICENZINO.values())
    for cluster, rate in (
        (vicenzino.benefit_with_relief_cluster, vicenzino.benefit_with_relief),
        (vicenzino.benefit_without_relief_cluster, vicenzino.benefit_without_relief),
    ):
        # Each patient is a cluster of one: the design effect is n / (n - 1).
        effective_n = rate.n - 1
        assert cluster.value == pytest.approx(rate.rate)
        assert cluster.ci == pytest.approx(
            proportion_confint(rate.rate * effective_n, effective_n, method="wilson")
        )


def test_without_trials_in_a_row_the_cluster_rate_says_why():
    check = rule_check(from_two_by_two(tp=0, fp=0, fn=2, tn=3), unit="trial")

    assert check.benefit_with_relief_cluster.value is None
    assert check.benefit_with_relief_cluster.reason == "no trials with immediate relief"
    json.dumps(check.to_dict())
