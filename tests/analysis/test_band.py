import json
from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta, binomtest
from statsmodels.stats.proportion import proportion_confint

from analysis import against_band, band_columns, proportion, response_rates
from tests.analysis.builders import make_trials


def test_nine_cases_are_too_few_however_clear():
    check = against_band(9, 9)

    assert check.verdict == "too_few"
    assert check.p_value_vs_low == pytest.approx(0.25**9)


def test_ten_cases_are_enough():
    assert against_band(10, 10).verdict == "above"


def test_no_cases_have_no_p_values():
    check = against_band(0, 0)

    assert check.verdict == "too_few"
    assert (check.p_value_vs_low, check.p_value_vs_high, check.p_in_band) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("count", "n", "verdict"),
    [
        (60, 100, "above"),  # Wilson 0.502-0.691
        (59, 100, "inconclusive"),  # Wilson 0.492-0.681
        (16, 100, "below"),  # Wilson 0.101-0.244
        (17, 100, "inconclusive"),  # Wilson 0.109-0.256
        (34, 100, "within"),  # Wilson 0.255-0.437
        (33, 100, "inconclusive"),  # Wilson 0.246-0.427
        (86, 200, "within"),  # Wilson 0.363-0.499
        (87, 200, "inconclusive"),  # Wilson 0.368-0.504
    ],
)
def test_verdicts_at_the_edges_of_the_band(count, n, verdict):
    wilson = proportion(count, n).wilson
    # Each case sits within 0.01 of an edge, so an off-by-one would show.
    assert min(abs(limit - edge) for limit in wilson for edge in (0.25, 0.5)) < 0.01

    assert against_band(count, n).verdict == verdict


def test_a_narrower_band_moves_the_verdict():
    assert against_band(34, 100, low=0.3, high=0.4).verdict == "inconclusive"
    assert against_band(34, 100, low=0.1, high=0.2).verdict == "above"


def test_p_values_are_one_sided_exact_binomial_tests():
    check = against_band(14, 60)

    assert check.p_value_vs_low == pytest.approx(
        binomtest(14, 60, 0.25, alternative="greater").pvalue
    )
    assert check.p_value_vs_high == pytest.approx(
        binomtest(14, 60, 0.5, alternative="less").pvalue
    )
    assert check.p_value_vs_low == pytest.approx(tail(range(14, 61), 60, 0.25))
    assert check.p_value_vs_high == pytest.approx(tail(range(15), 60, 0.5))


def tail(counts, n, p):
    """The binomial probability of any of ``counts``, summed from the pmf."""
    return sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in counts)


def test_p_values_at_the_extremes():
    all_ten = against_band(10, 10)
    none_of_ten = against_band(0, 10)

    assert all_ten.p_value_vs_low == pytest.approx(0.25**10)
    assert all_ten.p_value_vs_high == pytest.approx(1.0)
    assert none_of_ten.p_value_vs_low == pytest.approx(1.0)
    assert none_of_ten.p_value_vs_high == pytest.approx(0.5**10)


@pytest.mark.parametrize(
    ("count", "n", "expected"),
    [
        (1, 1, 0.5**2 - 0.25**2),  # Beta(2, 1): cdf x^2
        (0, 1, 0.75**2 - 0.5**2),  # Beta(1, 2): cdf 1 - (1 - x)^2
    ],
)
def test_p_in_band_by_hand(count, n, expected):
    assert against_band(count, n).p_in_band == pytest.approx(expected)


@pytest.mark.parametrize(("count", "n"), [(14, 60), (34, 100), (3, 12)])
def test_p_in_band_is_the_posterior_mass_in_the_band(count, n):
    posterior = beta(count + 1, n - count + 1)

    assert against_band(count, n, 0.2, 0.4).p_in_band == pytest.approx(
        posterior.cdf(0.4) - posterior.cdf(0.2)
    )


