import json
from dataclasses import replace
from math import exp, log, sqrt

import pytest

from analysis import (
    CLINIC_RELIEF_CRITERIA,
    INTERVENTIONS,
    RELIEF_CRITERIA,
    RuleEffect,
    TwoByTwo,
    check_trials,
    counting_note,
    rule_effect,
    rule_effects,
    two_by_two,
)
from tests.analysis.builders import make_trials

Z = 1.959963984540054


def effect(tp, fp, fn, tn):
    return rule_effect(TwoByTwo(tp=tp, fp=fp, fn=fn, tn=tn))


def plain(result: RuleEffect) -> dict:
    """to_dict through strict JSON: no NaN, no infinity, no NumPy types."""
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


# Newcombe 1998 (Stat Med 17:873-890), Table II, method 10 (the hybrid score
# interval): (count with relief, n, count without, n) -> 95% limits.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "limits"), NEWCOMBE_TABLE_II)
def test_risk_difference_matches_newcombe_table_ii(counts, limits):
    with_benefit, with_n, without_benefit, without_n = counts

    result = effect(
        with_benefit,
        with_n - with_benefit,
        without_benefit,
        without_n - without_benefit,
    )

    assert result.risk_difference.value == pytest.approx(
        with_benefit / with_n - without_benefit / without_n
    )
    assert result.risk_difference.ci == pytest.approx(limits, abs=5e-5)
    assert result.risk_difference.reason is None


def test_fisher_exact_on_the_tea_tasting_table():
    # Fisher's lady tasting tea (Agresti, Categorical Data Analysis, 2002,
    # section 3.5.2): two-sided p = 0.4857, sample odds ratio 9.
    result = effect(3, 1, 1, 3)

    assert result.fisher_p == pytest.approx(0.4857, abs=5e-5)
    assert result.fisher_p == pytest.approx(34 / 70)
    assert result.odds_ratio.value == 9.0


# Fagerland, Lydersen & Laake 2015 (Stat Methods Med Res 24:224-254), their
# example 7/34 against 1/34, intervals to two significant figures (the
# figures statsmodels' own tests quote from the paper).
FAGERLAND = {"tp": 7, "fp": 27, "fn": 1, "tn": 33}


def test_fagerland_example_risk_ratio_by_the_katz_log_method():
    result = rule_effect(TwoByTwo(**FAGERLAND))

    assert result.risk_ratio.value == pytest.approx(7.0)
    assert result.risk_ratio.ci == pytest.approx((0.91, 54), rel=0.01)


def test_fagerland_example_odds_ratio_by_gart_adjusted_logit():
    result = rule_effect(TwoByTwo(**FAGERLAND))

    assert result.odds_ratio.value == pytest.approx((7 * 33) / (27 * 1))
    assert result.odds_ratio.ci == pytest.approx((0.98, 38), rel=0.01)


def test_fagerland_example_newcombe_difference_and_fisher():
    result = rule_effect(TwoByTwo(**FAGERLAND))

    assert result.risk_difference.ci == pytest.approx((0.019, 0.34), abs=5e-3)
    assert result.fisher_p == pytest.approx(0.0544, abs=5e-5)


def test_vicenzino_table_against_the_textbook_formulas():
    # Worked by hand: the log interval for a risk ratio, SE of log RR =
    # sqrt(1/a - 1/(a+b) + 1/c - 1/(c+d)), and Woolf's logit interval for an
    # odds ratio, SE of log OR = sqrt(1/a + 1/b + 1/c + 1/d), as in Altman,
    # Machin, Bryant & Gardner, Statistics with Confidence (2nd ed., 2000),
    # chapter 7; Gart's adjustment applies Woolf's to the cells plus 0.5.
    tp, fp, fn, tn = 6, 1, 11, 24
    result = effect(tp, fp, fn, tn)

    ratio = (tp / (tp + fp)) / (fn / (fn + tn))
    se = sqrt(1 / tp - 1 / (tp + fp) + 1 / fn - 1 / (fn + tn))
    assert result.risk_ratio.value == pytest.approx(ratio)
    assert result.risk_ratio.ci == pytest.approx(
        (exp(log(ratio) - Z * se), exp(log(ratio) + Z * se))
    )
    a, b, c, d = (cell + 0.5 for cell in (tp, fp, fn, tn))
    adjusted = (a * d) / (b * c)
    se = sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert result.odds_ratio.value == pytest.approx((tp * tn) / (fp * fn))
    assert result.odds_ratio.ci == pytest.approx(
        (exp(log(adjusted) - Z * se), exp(log(adjusted) + Z * se))
    )


