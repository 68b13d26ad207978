import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu, norm

import analysis
from analysis import cut_off_check, delong_auc, proportion, rule_check
from tests.analysis.builders import from_two_by_two, make_trials

BENEFIT, NO_BENEFIT = "markedly_improved", "same"

# A hand-built data set: (pain without, pain with, outcome).
#   with benefit:    drops 5, 3, 3, 1 points;  50%, 30%, 75%, 50%
#   without benefit: drops 3, 1, 0, 0, -1;     30%, 10%, 0%, 0%, -12.5%
HAND_BUILT = [
    (10, 5, BENEFIT),
    (10, 7, BENEFIT),
    (4, 1, BENEFIT),
    (2, 1, BENEFIT),
    (10, 7, NO_BENEFIT),
    (10, 9, NO_BENEFIT),
    (5, 5, NO_BENEFIT),
    (3, 3, NO_BENEFIT),
    (8, 9, NO_BENEFIT),
]

# aSAH (pROC's example data: 72 good and 41 poor outcomes) by WFNS grade 1-5,
# reconstructed from pROC's expected DeLong placements for wfns
# (tests/testthat/helper-deLongPlacementsCpp-expected.R in xrobin/pROC).
ASAH_WFNS_POOR = [2, 12, 1, 8, 18]
ASAH_WFNS_GOOD = [37, 20, 3, 8, 4]
# pROC's auc(r.wfns) and var(r.wfns) (tests/testthat/test-var.R, method DeLong).
ASAH_WFNS_AUC = 0.823678861788618
ASAH_WFNS_VARIANCE = 0.00146991470882363


def trials_from(cells, **defaults):
    return make_trials(
        [
            {"pain_without": without, "pain_with": with_aid, "outcome_rating": rating}
            for without, with_aid, rating in cells
        ],
        **defaults,
    )


def by_cut_off(curve):
    return {row.cut_off: row for row in curve.cut_offs}


def test_the_auc_of_the_hand_built_set_is_the_share_of_pairs_in_order():
    check = cut_off_check(trials_from(HAND_BUILT))

    # Of the 4 x 5 pairs (benefit, no benefit), points: 5 beats all 5; each 3
    # beats 4 and ties 1; 1 beats 3 and ties 1: 17.5 of 20.
    assert check.points.auc.value == pytest.approx(17.5 / 20)
    # Percent: 50, 75 and 50 beat all 5; 30 beats 4 and ties 1: 19.5 of 20.
    assert check.percent.auc.value == pytest.approx(19.5 / 20)
    assert (check.outcomes, check.with_benefit, check.without_benefit) == (9, 4, 5)


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        (
            "points",
            # cut-off: (true positives of 4, false positives of 5)
            {1: (4, 2), 2: (3, 1), 3: (3, 1), 4: (1, 0), 5: (1, 0)}
            | dict.fromkeys(range(6, 11), (0, 0)),
        ),
        (
            "percent",
            {10: (4, 2), 20: (4, 1), 30: (4, 1), 40: (3, 0), 50: (3, 0)}
            | {60: (1, 0), 70: (1, 0), 80: (0, 0), 90: (0, 0), 100: (0, 0)},
        ),
    ],
)
def test_sensitivity_and_specificity_at_each_cut_off_by_hand(scale, expected):
    curve = getattr(cut_off_check(trials_from(HAND_BUILT)), scale)

    rows = by_cut_off(curve)
    assert list(rows) == list(expected)
    for cut_off, (tp, fp) in expected.items():
        row = rows[cut_off]
        assert (row.tp, row.fp, row.fn, row.tn) == (tp, fp, 4 - tp, 5 - fp), cut_off
        assert row.sensitivity.value == pytest.approx(tp / 4)
        assert row.specificity.value == pytest.approx((5 - fp) / 5)
        assert row.sensitivity.ci == pytest.approx(proportion(tp, 4).wilson)
        assert row.specificity.ci == pytest.approx(proportion(5 - fp, 5).wilson)
        assert row.youden == pytest.approx(tp / 4 + (5 - fp) / 5 - 1)


def test_the_best_cut_off_has_the_largest_youden_index_the_smaller_on_a_tie():
    check = cut_off_check(trials_from(HAND_BUILT))

    # Points: 1 gives 1 + 0.6 - 1 = 0.6, the most.
    assert check.points.best.cut_off == 1
    # Percent: 20% and 30% both give 1 + 0.8 - 1 = 0.8.
    assert check.percent.best.cut_off == 20
    assert check.percent.best.youden == pytest.approx(0.8)
    assert check.points.best_reason is check.percent.best_reason is None


def test_a_drop_of_exactly_the_percentage_counts():
    rows = by_cut_off(cut_off_check(trials_from(HAND_BUILT)).percent)

    # 10 -> 7 is 30% exactly and 2 -> 1 is 50% exactly: both count.
    assert rows[30].tp == 4
    assert rows[50].tp == 3