def test_band_check_is_plain_for_json():
    as_dict = json.loads(json.dumps(against_band(0, 0).to_dict()))

    assert as_dict == {
        "verdict": "too_few",
        "p_value_vs_low": None,
        "p_value_vs_high": None,
        "p_in_band": None,
        "low": 0.25,
        "high": 0.5,
        "p_value": None,
        "p_value_claim": None,
        "more_outcomes_needed": None,
    }


def test_a_judged_band_check_is_plain_for_json():
    as_dict = against_band(59, 100).to_dict()

    assert json.loads(json.dumps(as_dict)) == as_dict
    assert (as_dict["p_value_claim"], as_dict["more_outcomes_needed"]) == ("above", 19)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (0.5, 0.25),
        (0.3, 0.3),
        (-0.1, 0.5),
        (0.25, 1.5),
        (0.0, 0.0),
        (float("nan"), 0.5),
    ],
)
def test_the_band_must_lie_inside_0_to_1(low, high):
    with pytest.raises(ValueError, match="0 <= low < high <= 1"):
        against_band(5, 20, low, high)
    with pytest.raises(ValueError, match="0 <= low < high <= 1"):
        band_columns(
            pd.DataFrame({"long_term_benefit_count": [5], "long_term_benefit_n": [20]}),
            low=low,
            high=high,
        )


def test_minimum_cases_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        against_band(5, 20, minimum_cases=0)


def test_counts_are_checked():
    with pytest.raises(ValueError, match="between 0 and n"):
        against_band(21, 20)


def test_band_columns_check_each_group():
    rates = response_rates(
        make_trials(
            [{"outcome_rating": "markedly_improved"}] * 60
            + [{"outcome_rating": "same"}] * 40
            + [{"intervention": "taping", "outcome_rating": "same"}] * 5
        )
    )
    before = rates.copy()

    banded = band_columns(rates, "long_term_benefit").set_index("intervention")

    pd.testing.assert_frame_equal(rates, before)
    assert banded["long_term_benefit_band"].tolist() == ["above", "too_few", "too_few"]
    assert banded.loc["insole", "long_term_benefit_p_in_band"] == pytest.approx(
        against_band(60, 100).p_in_band
    )
    assert banded.loc["taping", "long_term_benefit_p_vs_high"] == pytest.approx(0.5**5)
    assert pd.isna(banded.loc["brace", "long_term_benefit_p_vs_low"])


@pytest.mark.parametrize(
    "low, high", [(0.25, 0.50), (0.30, 0.60), (0.0, 0.5), (0.5, 1.0), (0.0, 1.0)]
)
def test_band_columns_give_against_band_for_every_row(low, high):
    counts = [(count, n) for n in (0, 1, 9, 10, 11, 40, 400) for count in range(n + 1)]
    rates = pd.DataFrame(
        {
            "long_term_benefit_count": [count for count, _n in counts],
            "long_term_benefit_n": [n for _count, n in counts],
        }
    )

    banded = band_columns(rates, "long_term_benefit", low, high)

    for (count, n), row in zip(counts, banded.to_dict("records"), strict=True):
        expected = against_band(count, n, low, high)
        assert row["long_term_benefit_band"] == expected.verdict, (count, n)
        claim = row["long_term_benefit_p_value_claim"]
        assert (None if pd.isna(claim) else claim) == expected.p_value_claim
        more = row["long_term_benefit_more_outcomes_needed"]
        assert (None if pd.isna(more) else more) == expected.more_outcomes_needed
        for column, value in (
            ("p_vs_low", expected.p_value_vs_low),
            ("p_vs_high", expected.p_value_vs_high),
            ("p_in_band", expected.p_in_band),
            ("p_value", expected.p_value),
        ):
            found = row[f"long_term_benefit_{column}"]
            if value is None:
                assert np.isnan(found)
            else:
                assert found == pytest.approx(value, rel=1e-9, abs=1e-15), column


def test_band_columns_on_no_groups():
    rates = response_rates(make_trials([]), by="activity")

    banded = band_columns(rates, "immediate_relief")

    assert banded.empty
    assert "immediate_relief_band" in banded.columns