def test_the_sentence_has_its_ratio_rates_and_labels():
    result = effect(6, 1, 11, 24)

    assert result.benefit_with_relief.rate == pytest.approx(6 / 7)
    assert result.benefit_without_relief.rate == pytest.approx(11 / 35)
    assert (result.criterion, result.benefit_definition, result.unit) == (
        "any",
        "markedly_improved",
        "patient",
    )
    assert result.intervention is None
    assert result.reason is None


def test_to_dict_is_plain_json():
    as_dict = plain(effect(6, 1, 11, 24))

    assert {key: as_dict[key] for key in ("tp", "fp", "fn", "tn")} == {
        "tp": 6,
        "fp": 1,
        "fn": 11,
        "tn": 24,
    }
    assert set(as_dict["risk_ratio"]) == {"value", "ci", "reason"}
    assert as_dict["risk_ratio"]["ci"] == pytest.approx([1.534, 4.848], abs=5e-4)
    assert as_dict["benefit_with_relief"]["count"] == 6
    assert as_dict["fisher_p"] == pytest.approx(0.01219, abs=5e-6)
    assert as_dict["intervention"] is None
    assert as_dict["reason"] is None


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ((0, 0, 3, 5), "no trials with immediate relief"),
        ((3, 5, 0, 0), "no trials without immediate relief"),
        ((0, 0, 0, 0), "no trials with an outcome"),
    ],
)
def test_an_empty_row_compares_nothing(cells, reason):
    result = effect(*cells)

    assert result.reason == reason
    assert result.fisher_p is None
    for estimate in (result.risk_difference, result.risk_ratio, result.odds_ratio):
        assert (estimate.value, estimate.ci, estimate.reason) == (None, None, reason)
    plain(result)


def test_an_empty_row_keeps_the_other_rows_rate():
    result = effect(0, 0, 3, 5)

    assert result.benefit_without_relief.rate == pytest.approx(3 / 8)
    assert result.benefit_with_relief.reason == "no cases"


def test_no_benefit_anywhere_leaves_ratios_undefined_and_the_difference_zero():
    result = effect(0, 10, 0, 20)

    assert result.risk_difference.value == 0.0
    assert result.risk_difference.ci == pytest.approx((-0.1611, 0.2775), abs=5e-5)
    assert result.risk_ratio.value is None
    assert result.risk_ratio.reason.endswith("the risk ratio is undefined")
    assert result.odds_ratio.value is None
    assert result.odds_ratio.ci is None
    assert result.fisher_p == 1.0
    plain(result)


def test_benefit_in_every_trial_gives_a_ratio_of_1_without_interval():
    result = effect(10, 0, 20, 0)

    assert result.risk_ratio.value == 1.0
    assert result.risk_ratio.ci is None
    assert result.risk_ratio.reason.startswith("every trial had long-term benefit")
    assert result.odds_ratio.value is None
    assert result.odds_ratio.reason.endswith("the odds ratio is undefined")
    # Newcombe's 0/10 against 0/20, mirrored.
    assert result.risk_difference.ci == pytest.approx((-0.2775, 0.1611), abs=5e-5)
    assert result.fisher_p == 1.0
    plain(result)


def test_no_benefit_without_relief_makes_the_risk_ratio_infinite():
    result = effect(10, 0, 0, 20)

    assert result.risk_ratio.value is None
    assert result.risk_ratio.ci is None
    assert result.risk_ratio.reason.endswith("the risk ratio is infinite")
    # The odds ratio is infinite too, but Gart's interval still bounds it below.
    assert result.odds_ratio.value is None
    assert result.odds_ratio.ci[0] > 1
    assert "infinite" in result.odds_ratio.reason
    assert result.risk_difference.ci == pytest.approx((0.6791, 1.0), abs=5e-5)
    plain(result)


def test_no_benefit_with_relief_gives_ratios_of_0():
    result = effect(0, 5, 3, 4)

    assert result.risk_ratio.value == 0.0
    assert result.risk_ratio.ci is None
    assert result.risk_ratio.reason.endswith("the risk ratio is 0, with no interval")
    assert result.odds_ratio.value == 0.0
    assert result.odds_ratio.ci[1] < 10
    assert "is 0" in result.odds_ratio.reason
    plain(result)


def test_one_empty_cell_off_the_benefit_column_keeps_the_risk_ratio():
    result = effect(5, 0, 3, 4)

    assert result.risk_ratio.value == pytest.approx(1 / (3 / 7))
    assert result.risk_ratio.ci is not None
    assert result.odds_ratio.value is None


def test_a_bad_table_is_refused():
    with pytest.raises(ValueError, match="negative"):
        effect(1, -1, 2, 3)
    with pytest.raises(TypeError, match="whole number"):
        effect(1.5, 1, 2, 3)
    with pytest.raises(TypeError, match="TwoByTwo"):
        rule_effect((1, 2, 3, 4))


