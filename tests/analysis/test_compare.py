from math import comb

import numpy as np
import pytest

from analysis import (
    AID_PAIRS,
    COMPARISON_COLUMNS,
    MEASURES,
    check_trials,
    compare_aids,
    response_rates,
)
from tests.analysis.builders import make_trials


def aid_rows(intervention, benefit, n, **overrides):
    """``benefit`` of ``n`` trials of one aid with markedly improved outcomes."""
    return [
        {
            "intervention": intervention,
            "outcome_rating": "markedly_improved" if i < benefit else "same",
            **overrides,
        }
        for i in range(n)
    ]


def row(frame, measure, a, b):
    chosen = frame[
        (frame["measure"] == measure)
        & (frame["intervention_a"] == a)
        & (frame["intervention_b"] == b)
    ]
    assert len(chosen) == 1
    return chosen.iloc[0]


def test_one_row_per_measure_and_pair_in_order():
    result = compare_aids(make_trials(aid_rows("insole", 1, 2)))

    assert tuple(result.columns) == COMPARISON_COLUMNS
    assert list(zip(result["measure"], result["intervention_a"], strict=True)) == [
        (measure, a) for measure in MEASURES for a, _ in AID_PAIRS
    ]
    assert list(result["intervention_b"]) == [b for _, b in AID_PAIRS] * 2


def test_difference_matches_newcombe_table_ii():
    # Newcombe 1998 (Stat Med 17:873-890), Table II, method 10:
    # 56/70 against 48/80 gives 0.0524 to 0.3339.
    trials = make_trials(aid_rows("insole", 56, 70) + aid_rows("taping", 48, 80))

    pair = row(compare_aids(trials), "long_term_benefit", "insole", "taping")

    assert (pair["count_a"], pair["n_a"], pair["count_b"], pair["n_b"]) == (
        56,
        70,
        48,
        80,
    )
    assert pair["difference"] == pytest.approx(56 / 70 - 48 / 80)
    assert (pair["difference_low"], pair["difference_high"]) == pytest.approx(
        (0.0524, 0.3339), abs=5e-5
    )


def test_fisher_exact_on_the_tea_tasting_table():
    # Fisher's tea tasting, 3/4 against 1/4: two-sided p = 0.4857
    # (Agresti, Categorical Data Analysis, 2002, section 3.5.2).
    trials = make_trials(aid_rows("insole", 3, 4) + aid_rows("brace", 1, 4))

    pair = row(compare_aids(trials), "long_term_benefit", "insole", "brace")

    assert pair["p_value"] == pytest.approx(0.4857, abs=5e-5)


def test_holm_adjusts_over_the_three_pairs():
    trials = make_trials(
        aid_rows("insole", 10, 10)
        + aid_rows("taping", 0, 10)
        + aid_rows("brace", 5, 10)
    )

    result = compare_aids(trials)
    benefit = result[result["measure"] == "long_term_benefit"]

    # By hand: Fisher's two-sided p from the hypergeometric counts of 20 trials,
    # 10 per aid. 10/10 against 0/10: only it and its mirror, 2 / C(20, 10).
    # 10/10 against 5/10 (and 0/10 against 5/10): it and its mirror, each
    # C(15, 10) / C(20, 10) (or C(15, 5)).
    tables = comb(20, 10)
    p_insole_taping = 2 / tables
    p_against_brace = 2 * comb(15, 10) / tables
    assert benefit["p_value"].tolist() == pytest.approx(
        [p_insole_taping, p_against_brace, p_against_brace]
    )
    # Holm, smallest first: 3 p(1), then max(that, 2 p(2)), then max(that, p(3)).
    first = 3 * p_insole_taping
    second = max(first, 2 * p_against_brace)
    third = max(second, p_against_brace)
    assert benefit["p_holm"].tolist() == pytest.approx([first, second, third])
    assert third == second  # the running maximum, not p(3) itself


def test_holm_covers_only_the_pairs_with_a_p_value():
    trials = make_trials(aid_rows("insole", 3, 4) + aid_rows("taping", 1, 4))

    benefit = compare_aids(trials).query("measure == 'long_term_benefit'")

    assert benefit["p_holm"].iloc[0] == pytest.approx(benefit["p_value"].iloc[0])
    assert benefit["p_holm"].iloc[1:].isna().all()


