from math import comb, sqrt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from analysis import (
    FUNNEL_POSITIONS,
    LIMIT_COLUMNS,
    funnel_limits,
    funnel_plot_data,
    response_rates,
)
from tests.analysis.builders import make_trials


def groups(counts, sizes, **columns):
    return pd.DataFrame(
        {
            "product": [f"P{i}" for i in range(len(counts))],
            "long_term_benefit_count": counts,
            "long_term_benefit_n": sizes,
            **columns,
        }
    )


def interpolated(tail, n, rate):
    """Spiegelhalter 2005, Appendix A.1.1, written out with scipy: r - a, over n."""
    r = binom.ppf(tail, n, rate)
    a = (binom.cdf(r, n, rate) - tail) / binom.pmf(r, n, rate)
    return (r - a) / n


def test_limits_at_n_10_and_a_half_by_hand():
    # Binomial(10, 1/2) by counting: P(R <= 1) = 11/1024, P(R <= 2) = 56/1024.
    # The 2.5% quantile is r = 2, a = (56/1024 - 0.025) / (45/1024); the 0.1%
    # quantile is r = 1, a = (11/1024 - 0.001) / (10/1024).
    assert comb(10, 2) == 45
    low_95 = (2 - (56 / 1024 - 0.025) / (45 / 1024)) / 10
    low_998 = (1 - (11 / 1024 - 0.001) / (10 / 1024)) / 10

    limits = funnel_limits(0.5, [10]).iloc[0]

    assert limits["low_95"] == pytest.approx(low_95)
    assert limits["low_95"] == pytest.approx(0.132444, abs=5e-7)
    assert limits["low_998"] == pytest.approx(low_998)
    # The upper limits mirror the lower ones: the same, for the failures.
    assert limits["high_95"] == pytest.approx(1 - low_95)
    assert limits["high_998"] == pytest.approx(1 - low_998)


def test_limits_at_an_uneven_rate_by_hand_with_scipy():
    n, rate = np.array([20, 57]), 0.3

    limits = funnel_limits(rate, n)

    assert limits["n"].tolist() == [20, 57]
    assert limits["low_95"].to_numpy() == pytest.approx(interpolated(0.025, n, rate))
    assert limits["low_998"].to_numpy() == pytest.approx(interpolated(0.001, n, rate))
    assert limits["high_95"].to_numpy() == pytest.approx(
        1 - interpolated(0.025, n, 1 - rate)
    )
    assert limits["high_998"].to_numpy() == pytest.approx(
        1 - interpolated(0.001, n, 1 - rate)
    )


def test_limits_approach_the_normal_ones_for_large_n():
    n, rate = 5000, 0.3
    spread = sqrt(rate * (1 - rate) / n)

    limits = funnel_limits(rate, [n]).iloc[0]

    for column, tail in (("95", 0.025), ("998", 0.001)):
        z = norm.isf(tail)
        assert limits[f"low_{column}"] == pytest.approx(rate - z * spread, abs=2 / n)
        assert limits[f"high_{column}"] == pytest.approx(rate + z * spread, abs=2 / n)


@pytest.mark.parametrize("rate", [0.2, 0.45, 0.8])
def test_outside_a_limit_exactly_when_the_exact_tail_is_below_it(rate):
    sizes = np.arange(1, 41)
    limits = funnel_limits(rate, sizes)

    for n, low_95, low_998, high_95, high_998 in limits[
        ["n", "low_95", "low_998", "high_95", "high_998"]
    ].itertuples(index=False):
        r = np.arange(n + 1)
        at_most = binom.cdf(r, n, rate)  # P(R <= r)
        at_least = binom.sf(r - 1, n, rate)  # P(R >= r)
        assert ((r / n < low_95) == (at_most < 0.025)).all()
        assert ((r / n < low_998) == (at_most < 0.001)).all()
        assert ((r / n > high_95) == (at_least < 0.025)).all()
        assert ((r / n > high_998) == (at_least < 0.001)).all()


def test_every_case_benefiting_in_a_small_group_is_not_called_high():
    # 3 of 3 at a pooled 80% happens half the time: inside the funnel.
    result = funnel_plot_data(groups([3, 797], [3, 997]))

    assert result.target == pytest.approx(0.8)
    assert result.groups["high_998"].iloc[0] == 1.0
    assert result.groups["position"].tolist() == ["inside", "inside"]