def test_the_curve_runs_through_each_drop_seen():
    curve = cut_off_check(trials_from(HAND_BUILT)).points

    assert curve.thresholds == (None, 5, 3, 1, 0, -1)
    assert curve.tpr == pytest.approx((0, 1 / 4, 3 / 4, 1, 1, 1))
    assert curve.fpr == pytest.approx((0, 0, 1 / 5, 2 / 5, 4 / 5, 1))
    # The trapezoids under the curve are the Mann-Whitney AUC, ties included.
    assert np.trapezoid(curve.tpr, curve.fpr) == pytest.approx(curve.auc.value)


def test_the_percent_curve_has_the_percentages_seen():
    curve = cut_off_check(trials_from(HAND_BUILT)).percent

    assert curve.thresholds == (None, 75, 50, 30, 10, 0, -12.5)
    assert np.trapezoid(curve.tpr, curve.fpr) == pytest.approx(curve.auc.value)


@pytest.mark.parametrize(
    ("scale", "cut_off", "criterion"),
    [
        ("points", 1, "any"),
        ("points", 2, "two_points"),
        ("percent", 30, "thirty_percent"),
    ],
)
def test_a_cut_off_that_is_a_rule_criterion_gives_the_rule_check(
    scale, cut_off, criterion
):
    trials = trials_from(HAND_BUILT * 3 + [(6, 4, BENEFIT), (7, 5, NO_BENEFIT)] * 4)

    row = by_cut_off(getattr(cut_off_check(trials), scale))[cut_off]
    rule = rule_check(trials, criterion).to_dict()

    assert (row.tp, row.fp, row.fn, row.tn) == tuple(
        rule[cell] for cell in ("tp", "fp", "fn", "tn")
    )
    for name in ("sensitivity", "specificity", "lr_positive", "lr_negative"):
        assert getattr(row, name).to_dict() == rule[name], name


# DeLong's variance: pROC's published values, and DeLong's definition.


def test_delong_matches_proc_on_the_asah_wfns_grades():
    auc, variance = delong_auc(ASAH_WFNS_POOR, ASAH_WFNS_GOOD)

    assert auc == pytest.approx(ASAH_WFNS_AUC, rel=1e-12)
    assert variance == pytest.approx(ASAH_WFNS_VARIANCE, rel=1e-9)


def test_the_auc_interval_of_the_asah_wfns_grades_as_a_drop():
    # Grade g as a drop of g points, a poor outcome as benefit.
    cells = [
        (10, 10 - grade, rating)
        for rating, counts in ((BENEFIT, ASAH_WFNS_POOR), (NO_BENEFIT, ASAH_WFNS_GOOD))
        for grade, count in enumerate(counts, start=1)
        for _ in range(count)
    ]

    auc = cut_off_check(trials_from(cells)).points.auc

    half_width = norm.ppf(0.975) * np.sqrt(ASAH_WFNS_VARIANCE)
    assert auc.value == pytest.approx(ASAH_WFNS_AUC)
    assert auc.ci == pytest.approx(
        (ASAH_WFNS_AUC - half_width, ASAH_WFNS_AUC + half_width)
    )
    # As pROC prints it: 95% CI 0.7485-0.8988 (DeLong).
    assert [round(limit, 4) for limit in auc.ci] == [0.7485, 0.8988]


def test_delong_structural_components_by_hand():
    # With benefit at scores 1 and 2, without at 0 and 1.
    # V10 (benefit): 1 beats 0, ties 1 -> 0.75; 2 beats both -> 1.
    # V01 (no benefit): 0 is beaten by both -> 1; 1 by one, tied by one -> 0.75.
    # AUC 0.875; S10 = S01 = 2 x 0.125^2 / 1 = 0.03125; var = S10/2 + S01/2.
    assert delong_auc([0, 1, 1], [1, 1, 0]) == pytest.approx((0.875, 0.03125))


def pairwise_delong(cases, controls):
    """DeLong et al. 1988 as written: the full matrix of pair comparisons."""
    psi = (cases[:, None] > controls[None, :]) + 0.5 * (
        cases[:, None] == controls[None, :]
    )
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), v10.var(ddof=1) / len(cases) + v01.var(ddof=1) / len(controls)


def counts_per_score(cases, controls):
    scores = np.union1d(cases, controls)
    return (
        np.array([(cases == s).sum() for s in scores]),
        np.array([(controls == s).sum() for s in scores]),
    )


@pytest.mark.parametrize("seed", range(6))
def test_delong_agrees_with_mann_whitney_and_the_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    cases = rng.integers(-3, 11, rng.integers(2, 60))
    controls = rng.integers(-5, 8, rng.integers(2, 60))

    auc, variance = delong_auc(*counts_per_score(cases, controls))

    u = mannwhitneyu(cases, controls).statistic
    assert auc == pytest.approx(u / (len(cases) * len(controls)), rel=1e-12)
    assert (auc, variance) == pytest.approx(pairwise_delong(cases, controls), rel=1e-9)


def test_delong_needs_both_groups():
    with pytest.raises(ValueError, match="both groups"):
        delong_auc([0, 0], [1, 2])
    with pytest.raises(ValueError, match="same length"):
        delong_auc([1, 2], [1])
    assert np.isnan(delong_auc([1, 0], [0, 3])[1])


# What cannot be computed is None, with the reason.