def aid_rows(intervention, tp, fp, fn, tn):
    """Trials reproducing one aid's 2x2 (relief 6 -> 2, no relief 6 -> 6)."""
    cells = [
        (tp, 2, "markedly_improved"),
        (fp, 2, "same"),
        (fn, 6, "markedly_improved"),
        (tn, 6, "same"),
    ]
    return [
        {
            "intervention": intervention,
            "pain_with": pain_with,
            "outcome_rating": rating,
        }
        for size, pain_with, rating in cells
        for _ in range(size)
    ]


TABLES = {"insole": (6, 1, 11, 24), "taping": (3, 1, 1, 3), "brace": (0, 0, 2, 2)}


@pytest.fixture
def by_aid():
    rows = [row for aid, cells in TABLES.items() for row in aid_rows(aid, *cells)]
    return make_trials(rows)


def test_each_aid_has_its_own_table_and_pooled_is_the_rule_checks(by_aid):
    effects = rule_effects(by_aid, criteria=("any",))

    assert [e.intervention for e in effects] == [None, *INTERVENTIONS]
    for result in effects[1:]:
        assert (result.tp, result.fp, result.fn, result.tn) == TABLES[
            result.intervention
        ]
    pooled = effects[0]
    assert TwoByTwo(pooled.tp, pooled.fp, pooled.fn, pooled.tn) == two_by_two(by_aid)
    insole = effects[1]
    assert replace(insole, patients=None, counting=None) == rule_effect(
        TwoByTwo(*TABLES["insole"]), intervention="insole"
    )
    assert insole.patients == sum(TABLES["insole"])
    assert insole.counting == counting_note("patient", outcome_required=True)
    assert effects[3].reason == "no trials with immediate relief"


def test_every_criterion_in_order_and_the_clinics_two(by_aid):
    effects = rule_effects(by_aid)

    assert [e.criterion for e in effects] == [
        criterion for criterion in RELIEF_CRITERIA for _ in range(4)
    ]
    clinic = rule_effects(by_aid, criteria=CLINIC_RELIEF_CRITERIA)
    assert [e.criterion for e in clinic[::4]] == list(CLINIC_RELIEF_CRITERIA)


def test_the_criterion_moves_trials_between_rows():
    trials = make_trials(
        [{"pain_without": 5, "pain_with": 4, "outcome_rating": "markedly_improved"}]
        + [{"pain_without": 8, "pain_with": 2, "outcome_rating": "same"}]
    )

    any_drop, *_, mcid = rule_effects(trials)[::4]

    assert (any_drop.tp, any_drop.fp, any_drop.fn, any_drop.tn) == (1, 1, 0, 0)
    assert (mcid.tp, mcid.fp, mcid.fn, mcid.tn) == (0, 1, 1, 0)


def test_counted_as_the_rule_check_counts():
    trials = make_trials(
        [
            {"patient_id": 1, "outcome_rating": "markedly_improved"},
            # The same patient's second insole trial does not count again.
            {"patient_id": 1, "pain_with": 6, "outcome_rating": "same"},
            {"pain_without": 0, "pain_with": 0, "outcome_rating": "same"},
            {"outcome_rating": None},
            {"intervention": "taping", "pain_with": 6, "outcome_rating": "same"},
        ]
    )

    for unit in ("patient", "trial"):
        pooled = rule_effects(trials, criteria=("any",), unit=unit)[0]
        table = two_by_two(trials, unit=unit)
        assert (pooled.tp, pooled.fp, pooled.fn, pooled.tn) == (
            table.tp,
            table.fp,
            table.fn,
            table.tn,
        )
        assert pooled.unit == unit


def test_a_checked_frame_is_accepted(by_aid):
    checked = check_trials(by_aid, "moderately_improved")

    effects = rule_effects(checked, benefit_definition="moderately_improved")

    assert effects[0].benefit_definition == "moderately_improved"
    with pytest.raises(ValueError, match="benefit definition"):
        rule_effects(checked)


def test_no_trials_give_reasons_not_errors():
    effects = rule_effects(make_trials([]))

    assert len(effects) == 4 * len(RELIEF_CRITERIA)
    assert {e.reason for e in effects} == {"no trials with an outcome"}


def test_unknown_choices_are_refused(by_aid):
    with pytest.raises(ValueError, match="relief criterion"):
        rule_effects(by_aid, criteria=("half",))
    with pytest.raises(ValueError, match="counting unit"):
        rule_effects(by_aid, unit="visit")
    with pytest.raises(ValueError, match="intervention"):
        rule_effect(TwoByTwo(1, 1, 1, 1), intervention="crutch")
    with pytest.raises(ValueError, match="benefit definition"):
        rule_effect(TwoByTwo(1, 1, 1, 1), benefit_definition="cured")