def test_positions_agree_with_the_limits_drawn():
    counts = [0, 2, 10, 20, 40, 48, 30]
    sizes = [20, 20, 20, 60, 60, 60, 100]

    result = funnel_plot_data(groups(counts, sizes))
    table = result.groups

    assert result.target == pytest.approx(sum(counts) / sum(sizes))
    for _, group in table.iterrows():
        own = funnel_limits(result.target, [group["long_term_benefit_n"]]).iloc[0]
        for column in LIMIT_COLUMNS:
            assert group[column] == pytest.approx(own[column])
        rate = group["rate"]
        if rate < group["low_998"]:
            expected = "below_998"
        elif rate < group["low_95"]:
            expected = "below_95"
        elif rate > group["high_998"]:
            expected = "above_998"
        elif rate > group["high_95"]:
            expected = "above_95"
        else:
            expected = "inside"
        assert group["position"] == expected
    assert set(table["position"]) >= {"below_998", "inside", "above_998"}


def test_the_grid_runs_from_1_to_the_largest_group():
    result = funnel_plot_data(groups([3, 10], [8, 25]))

    assert result.limits["n"].tolist() == list(range(1, 26))
    assert list(result.limits.columns) == ["n", *LIMIT_COLUMNS]
    assert result.limits["high_95"].to_numpy() == pytest.approx(
        funnel_limits(result.target, np.arange(1, 26))["high_95"].to_numpy()
    )


def test_a_long_grid_is_thinned_on_a_log_scale():
    result = funnel_plot_data(groups([300, 5000], [1000, 20000]), points=50)

    n = result.limits["n"].to_numpy()
    assert n[0] == 1
    assert n[-1] == 20000
    assert len(n) <= 50
    assert (np.diff(n) > 0).all()


def test_a_group_without_cases_has_no_position():
    result = funnel_plot_data(groups([3, 0], [10, 0]))

    empty = result.groups.iloc[1]
    assert empty["position"] == "no_cases"
    assert np.isnan(empty["rate"])
    assert all(np.isnan(empty[column]) for column in LIMIT_COLUMNS)
    assert result.target == pytest.approx(0.3)


def test_no_cases_at_all():
    result = funnel_plot_data(groups([0, 0], [0, 0]))

    assert result.target is None
    assert result.limits.empty
    assert list(result.limits.columns) == ["n", *LIMIT_COLUMNS]
    assert result.groups["position"].tolist() == ["no_cases", "no_cases"]


def test_no_groups_at_all():
    empty = groups([], []).astype(
        {"long_term_benefit_count": "int64", "long_term_benefit_n": "int64"}
    )

    result = funnel_plot_data(empty)

    assert result.target is None
    assert result.groups.empty


@pytest.mark.parametrize(("counts", "target"), [([5, 20], 1.0), ([0, 0], 0.0)])
def test_all_or_none_benefiting_is_inside_everywhere(counts, target):
    result = funnel_plot_data(groups(counts, [5, 20]))

    assert result.target == target
    assert result.groups["position"].tolist() == ["inside", "inside"]
    limits = result.limits
    assert ((limits["low_998"] <= target) & (target <= limits["high_998"])).all()


def test_positions_are_ordered_categories():
    result = funnel_plot_data(groups([1, 2], [5, 5]))

    assert list(result.groups["position"].cat.categories) == list(FUNNEL_POSITIONS)


def test_the_groups_are_copied_with_their_own_columns():
    table = groups([3, 4], [10, 10], therapist=["AB", "CD"])
    before = table.copy()

    result = funnel_plot_data(table)

    pd.testing.assert_frame_equal(table, before)
    assert list(result.groups.columns) == [
        *table.columns,
        "rate",
        *LIMIT_COLUMNS,
        "position",
    ]
    assert result.groups["therapist"].tolist() == ["AB", "CD"]


def test_response_rates_by_product_feed_it_directly():
    trials = make_trials(
        [{"product": "A", "outcome_rating": "markedly_improved"}] * 4
        + [{"product": "A", "outcome_rating": "same"}] * 6
        + [{"product": "B", "outcome_rating": "same"}] * 5
    )
    rates = response_rates(trials, by="product", unit="trial")

    benefit = funnel_plot_data(rates)
    relief = funnel_plot_data(
        rates, count="immediate_relief_count", n="immediate_relief_n"
    )

    assert benefit.target == pytest.approx(4 / 15)
    assert benefit.groups["product"].tolist() == ["A", "B"]
    assert relief.target == 1.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="between 0 and"):
        funnel_plot_data(groups([11], [10]))
    with pytest.raises(ValueError, match="whole numbers"):
        funnel_plot_data(groups([1.5], [10]))
    with pytest.raises(ValueError, match="whole numbers"):
        funnel_plot_data(groups([None], [10]))
    with pytest.raises(ValueError, match="lacks columns"):
        funnel_plot_data(groups([1], [10]), count="relief")
    with pytest.raises(TypeError, match="DataFrame"):
        funnel_plot_data([(1, 10)])
    with pytest.raises(ValueError, match="points"):
        funnel_plot_data(groups([1], [10]), points=1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        funnel_limits(1.2, [10])
    with pytest.raises(ValueError, match="whole numbers from 1"):
        funnel_limits(0.5, [0, 10])