def test_band_columns_need_the_rate_columns():
    with pytest.raises(ValueError, match="lacks columns"):
        band_columns(pd.DataFrame({"trials": [1]}))
    with pytest.raises(ValueError, match="unknown rate"):
        band_columns(pd.DataFrame({"trials": [1]}), rate="pain")


def test_band_columns_types_for_the_new_figures():
    rates = pd.DataFrame(
        {"long_term_benefit_count": [59, 0, 25], "long_term_benefit_n": [100, 0, 100]}
    )

    banded = band_columns(rates)

    assert banded["long_term_benefit_more_outcomes_needed"].dtype == "Int64"
    assert banded["long_term_benefit_more_outcomes_needed"].isna().tolist() == [
        False,
        True,
        True,
    ]
    assert banded["long_term_benefit_p_value_claim"].iloc[0] == "above"
    assert pd.isna(banded["long_term_benefit_p_value_claim"].iloc[1])


# The verdict's own p-value: exact one-sided binomial tests (scipy.stats.binomtest).


@pytest.mark.parametrize(
    ("count", "n", "verdict", "claim", "expected"),
    [
        (60, 100, "above", "above", binomtest(60, 100, 0.5, "greater").pvalue),
        (16, 100, "below", "below", binomtest(16, 100, 0.25, "less").pvalue),
        (
            34,
            100,
            "within",
            "within",
            max(
                binomtest(34, 100, 0.25, "greater").pvalue,
                binomtest(34, 100, 0.5, "less").pvalue,
            ),
        ),
        (59, 100, "inconclusive", "above", binomtest(59, 100, 0.5, "greater").pvalue),
        (17, 100, "inconclusive", "below", binomtest(17, 100, 0.25, "less").pvalue),
        (
            33,
            100,
            "inconclusive",
            "within",
            max(
                binomtest(33, 100, 0.25, "greater").pvalue,
                binomtest(33, 100, 0.5, "less").pvalue,
            ),
        ),
        (9, 9, "too_few", "above", 0.5**9),
    ],
)
def test_the_p_value_tests_the_claim_of_the_verdict(count, n, verdict, claim, expected):
    check = against_band(count, n)

    assert (check.verdict, check.p_value_claim) == (verdict, claim)
    assert check.p_value == pytest.approx(expected, rel=1e-9)


def test_the_p_value_of_above_is_the_upper_tail_summed_by_hand():
    assert against_band(60, 100).p_value == pytest.approx(
        tail(range(60, 101), 100, 0.5)
    )


def test_a_conclusive_verdict_has_a_small_p_value_and_an_inconclusive_one_not():
    # The exact test is a little more cautious than Wilson: below 0.05, not 0.025.
    for count, n in [(60, 100), (16, 100), (34, 100), (86, 200)]:
        assert against_band(count, n).p_value < 0.05
    for count, n in [(50, 100), (25, 100), (45, 100), (12, 30)]:
        assert against_band(count, n).p_value > 0.05


# Bands with an edge at 0 or 1: the clinic's setting may be 0% or 100%.


def test_nothing_is_below_a_band_starting_at_0():
    verdicts = {against_band(count, 50, 0.0, 0.3).verdict for count in range(51)}

    assert verdicts == {"within", "inconclusive", "above"}


def test_nothing_is_above_a_band_ending_at_1():
    verdicts = {against_band(count, 50, 0.7, 1.0).verdict for count in range(51)}

    assert verdicts == {"below", "inconclusive", "within"}


def test_no_benefit_at_all_is_within_a_band_starting_at_0():
    check = against_band(0, 40, 0.0, 0.2)

    assert check.verdict == "within"
    assert check.p_value_vs_low is None
    assert check.p_value_claim == "within"
    # Only the high edge is tested: P(X <= 0) at 0.2.
    assert check.p_value == pytest.approx(binomtest(0, 40, 0.2, "less").pvalue)
    assert check.p_value == pytest.approx(check.p_value_vs_high)