def test_no_benefit_cases_leave_the_auc_and_the_best_cut_off_undefined():
    check = cut_off_check(trials_from([(6, 3, NO_BENEFIT)] * 40))

    assert check.points.auc.value is None
    assert check.points.auc.reason == "no trials with long-term benefit"
    assert check.points.best is None
    assert check.points.best_reason == "no trials with long-term benefit"
    assert by_cut_off(check.points)[1].youden is None
    assert check.points.fpr == check.points.tpr == ()
    assert check.warning is None


def test_no_outcomes_at_all():
    check = cut_off_check(make_trials([{}] * 5))

    assert check.outcomes == 0
    assert check.warning == "no trials with an outcome"
    assert check.percent.auc.reason == "no trials with long-term benefit"


def test_one_benefit_case_has_an_auc_but_no_interval():
    auc = cut_off_check(
        trials_from([(6, 3, BENEFIT)] + [(6, 5, NO_BENEFIT)] * 5)
    ).points.auc

    assert auc.value == 1.0
    assert auc.ci is None
    assert "two trials with and two without" in auc.reason


def test_groups_that_do_not_overlap_have_no_interval():
    trials = trials_from(
        [(8, 2, BENEFIT), (8, 3, BENEFIT)] * 10 + [(8, 7, NO_BENEFIT)] * 20
    )

    check = cut_off_check(trials)

    assert check.points.auc.value == 1.0
    assert check.points.auc.ci is None
    assert "do not overlap" in check.points.auc.reason
    assert check.points.best.cut_off == 2


def test_no_cut_off_better_than_chance_has_no_best():
    trials = trials_from([(6, 3, BENEFIT), (6, 3, NO_BENEFIT)] * 20)

    check = cut_off_check(trials)

    assert check.points.auc.value == pytest.approx(0.5)
    assert check.points.best is None
    assert "better than chance" in check.points.best_reason


def test_a_warning_below_30_outcomes_and_none_from_30():
    assert "only 29 trials" in cut_off_check(from_two_by_two(10, 5, 4, 10)).warning
    assert cut_off_check(from_two_by_two(10, 5, 5, 10)).warning is None


def test_a_patient_counts_once_as_in_the_rule_check():
    trials = make_trials(
        [
            {"patient_id": 1, "pain_with": 1, "outcome_rating": BENEFIT},
            {"patient_id": 1, "pain_with": 6, "outcome_rating": NO_BENEFIT},
            {
                "patient_id": 1,
                "intervention": "taping",
                "pain_with": 6,
                "outcome_rating": NO_BENEFIT,
            },
            {"patient_id": 2, "pain_with": 6, "outcome_rating": NO_BENEFIT},
        ]
    )

    check = cut_off_check(trials)

    assert (check.outcomes, check.patients) == (2, 2)
    assert check.points.auc.value == 1.0
    by_trial = cut_off_check(trials, unit="trial")
    assert (by_trial.outcomes, by_trial.patients) == (4, 2)


def test_benefit_definition_and_unit_are_checked():
    with pytest.raises(ValueError, match="counting unit"):
        cut_off_check(make_trials([]), unit="visit")
    with pytest.raises(ValueError, match="benefit definition"):
        cut_off_check(make_trials([]), benefit_definition="cured")


def test_a_checked_frame_gives_the_same_result():
    trials = trials_from(HAND_BUILT)

    assert cut_off_check(analysis.check_trials(trials)) == cut_off_check(trials)


# Plain types for JSON; the table.


def plain(value):
    """Whether a value holds only JSON's own types (no NumPy scalars)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


@pytest.mark.parametrize(
    "cells", [HAND_BUILT, [(6, 3, NO_BENEFIT)] * 3, [], [(6, 3, BENEFIT)] * 2]
)
def test_the_check_is_plain_for_json(cells):
    as_dict = cut_off_check(trials_from(cells)).to_dict()

    assert plain(as_dict)
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert set(as_dict) == {
        "benefit_definition",
        "unit",
        "outcomes",
        "with_benefit",
        "without_benefit",
        "patients",
        "counting",
        "points",
        "percent",
        "warning",
    }
    assert set(as_dict["points"]) == {
        "scale",
        "auc",
        "curve",
        "cut_offs",
        "best",
        "best_reason",
    }


def test_the_table_has_a_row_per_scale_and_cut_off():
    check = cut_off_check(trials_from(HAND_BUILT))

    table = check.table()

    assert len(table) == 20
    assert table.groupby("scale", sort=False)["cut_off"].apply(list).to_dict() == {
        "points": list(analysis.POINT_CUT_OFFS),
        "percent": list(analysis.PERCENT_CUT_OFFS),
    }
    assert table.loc[table["best"], ["scale", "cut_off"]].values.tolist() == [
        ["points", 1],
        ["percent", 20],
    ]
    # 10 points relieves nobody: LR+ is undefined.
    ten = table[(table["scale"] == "points") & (table["cut_off"] == 10)].iloc[0]
    assert pd.isna(ten["lr_positive"]) and ten["specificity"] == 1.0
    assert table["sensitivity"].dtype == "float64"