def test_counts_are_those_of_the_response_rates():
    rows = (
        aid_rows("insole", 3, 5, patient_id=1)  # one patient, five trials
        + aid_rows("insole", 2, 4)
        + aid_rows("taping", 1, 3)
        + [{"intervention": "taping", "outcome_rating": None}] * 2
        + [{"intervention": "brace", "pain_without": 0, "pain_with": 0}] * 2
        + aid_rows("brace", 1, 2, pain_with=6)
    )
    trials = make_trials(rows)
    checked = check_trials(trials)

    for unit in ("patient", "trial"):
        result = compare_aids(checked, unit=unit)
        rates = response_rates(checked, unit=unit).set_index("intervention")
        for measure in MEASURES:
            for a, b in AID_PAIRS:
                pair = row(result, measure, a, b)
                for side, aid in (("a", a), ("b", b)):
                    assert pair[f"count_{side}"] == rates.loc[aid, f"{measure}_count"]
                    assert pair[f"n_{side}"] == rates.loc[aid, f"{measure}_n"]


def test_the_relief_criterion_decides_the_relief_rate():
    trials = make_trials(
        aid_rows("insole", 0, 2, pain_with=5) + aid_rows("taping", 0, 2, pain_with=2)
    )

    for criterion, insole_relief in (("any", 2), ("mcid", 0)):
        result = compare_aids(trials, criterion=criterion)
        pair = row(result, "immediate_relief", "insole", "taping")
        assert pair["count_a"] == insole_relief
        assert pair["count_b"] == 2


def test_patients_who_tried_both_aids_are_counted():
    trials = make_trials(
        [
            {"patient_id": 1, "intervention": "insole"},
            {"patient_id": 1, "intervention": "taping"},
            {"patient_id": 2, "intervention": "taping"},
            {"patient_id": 2, "intervention": "brace"},
            {"patient_id": 3, "intervention": "brace"},
        ],
        outcome_rating="same",
    )

    relief = compare_aids(trials).query("measure == 'immediate_relief'")

    assert relief["patients_in_both"].tolist() == [1, 0, 1]


def test_an_aid_without_trials_gives_nan_and_a_reason():
    trials = make_trials(aid_rows("insole", 2, 4))

    result = compare_aids(trials)
    benefit = row(result, "long_term_benefit", "insole", "taping")
    relief = row(result, "immediate_relief", "taping", "brace")

    assert benefit["rate_a"] == 0.5
    assert np.isnan(benefit["rate_b"])
    for column in ("difference", "difference_low", "p_value", "p_holm"):
        assert np.isnan(benefit[column])
    assert benefit["reason"] == "no trials of taping with an outcome"
    assert relief["reason"] == "no assessable trials of taping or brace"


def test_no_trials_at_all():
    result = compare_aids(make_trials([]))

    assert len(result) == 6
    assert result["difference"].isna().all()
    assert result["reason"].notna().all()


def test_benefit_in_every_trial_of_both_aids_is_no_difference():
    trials = make_trials(aid_rows("insole", 10, 10) + aid_rows("taping", 10, 10))

    pair = row(compare_aids(trials), "long_term_benefit", "insole", "taping")

    assert pair["difference"] == 0.0
    # Newcombe's 0/10 against 0/10 (Table II), the same for 10/10 against 10/10.
    assert (pair["difference_low"], pair["difference_high"]) == pytest.approx(
        (-0.2775, 0.2775), abs=5e-5
    )
    assert pair["p_value"] == 1.0
    assert pair["reason"] is None


def test_unknown_choices_are_refused():
    trials = make_trials(aid_rows("insole", 1, 2))

    with pytest.raises(ValueError, match="counting unit"):
        compare_aids(trials, unit="visit")
    with pytest.raises(ValueError, match="relief criterion"):
        compare_aids(trials, criterion="half")


@pytest.mark.parametrize(
    "p_values",
    [[0.01, 0.04, 0.03], [0.5, 0.2, 0.9], [0.001, 0.001, 0.6], [0.3], [0.02, 0.8]],
)
def test_holm_matches_statsmodels(p_values):
    from statsmodels.stats.multitest import multipletests

    from analysis.compare import holm

    expected = multipletests(p_values, method="holm")[1]
    assert holm(np.array(p_values)).tolist() == pytest.approx(expected.tolist())