def test_benefit_for_all_is_within_a_band_ending_at_1():
    check = against_band(30, 30, 0.8, 1.0)

    assert check.verdict == "within"
    assert check.p_value_vs_high is None
    assert check.p_value == pytest.approx(binomtest(30, 30, 0.8, "greater").pvalue)


def test_the_whole_range_as_a_band_holds_every_rate():
    checks = [against_band(count, 20, 0.0, 1.0) for count in range(21)]

    assert {check.verdict for check in checks} == {"within"}
    assert {check.p_value for check in checks} == {0.0}
    assert {check.more_outcomes_needed for check in checks} == {0}
    assert all(check.p_in_band == pytest.approx(1.0) for check in checks)


def test_an_edge_band_still_finds_above_and_below():
    assert against_band(20, 40, 0.0, 0.25).verdict == "above"
    assert against_band(20, 40, 0.75, 1.0).verdict == "below"
    assert against_band(20, 40, 0.0, 0.25).p_value == pytest.approx(
        binomtest(20, 40, 0.25, "greater").pvalue
    )


# More outcomes until conclusive: the closed form against a search.


def wilson_verdict(rate, n, low, high):
    """The verdict the band check gives a Wilson interval at ``rate`` of ``n``."""
    wilson_low, wilson_high = np.clip(
        proportion_confint(rate * n, n, alpha=0.05, method="wilson"), 0, 1
    )
    return np.select(
        [
            wilson_low > high,
            wilson_high < low,
            (low <= wilson_low) & (wilson_high <= high),
        ],
        ["above", "below", "within"],
        default="inconclusive",
    )


def searched_more_outcomes(count, n, low, high, minimum_cases=10, up_to=200_000):
    """The first n' >= n at which the rate held at count / n is conclusive."""
    sizes = np.arange(max(n, minimum_cases), up_to)
    conclusive = wilson_verdict(count / n, sizes, low, high) != "inconclusive"
    if not conclusive.any():
        return None
    return int(sizes[np.argmax(conclusive)]) - n


@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [
        (59, 100, 0.25, 0.5),
        (17, 100, 0.25, 0.5),
        (33, 100, 0.25, 0.5),
        (87, 200, 0.25, 0.5),
        (3, 5, 0.25, 0.5),
        (1, 3, 0.25, 0.5),
        (9, 9, 0.25, 0.5),
        (0, 4, 0.25, 0.5),
        (11, 20, 0.3, 0.6),
        (7, 12, 0.2, 0.7),
        (26, 100, 0.25, 0.5),
        (49, 100, 0.25, 0.5),
        (0, 7, 0.0, 0.3),
        (2, 7, 0.0, 0.3),
        (7, 7, 0.6, 1.0),
        (5, 7, 0.6, 1.0),
        (60, 100, 0.25, 0.5),
    ],
)
def test_more_outcomes_needed_matches_a_search(count, n, low, high):
    expected = searched_more_outcomes(count, n, low, high)

    assert expected is not None
    assert against_band(count, n, low, high).more_outcomes_needed == expected


@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [(25, 100, 0.25, 0.5), (5, 10, 0.25, 0.5), (3, 10, 0.3, 0.6), (7, 10, 0.3, 0.7)],
)
def test_a_rate_exactly_on_an_edge_never_becomes_conclusive(count, n, low, high):
    assert against_band(count, n, low, high).more_outcomes_needed is None
    assert searched_more_outcomes(count, n, low, high, up_to=20_000) is None


def test_a_conclusive_verdict_needs_no_more_outcomes():
    for count, n in [(60, 100), (16, 100), (34, 100)]:
        assert against_band(count, n).more_outcomes_needed == 0


def test_too_few_cases_need_at_least_the_minimum():
    # 9 of 9 clears 50% at once, but the verdict waits for the tenth case.
    assert against_band(9, 9).more_outcomes_needed == 1
    assert against_band(9, 9, minimum_cases=30).more_outcomes_needed == 21
