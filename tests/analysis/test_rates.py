import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    INTERVENTIONS,
    RATE_COLUMNS,
    check_trials,
    clustered_intervals,
    count_unit,
    proportion,
    response_rates,
    rule_check_by_criterion,
)
from tests.analysis.builders import make_trials


def test_proportion_has_the_wilson_interval():
    result = proportion(14, 60)

    assert result.rate == pytest.approx(14 / 60)
    assert result.wilson == pytest.approx((0.144, 0.354), abs=5e-4)
    assert result.reason is None


def test_proportion_has_the_clopper_pearson_interval():
    exact = binomtest(14, 60).proportion_ci(method="exact")

    assert proportion(14, 60).exact == pytest.approx((exact.low, exact.high))


@pytest.mark.parametrize(
    ("count", "n", "wilson", "exact"),
    [
        (0, 10, (0.0, 0.2775), (0.0, 0.3085)),
        (10, 10, (0.7225, 1.0), (0.6915, 1.0)),
    ],
)
def test_proportion_at_0_and_100_percent_has_a_real_interval(count, n, wilson, exact):
    result = proportion(count, n)

    assert result.wilson == pytest.approx(wilson, abs=5e-5)
    assert result.exact == pytest.approx(exact, abs=5e-5)


def test_proportion_of_no_cases_says_why_there_is_no_rate():
    result = proportion(0, 0)

    assert (result.rate, result.wilson, result.exact) == (None, None, None)
    assert result.reason == "no cases"


def test_proportion_is_plain_for_json():
    assert json.loads(json.dumps(proportion(np.int64(3), np.int64(4)).to_dict())) == {
        "count": 3,
        "n": 4,
        "rate": 0.75,
        "wilson": pytest.approx([0.3006, 0.9544], abs=5e-5),
        "exact": pytest.approx([0.1941, 0.9937], abs=5e-5),
        "reason": None,
    }


@pytest.mark.parametrize(("count", "n"), [(5, 4), (-1, 4), (0, -1)])
def test_proportion_rejects_impossible_counts(count, n):
    with pytest.raises(ValueError, match="between 0 and n"):
        proportion(count, n)


@pytest.mark.parametrize(("count", "n"), [(1.0, 4), (1, True)])
def test_proportion_rejects_counts_that_are_not_whole_numbers(count, n):
    with pytest.raises(TypeError, match="whole number"):
        proportion(count, n)


def two_patients_and_a_stray_brace():
    """Repeat trials of an aid, a non-assessable trial, outcomes on later trials."""
    return make_trials(
        [
            # Patient 1: two insoles the same day, the second followed up.
            {"patient_id": 1, "trial_date": date(2024, 1, 1), "pain_with": 6},
            {
                "patient_id": 1,
                "trial_date": date(2024, 1, 1),
                "pain_with": 2,
                "outcome_rating": "markedly_improved",
            },
            # ...then taping: first not assessable, then a 1-point drop.
            {
                "patient_id": 1,
                "intervention": "taping",
                "trial_date": date(2024, 1, 5),
                "pain_without": 0,
                "pain_with": 0,
            },
            {
                "patient_id": 1,
                "intervention": "taping",
                "trial_date": date(2024, 1, 6),
                "pain_without": 5,
                "pain_with": 4,
                "outcome_rating": "same",
            },
            # Patient 2: the later trial_id is the earlier trial.
            {
                "patient_id": 2,
                "trial_date": date(2024, 1, 3),
                "pain_without": 4,
                "pain_with": 4,
                "outcome_rating": "moderately_improved",
            },
            {
                "patient_id": 2,
                "trial_date": date(2024, 1, 2),
                "pain_without": 7,
                "pain_with": 3,
            },
            # Patient 3: a brace that never provoked pain.
            {
                "patient_id": 3,
                "intervention": "brace",
                "pain_without": 0,
                "pain_with": 0,
                "outcome_rating": "markedly_improved",
            },
        ]
    )


def rates_of(trials, **options):
    return response_rates(trials, **options).set_index("intervention")


