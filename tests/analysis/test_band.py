import json
from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta, binomtest

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
    }


@pytest.mark.parametrize(
    ("low", "high"), [(0.5, 0.25), (0.3, 0.3), (0.0, 0.5), (0.25, 1.0), (-0.1, 0.5)]
)
def test_the_band_must_lie_inside_0_to_1(low, high):
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        against_band(5, 20, low, high)


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


@pytest.mark.parametrize("low, high", [(0.25, 0.50), (0.30, 0.60)])
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
        for column, value in (
            ("p_vs_low", expected.p_value_vs_low),
            ("p_vs_high", expected.p_value_vs_high),
            ("p_in_band", expected.p_in_band),
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