def test_per_patient_the_first_assessable_trial_of_each_aid_counts():
    counted = count_unit(two_patients_and_a_stray_brace(), unit="patient")

    assert counted["trial_id"].tolist() == [1, 4, 6]
    assert counted["immediate_relief"].tolist() == [False, True, True]


def test_for_benefit_the_first_assessable_trial_with_an_outcome_counts():
    counted = count_unit(
        two_patients_and_a_stray_brace(), unit="patient", outcome_required=True
    )

    assert counted["trial_id"].tolist() == [2, 4, 5]
    assert counted["long_term_benefit"].tolist() == [True, False, False]


def test_per_trial_every_assessable_trial_counts():
    counted = count_unit(two_patients_and_a_stray_brace(), unit="trial")

    assert counted["trial_id"].tolist() == [1, 2, 4, 5, 6]
    assert counted["long_term_benefit"].tolist() == [pd.NA, True, False, False, pd.NA]


def test_rates_counting_patients():
    rates = rates_of(two_patients_and_a_stray_brace(), unit="patient")

    assert rates.loc["insole", ["trials", "patients", "assessable"]].tolist() == [
        4,
        2,
        4,
    ]
    assert rates.loc["insole", "immediate_relief_count"] == 1
    assert rates.loc["insole", "immediate_relief_n"] == 2
    assert rates.loc["insole", "followed_up"] == 2
    assert rates.loc["insole", "long_term_benefit_count"] == 1
    assert rates.loc["insole", "long_term_benefit_n"] == 2
    assert rates.loc["taping", ["trials", "patients", "assessable"]].tolist() == [
        2,
        1,
        1,
    ]
    assert rates.loc["taping", "immediate_relief_rate"] == 1.0
    assert rates.loc["taping", "long_term_benefit_rate"] == 0.0


def test_rates_counting_trials():
    rates = rates_of(two_patients_and_a_stray_brace(), unit="trial")

    assert rates.loc["insole", "immediate_relief_count"] == 2
    assert rates.loc["insole", "immediate_relief_n"] == 4
    assert rates.loc["insole", "long_term_benefit_count"] == 1
    assert rates.loc["insole", "long_term_benefit_n"] == 2
    assert rates.loc["insole", ["trials", "patients"]].tolist() == [4, 2]


def test_a_group_without_assessable_trials_has_counts_but_no_rates():
    brace = rates_of(two_patients_and_a_stray_brace()).loc["brace"]

    assert brace[["trials", "patients", "assessable"]].tolist() == [1, 1, 0]
    assert brace["immediate_relief_n"] == 0
    assert brace["long_term_benefit_n"] == 0
    assert brace.filter(like="_rate").isna().all()
    assert brace.filter(like="_low").isna().all()


def test_the_benefit_definition_widens_benefit():
    rates = rates_of(
        two_patients_and_a_stray_brace(), benefit_definition="moderately_improved"
    )

    assert rates.loc["insole", "long_term_benefit_count"] == 2


def test_the_relief_criterion_decides_relief():
    trials = make_trials([{"pain_without": 5, "pain_with": 4}])

    assert (
        rates_of(trials, criterion="any").loc["insole", "immediate_relief_count"] == 1
    )
    assert (
        rates_of(trials, criterion="mcid").loc["insole", "immediate_relief_count"] == 0
    )


def test_all_trials_together_count_each_patient_once():
    rates = response_rates(two_patients_and_a_stray_brace(), by=None)

    assert list(rates.columns) == list(RATE_COLUMNS)
    assert rates.iloc[0][["trials", "patients", "assessable"]].tolist() == [7, 3, 5]
    # Patient 1's first insole (no relief), not their taping trial; patient 2's
    # earlier insole (relief). For benefit, each one's first with an outcome.
    assert rates.iloc[0]["immediate_relief_count"] == 1
    assert rates.iloc[0]["immediate_relief_n"] == 2
    assert rates.iloc[0]["immediate_relief_patients"] == 2
    assert rates.iloc[0]["long_term_benefit_count"] == 1
    assert rates.iloc[0]["long_term_benefit_n"] == 2


def test_pooled_the_first_assessable_trial_of_any_aid_counts():
    trials = two_patients_and_a_stray_brace()

    relief = count_unit(trials, pooled=True)
    benefit = count_unit(trials, pooled=True, outcome_required=True)

    assert relief["trial_id"].tolist() == [1, 6]
    assert benefit["trial_id"].tolist() == [2, 5]
    pd.testing.assert_frame_equal(
        count_unit(trials, unit="trial", pooled=True), count_unit(trials, unit="trial")
    )


def test_intervals_in_the_frame_are_those_of_proportion():
    trials = make_trials(
        [{"pain_with": 6}] * 46 + [{"outcome_rating": "markedly_improved"}] * 14
    )

    row = response_rates(trials, by=None).iloc[0]

    expected = proportion(14, 60)
    assert (row["immediate_relief_count"], row["immediate_relief_n"]) == (14, 60)
    assert row["immediate_relief_rate"] == pytest.approx(expected.rate)
    assert (
        row["immediate_relief_wilson_low"],
        row["immediate_relief_wilson_high"],
    ) == pytest.approx(expected.wilson)
    assert (
        row["immediate_relief_exact_low"],
        row["immediate_relief_exact_high"],
    ) == pytest.approx(expected.exact)
    assert row["long_term_benefit_rate"] == 1.0


def test_every_intervention_shows_in_a_fixed_order_even_without_trials():
    rates = response_rates(make_trials([{"intervention": "brace"}]))

    assert rates["intervention"].tolist() == list(INTERVENTIONS)
    assert rates["trials"].tolist() == [0, 0, 1]
    assert rates["immediate_relief_rate"].isna().tolist() == [True, True, False]


def test_months_run_in_date_order():
    trials = make_trials(
        [
            {"trial_date": date(2024, 3, 31)},
            {"trial_date": date(2023, 12, 1)},
            {"trial_date": date(2024, 1, 15)},
            {"trial_date": date(2024, 3, 1)},
        ]
    )

    rates = response_rates(trials, by="month")

    assert rates["month"].tolist() == ["2023-12", "2024-01", "2024-03"]
    assert rates["trials"].tolist() == [1, 1, 2]


def test_other_groupings_are_alphabetical_with_missing_values_last():
    trials = make_trials(
        [{"therapist": "MK"}, {"therapist": None}, {"therapist": "AB"}],
        text_dtype="object",
    )

    rates = response_rates(trials, by="therapist")

    assert rates["therapist"].iloc[:2].tolist() == ["AB", "MK"]
    assert pd.isna(rates["therapist"].iloc[2])
    assert rates["trials"].tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("by", "rows"), [("intervention", 3), (None, 1), ("activity", 0), ("month", 0)]
)
def test_no_trials_at_all(by, rows):
    rates = response_rates(make_trials([]), by=by)

    assert len(rates) == rows
    assert list(rates.columns[-len(RATE_COLUMNS) :]) == list(RATE_COLUMNS)
    assert (rates[["trials", "immediate_relief_n"]] == 0).all().all()
    assert rates["trials"].dtype == "int64"


def test_only_non_assessable_trials():
    trials = make_trials(
        [{"pain_without": 0, "pain_with": 0, "outcome_rating": "markedly_improved"}] * 5
    )

    rates = rates_of(trials)

    assert rates.loc["insole", "assessable"] == 0
    assert rates.loc["insole", "followed_up"] == 0
    assert rates["immediate_relief_rate"].isna().all()
    assert rates["long_term_benefit_rate"].isna().all()


def test_object_and_str_text_give_the_same_rates():
    trials = two_patients_and_a_stray_brace()
    as_object = trials.astype(
        {c: "object" for c in ("intervention", "product", "outcome_rating")}
    )

    pd.testing.assert_frame_equal(
        response_rates(as_object, by="product"), response_rates(trials, by="product")
    )


@pytest.mark.parametrize(
    "as_dates",
    [lambda dates: dates.dt.date, lambda dates: dates.dt.strftime("%Y-%m-%d")],
)
def test_dates_may_be_python_dates_or_iso_text(as_dates):
    trials = two_patients_and_a_stray_brace()
    changed = trials.assign(trial_date=as_dates(trials["trial_date"]))

    pd.testing.assert_frame_equal(
        response_rates(changed, by="month"), response_rates(trials, by="month")
    )


def test_the_trials_frame_is_left_as_it_was():
    trials = two_patients_and_a_stray_brace()
    before = trials.copy()

    response_rates(trials, by="month")
    count_unit(trials)

    pd.testing.assert_frame_equal(trials, before)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="pain_with"), r"lacks columns \['pain_with'\]"),
        (lambda t: t.assign(pain_with=11), "pain_with must hold whole numbers"),
        (lambda t: t.assign(pain_with=2.5), "pain_with must hold whole numbers"),
        (lambda t: t.assign(pain_with="3"), "pain_with must hold whole numbers"),
        (
            lambda t: t.assign(pain_without=pd.array([None] * 7, dtype="Int64")),
            "pain_without is missing",
        ),
        (lambda t: t.assign(intervention="sock"), r"unknown interventions \['sock'\]"),
        (lambda t: t.assign(outcome_rating="better"), "unknown global ratings"),
        (lambda t: t.assign(trial_id=1), r"trial_id must be unique; repeated: \[1\]"),
        (lambda t: t.assign(patient_id=None), "patient_id is missing"),
        (lambda t: t.assign(trial_date="not a date"), "trial_date must hold dates"),
        (lambda t: t.assign(trial_date=pd.NaT), "trial_date is missing"),
        (lambda t: t.assign(trial_date=20240101), "trial_date must hold dates, not"),
    ],
)
def test_unusable_trials_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        response_rates(change(two_patients_and_a_stray_brace()))


def test_pain_scores_may_be_whole_floats_or_nullable_integers():
    trials = two_patients_and_a_stray_brace()
    expected = response_rates(trials)

    as_float = trials.assign(pain_with=trials["pain_with"].astype("float64"))
    as_nullable = trials.assign(pain_without=trials["pain_without"].astype("Int64"))

    pd.testing.assert_frame_equal(response_rates(as_float), expected)
    pd.testing.assert_frame_equal(response_rates(as_nullable), expected)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"by": "week"}, "unknown grouping"),
        ({"unit": "visit"}, "unknown counting unit"),
        ({"criterion": "half"}, "unknown relief criterion"),
        ({"benefit_definition": "same"}, "unknown benefit definition"),
    ],
)
def test_unknown_choices_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        response_rates(two_patients_and_a_stray_brace(), **options)


def test_a_grouping_column_must_be_there():
    with pytest.raises(ValueError, match=r"lacks columns \['activity'\]"):
        response_rates(
            two_patients_and_a_stray_brace().drop(columns="activity"), by="activity"
        )


def test_trials_must_be_a_data_frame():
    with pytest.raises(TypeError, match="must be a DataFrame"):
        response_rates([{"trial_id": 1}])


def random_trials(seed: int, size: int = 400, **changes) -> pd.DataFrame:
    """Many trials with repeat patients, shuffled rows, outcomes on some."""
    rng = np.random.default_rng(seed)
    ratings = np.array([None, "same", "markedly_improved", "moderately_improved"])
    trials = make_trials(
        {
            "patient_id": int(rng.integers(1, size // 3)),
            "intervention": str(rng.choice(INTERVENTIONS)),
            "product": str(rng.choice(["A", "B", "C"])),
            "activity": str(rng.choice(["stairs", "running"])),
            "trial_date": date(2024, 1, 1) + pd.Timedelta(days=int(d)),
            "pain_without": int(rng.integers(0, 11)),
            "pain_with": int(rng.integers(0, 11)),
            "outcome_rating": rng.choice(ratings),
        }
        for d in rng.integers(0, 60, size)
    )
    return trials.sample(frac=1, random_state=seed).assign(**changes)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("unit", ["patient", "trial"])
def test_a_frame_checked_once_gives_the_same_numbers_for_every_call(seed, unit):
    trials = random_trials(seed)
    checked = check_trials(trials, "moderately_improved")
    options = {"unit": unit, "benefit_definition": "moderately_improved"}

    for by in ("intervention", "product", "activity", "month", None):
        for criterion in ("any", "mcid"):
            pd.testing.assert_frame_equal(
                response_rates(checked, by=by, criterion=criterion, **options),
                response_rates(trials, by=by, criterion=criterion, **options),
            )
    for outcome_required in (False, True):
        pd.testing.assert_frame_equal(
            count_unit(checked, outcome_required=outcome_required, **options),
            count_unit(trials, outcome_required=outcome_required, **options),
        )
    assert rule_check_by_criterion(checked, **options) == rule_check_by_criterion(
        trials, **options
    )


@pytest.mark.parametrize(
    "dates",
    [
        # Times of day, and a span too long for the 16-bit radix sort.
        lambda d: d + pd.to_timedelta(np.arange(len(d)) % 5, unit="h"),
        lambda d: d.where(np.arange(len(d)) % 7 > 0, pd.Timestamp("1800-03-01")),
    ],
)
def test_trials_in_any_row_order_and_with_any_dates_count_the_same(dates):
    trials = random_trials(4)
    trials = trials.assign(trial_date=dates(trials["trial_date"]))
    by_id = trials.sort_values("trial_id")

    for outcome_required in (False, True):
        pd.testing.assert_frame_equal(
            count_unit(trials, outcome_required=outcome_required).sort_values(
                "trial_id"
            ),
            count_unit(by_id, outcome_required=outcome_required),
        )
    pd.testing.assert_frame_equal(response_rates(trials), response_rates(by_id))


def test_a_checked_frame_is_for_one_benefit_definition():
    checked = check_trials(two_patients_and_a_stray_brace(), "markedly_improved")

    with pytest.raises(ValueError, match="checked for benefit definition"):
        response_rates(checked, benefit_definition="moderately_improved")
    with pytest.raises(ValueError, match=r"lacks columns \['therapist'\]"):
        response_rates(
            check_trials(two_patients_and_a_stray_brace().drop(columns="therapist")),
            by="therapist",
        )


# Intervals that allow for several trials per patient (the cluster interval).


def clustered_trials(seed: int = 7, patients: int = 20, trials: int = 90):
    """Patients who tend to respond, or not, to every aid they try."""
    rng = np.random.default_rng(seed)
    relief_chance = rng.uniform(0.05, 0.95, patients)
    benefit_chance = rng.uniform(0.05, 0.95, patients)
    patient = rng.integers(0, patients, trials)
    return make_trials(
        {
            "patient_id": int(who) + 1,
            "intervention": str(rng.choice(INTERVENTIONS)),
            "pain_with": 2 if rng.random() < relief_chance[who] else 6,
            "outcome_rating": (
                None
                if rng.random() < 0.2
                else "markedly_improved"
                if rng.random() < benefit_chance[who]
                else "same"
            ),
        }
        for who in patient
    )


def statsmodels_cluster_interval(success: np.ndarray, patient: np.ndarray):
    """The design effect and interval from statsmodels' own cluster-robust OLS."""
    y = success.astype("float64")
    fit = sm.OLS(y, np.ones(len(y))).fit(
        cov_type="cluster", cov_kwds={"groups": patient}
    )
    rate = y.mean()
    effect = max(1.0, fit.bse[0] ** 2 / (rate * (1 - rate) / len(y)))
    effective_n = len(y) / effect
    return effect, proportion_confint(rate * effective_n, effective_n, method="wilson")


@pytest.mark.parametrize("by", ["intervention", None])
def test_trial_unit_cluster_intervals_are_statsmodels_cluster_robust_ones(by):
    trials = clustered_trials()
    rates = response_rates(trials, by=by, unit="trial")

    effects = []
    for name in ("immediate_relief", "long_term_benefit"):
        counted = count_unit(
            trials, unit="trial", outcome_required=name == "long_term_benefit"
        )
        for row in range(len(rates)):
            in_row = counted
            if by is not None:
                in_row = counted[counted[by] == rates[by].iloc[row]]
            effect, (low, high) = statsmodels_cluster_interval(
                in_row[name].to_numpy(dtype=bool), in_row["patient_id"].to_numpy()
            )
            figures = rates.iloc[row]
            assert figures[f"{name}_design_effect"] == pytest.approx(effect)
            assert figures[f"{name}_cluster_low"] == pytest.approx(low)
            assert figures[f"{name}_cluster_high"] == pytest.approx(high)
            assert figures[f"{name}_patients"] == in_row["patient_id"].nunique()
            effects.append(effect)
    # Patients repeat in this set, so some intervals must be wider.
    assert max(effects) > 1.2


def test_with_one_trial_per_patient_the_cluster_interval_is_about_wilsons():
    trials = make_trials([{"pain_with": 6}] * 46 + [{}] * 14)

    row = response_rates(trials, by=None, unit="trial").iloc[0]

    # Each patient is a cluster of one: only statsmodels' factor G / (G - 1).
    assert row["immediate_relief_design_effect"] == pytest.approx(60 / 59)
    wilson = row["immediate_relief_wilson_high"] - row["immediate_relief_wilson_low"]
    cluster = row["immediate_relief_cluster_high"] - row["immediate_relief_cluster_low"]
    assert wilson < cluster < 1.01 * wilson


def test_a_rate_of_0_or_100_percent_keeps_the_wilson_interval():
    trials = make_trials([{"patient_id": number // 3} for number in range(12)])

    row = response_rates(trials, by=None, unit="trial").iloc[0]

    assert row["immediate_relief_rate"] == 1.0
    assert row["immediate_relief_design_effect"] == 1.0
    assert (
        row["immediate_relief_cluster_low"],
        row["immediate_relief_cluster_high"],
    ) == pytest.approx(
        (row["immediate_relief_wilson_low"], row["immediate_relief_wilson_high"])
    )


def test_one_patients_trials_weigh_as_one_trial():
    trials = make_trials([{"patient_id": 1}, {"patient_id": 1, "pain_with": 6}] * 3)

    row = response_rates(trials, by=None, unit="trial").iloc[0]

    assert row["immediate_relief_patients"] == 1
    assert row["immediate_relief_design_effect"] == 6.0
    assert (
        row["immediate_relief_cluster_low"],
        row["immediate_relief_cluster_high"],
    ) == pytest.approx(proportion_confint(0.5, 1, method="wilson"))


def test_a_group_without_trials_has_no_cluster_interval():
    brace = rates_of(two_patients_and_a_stray_brace(), unit="trial").loc["brace"]

    assert brace["immediate_relief_patients"] == 0
    assert np.isnan(brace["immediate_relief_design_effect"])
    assert np.isnan(brace["immediate_relief_cluster_low"])


def test_many_groups_of_many_patients_give_each_groups_own_cluster_interval():
    rng = np.random.default_rng(8)
    trials = make_trials(
        {
            "patient_id": int(rng.integers(1, 300)),
            "trial_date": date(2020, 1, 1) + pd.Timedelta(days=int(day)),
            "pain_with": int(rng.integers(0, 11)),
        }
        for day in rng.integers(0, 1800, 2000)
    )
    months = trials["trial_date"].dt.strftime("%Y-%m")

    by_month = response_rates(trials, by="month", unit="trial").set_index("month")

    columns = [c for c in RATE_COLUMNS if "immediate_relief" in c]
    for month in ("2020-01", "2022-06", "2024-11"):
        alone = response_rates(trials[months == month], by=None, unit="trial")
        pd.testing.assert_series_equal(
            by_month.loc[month, columns],
            alone.iloc[0][columns],
            check_names=False,
            check_dtype=False,
        )


@pytest.mark.parametrize("by", ["intervention", None])
def test_under_the_patient_unit_by_aid_or_overall_each_patient_is_one_cluster(by):
    trials = clustered_trials()
    rates = response_rates(trials, by=by)

    counted = count_unit(trials, pooled=by is None)
    groups = 1 if by is None else len(INTERVENTIONS)
    group = np.zeros(len(counted), "int64")
    if by is not None:
        group = counted["intervention"].map(INTERVENTIONS.index).to_numpy()
    found = clustered_intervals(
        counted["immediate_relief"].to_numpy(),
        pd.factorize(counted["patient_id"])[0],
        group,
        groups,
    )
    for column, values in zip(
        ("patients", "design_effect", "cluster_low", "cluster_high"), found, strict=True
    ):
        assert rates[f"immediate_relief_{column}"].to_numpy() == pytest.approx(values)
    assert (rates["immediate_relief_patients"] == rates["immediate_relief_n"]).all()
