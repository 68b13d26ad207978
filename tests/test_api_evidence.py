"""Issue 17 in /api/summary and ``report --json``: new keys, hand counts, band edges."""

import json
import math
from datetime import date, timedelta

import pytest
from scipy.stats import fisher_exact

import analysis
from tests.helpers import settings_form

RELIEF, NO_RELIEF = 3, 6  # pain with the aid, from 6 without it
BETTER, SAME = "markedly_improved", "same"
#: (aid, pain with, rating, pain at the outcome, still using), one patient each.
#: With relief: 6 benefit + 3 without; without relief: 1 benefit + 5 without.
HAND_BUILT = [
    ("insole", RELIEF, BETTER, 1, True),
    ("insole", RELIEF, BETTER, 2, True),
    ("insole", RELIEF, BETTER, 2, True),
    ("insole", RELIEF, BETTER, 2, True),
    ("insole", RELIEF, SAME, 3, False),
    ("insole", NO_RELIEF, BETTER, 5, False),
    ("insole", NO_RELIEF, SAME, 5, True),
    ("insole", NO_RELIEF, SAME, 6, False),
    ("insole", NO_RELIEF, SAME, 6, False),
    ("taping", RELIEF, BETTER, 3, True),
    ("taping", RELIEF, BETTER, 4, True),
    ("taping", RELIEF, SAME, 5, False),
    ("taping", RELIEF, SAME, 6, True),
    ("taping", NO_RELIEF, SAME, 7, True),
    ("taping", NO_RELIEF, SAME, 4, False),
]
EFFECT_KEYS = {
    "intervention",
    "criterion",
    "benefit_definition",
    "unit",
    "tp",
    "fp",
    "fn",
    "tn",
    "benefit_with_relief",
    "benefit_without_relief",
    "risk_difference",
    "risk_ratio",
    "odds_ratio",
    "fisher_p",
    "reason",
}
COMPARISON_KEYS = {
    "measure",
    "intervention_a",
    "intervention_b",
    "count_a",
    "n_a",
    "rate_a",
    "count_b",
    "n_b",
    "rate_b",
    "difference",
    "p_value",
    "p_holm",
    "patients_in_both",
}
NEW_BAND_KEYS = ("p_value", "p_value_claim", "more_outcomes_needed")
BAND_KEYS = (
    "band",
    "p_in_band",
    "p_value_vs_low",
    "p_value_vs_high",
    *NEW_BAND_KEYS,
    "more_trials_needed",
)


@pytest.fixture
def hand_built(records):
    """:data:`HAND_BUILT`, one insole trial overdue and one brace trial awaiting."""
    for aid, pain_with, rating, pain, still_using in HAND_BUILT:
        trial = records.trial(intervention=aid, pain_without=6, pain_with=pain_with)
        records.follow_up(
            trial, global_rating=rating, pain=pain, still_using=still_using
        )
    records.trial(trial_date=date.today() - timedelta(weeks=20))  # no outcome
    records.trial(intervention="brace", trial_date=date.today() - timedelta(days=3))
    return records


def api(client, **args):
    response = client.get("/api/summary", query_string=args)
    assert response.status_code == 200, response.text
    return response.get_json()


def test_report_json_and_api_agree_on_every_new_key(runner, client, auth, hand_built):
    auth.login("reviewer")
    from_api = api(client)
    result = runner.invoke(args=["report", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == from_api
    for key in ("effect", "effects", "cut_off", "aids_compared", "follow_up_pain"):
        assert key in from_api


def test_the_effects_have_the_documented_keys_and_order(client, auth, hand_built):
    auth.login("reviewer")
    body = api(client)
    assert EFFECT_KEYS <= set(body["effect"])
    assert (body["effect"]["criterion"], body["effect"]["intervention"]) == (
        "any",
        None,
    )
    order = [(e["criterion"], e["intervention"]) for e in body["effects"]]
    assert order == [
        (criterion, aid)
        for criterion in analysis.RELIEF_CRITERIA
        for aid in (None, "insole", "taping", "brace")
    ]
    assert body["effect"] == body["effects"][0]
    for effect in body["effects"]:
        assert EFFECT_KEYS <= set(effect)
        for name in ("risk_difference", "risk_ratio", "odds_ratio"):
            assert set(effect[name]) == {"value", "ci", "reason"}


def test_the_pooled_effect_matches_the_hand_counted_table(client, auth, hand_built):
    auth.login("reviewer")
    effect = api(client)["effect"]
    # With relief 6 of 9 benefit, without 1 of 6.
    assert (effect["tp"], effect["fp"], effect["fn"], effect["tn"]) == (6, 3, 1, 5)
    assert effect["benefit_with_relief"]["rate"] == pytest.approx(6 / 9)
    assert effect["risk_ratio"]["value"] == pytest.approx((6 / 9) / (1 / 6))
    assert effect["risk_difference"]["value"] == pytest.approx(6 / 9 - 1 / 6)
    assert effect["odds_ratio"]["value"] == pytest.approx(6 * 5 / (3 * 1))
    assert effect["fisher_p"] == pytest.approx(fisher_exact([[6, 3], [1, 5]]).pvalue)
    low, high = effect["risk_ratio"]["ci"]
    assert low < effect["risk_ratio"]["value"] < high


def test_an_infinite_risk_ratio_is_null_with_its_reason(client, auth, hand_built):
    auth.login("reviewer")
    (taping,) = [
        e
        for e in api(client)["effects"]
        if e["criterion"] == "any" and e["intervention"] == "taping"
    ]
    # Taping: 2 of 4 benefit with relief, 0 of 2 without.
    assert (taping["tp"], taping["fp"], taping["fn"], taping["tn"]) == (2, 2, 0, 2)
    assert taping["risk_ratio"] == {
        "value": None,
        "ci": None,
        "reason": "no long-term benefit without immediate relief: "
        "the risk ratio is infinite",
    }
    assert taping["odds_ratio"]["value"] is None
    assert taping["odds_ratio"]["ci"] is not None  # Gart's interval still exists
    assert taping["risk_difference"]["value"] == pytest.approx(0.5)
    (brace,) = [
        e
        for e in api(client)["effects"]
        if e["criterion"] == "any" and e["intervention"] == "brace"
    ]
    assert brace["reason"] == "no trials with an outcome"
    assert brace["fisher_p"] is None


def test_the_cut_off_check_matches_hand_counts_and_warns_under_30(
    client, auth, hand_built
):
    auth.login("reviewer")
    cut_off = api(client)["cut_off"]
    assert (cut_off["outcomes"], cut_off["with_benefit"]) == (15, 7)
    assert "fewer than 30" in cut_off["warning"]
    points = cut_off["points"]
    # Benefit: 6 drops of 3, 1 of 0; none: 3 of 3, 5 of 0. Wins 6*5, ties 6*3 + 1*5.
    assert points["auc"]["value"] == pytest.approx((30 + 23 / 2) / 56)
    assert points["best"] == 1
    first = points["cut_offs"][0]
    assert (first["cut_off"], first["tp"], first["fp"], first["fn"], first["tn"]) == (
        1,
        6,
        3,
        1,
        5,
    )
    assert [c["cut_off"] for c in points["cut_offs"]] == list(range(1, 11))
    assert [c["cut_off"] for c in cut_off["percent"]["cut_offs"]] == list(
        range(10, 101, 10)
    )


def test_the_aids_compared_match_hand_counts_with_null_for_an_aid_without_outcomes(
    client, auth, hand_built
):
    auth.login("reviewer")
    rows = api(client)["aids_compared"]
    assert [(r["measure"], r["intervention_a"], r["intervention_b"]) for r in rows] == [
        (measure, a, b)
        for measure in ("long_term_benefit", "immediate_relief")
        for a, b in (("insole", "taping"), ("insole", "brace"), ("taping", "brace"))
    ]
    for row in rows:
        assert COMPARISON_KEYS <= set(row)
        assert set(row["difference"]) == {"value", "ci", "reason"}
    insole_taping, insole_brace = rows[0], rows[1]
    assert (insole_taping["count_a"], insole_taping["n_a"]) == (5, 9)
    assert (insole_taping["count_b"], insole_taping["n_b"]) == (2, 6)
    assert insole_taping["difference"]["value"] == pytest.approx(5 / 9 - 2 / 6)
    p = fisher_exact([[5, 4], [2, 4]]).pvalue
    assert insole_taping["p_value"] == pytest.approx(p)
    # The only pair with a p-value: Holm over one test leaves it as it is.
    assert insole_taping["p_holm"] == pytest.approx(p)
    assert insole_brace["difference"] == {
        "value": None,
        "ci": None,
        "reason": "no trials of brace with an outcome",
    }
    assert insole_brace["p_value"] is None and insole_brace["p_holm"] is None


def test_follow_up_pain_matches_hand_counted_medians_and_still_using(
    client, auth, hand_built
):
    auth.login("reviewer")
    figures = api(client)["follow_up_pain"]
    assert figures["criterion"] == "any"
    assert figures["counting"] == analysis.counting_note(
        "patient", pooled=True, outcome_required=True
    )
    with_relief, without_relief, everyone = figures["groups"]
    assert [g["relief"] for g in figures["groups"]] == [
        "with_relief",
        "without_relief",
        "all",
    ]
    # Drops with relief 5, 4, 4, 4, 3, 3, 2, 1, 0; n = 9 gives the 2nd and 8th.
    assert with_relief["outcomes"] == 9
    assert with_relief["median_drop"] == {
        "value": 3.0,
        "ci": [1.0, 4.0],
        "reason": None,
    }
    assert (with_relief["still_using"]["count"], with_relief["still_using"]["n"]) == (
        7,
        9,
    )
    # Drops without relief 1, 1, 0, 0, -1, 2; n = 6 gives the extremes.
    assert without_relief["median_drop"] == {
        "value": 0.5,
        "ci": [-1.0, 2.0],
        "reason": None,
    }
    assert without_relief["still_using"]["count"] == 2
    assert without_relief["median_pain_without"] == 6.0
    assert everyone["outcomes"] == 15
    assert set(with_relief["still_using"]) == {"count", "n", "rate", "wilson", "exact"}


def test_only_long_term_benefit_is_banded_with_its_p_value_and_outcomes_needed(
    client, auth, hand_built
):
    auth.login("reviewer")
    body = api(client)
    for group in [*body["groups"], body["overall"]]:
        relief = group["immediate_relief"]
        assert all(relief[key] is None for key in BAND_KEYS)
        assert relief["rate"] is not None
        assert all(key in group["long_term_benefit"] for key in BAND_KEYS)
    overall = body["overall"]["long_term_benefit"]
    assert (overall["count"], overall["n"]) == (7, 15)
    check = analysis.against_band(7, 15, 0.25, 0.5)
    assert overall["band"] == check.verdict
    assert overall["p_value"] == pytest.approx(check.p_value)
    assert overall["p_value_claim"] == check.p_value_claim
    assert overall["more_outcomes_needed"] == check.more_outcomes_needed
    # 15 outcomes of the 16 counted trials past awaiting (the brace trial awaits).
    follow_up = body["completeness"]["overall"]["follow_up"]
    assert (follow_up["count"], follow_up["n"]) == (15, 16)
    assert overall["more_trials_needed"] == math.ceil(
        check.more_outcomes_needed * 16 / 15
    )


def test_too_few_outcomes_still_say_how_many_more_would_settle_it(
    client, auth, hand_built
):
    auth.login("reviewer")
    insole = api(client)["groups"][0]
    benefit = insole["long_term_benefit"]
    assert (benefit["count"], benefit["n"], benefit["band"]) == (5, 9, "too_few")
    check = analysis.against_band(5, 9, 0.25, 0.5)
    assert benefit["more_outcomes_needed"] == check.more_outcomes_needed >= 1
    # 9 outcomes of the 10 insole trials past awaiting.
    assert benefit["more_trials_needed"] == math.ceil(
        check.more_outcomes_needed * 10 / 9
    )
    brace = api(client)["groups"][2]["long_term_benefit"]
    assert brace["n"] == 0
    assert brace["band"] == "too_few"
    assert brace["p_value"] is None and brace["more_trials_needed"] is None


@pytest.fixture
def ten_more(records, hand_built):
    """Ten more insole outcomes, so the insole rate is judged (19 outcomes)."""
    for number in range(10):
        trial = records.trial(pain_with=RELIEF)
        records.follow_up(trial, global_rating=BETTER if number % 2 else SAME)
    return records


def test_band_edges_0_and_100_set_in_the_admin_form_crash_nothing(
    client, auth, runner, ten_more
):
    auth.login("admin")
    response = client.post(
        "/admin/settings", data=settings_form(band_low="0", band_high="100")
    )
    assert response.status_code == 302
    body = api(client)
    assert (body["settings"]["band_low"], body["settings"]["band_high"]) == (0.0, 1.0)
    insole = body["groups"][0]["long_term_benefit"]
    assert insole["n"] >= 10
    # The band [0, 1] holds every rate; neither edge has a side to test beyond it.
    assert insole["band"] == "within"
    assert insole["p_value_claim"] == "within"
    assert insole["p_value_vs_low"] is None and insole["p_value_vs_high"] is None
    assert insole["more_outcomes_needed"] == insole["more_trials_needed"] == 0
    result = runner.invoke(args=["report"])
    assert result.exit_code == 0, result.output
    assert "within the 0–100% band" in result.output
    result = runner.invoke(args=["report", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == body
    assert client.get("/dashboard/").status_code == 200


def test_band_edges_keep_the_json_valid_without_any_outcome(client, auth, records):
    records.trial()
    auth.login("admin")
    client.post("/admin/settings", data=settings_form(band_low="0", band_high="100"))
    response = client.get("/api/summary")
    assert response.status_code == 200
    # No NaN or Infinity anywhere: strict JSON parses it.
    body = json.loads(response.text, parse_constant=pytest.fail)
    assert body["overall"]["long_term_benefit"]["band"] == "too_few"
    assert body["cut_off"]["warning"] == "no trials with an outcome"
    assert client.get("/dashboard/").status_code == 200


def test_follow_up_pain_counts_a_patient_once_across_aids_as_the_rule_check(
    client, auth, records
):
    patient = records.patient()
    for aid, pain_with in (("insole", RELIEF), ("taping", NO_RELIEF)):
        trial = records.trial(patient, intervention=aid, pain_with=pain_with)
        records.follow_up(trial, global_rating=BETTER)
    auth.login("reviewer")
    body = api(client)
    assert [g["outcomes"] for g in body["follow_up_pain"]["groups"]] == [1, 0, 1]
    rule = body["rule"]
    assert rule["tp"] + rule["fp"] + rule["fn"] + rule["tn"] == 1
    per_trial = api(client, unit="trial")["follow_up_pain"]["groups"]
    assert [g["outcomes"] for g in per_trial] == [1, 1, 2]


def test_under_the_trial_unit_a_patients_repeat_trials_get_the_cluster_interval(
    client, auth, records
):
    # One patient tries the insole three times and always benefits; three
    # others try it once and do not: 6 trials from 4 patients.
    repeat = records.patient()
    for _ in range(3):
        trial = records.trial(repeat, pain_with=RELIEF)
        records.follow_up(trial, global_rating=BETTER)
    for _ in range(3):
        trial = records.trial(pain_with=NO_RELIEF)
        records.follow_up(trial, global_rating=SAME)
    auth.login("reviewer")

    per_patient = api(client)["groups"][0]["long_term_benefit"]
    per_trial = api(client, unit="trial")["groups"][0]["long_term_benefit"]

    assert (per_patient["n"], per_patient["patients"]) == (4, 4)
    assert per_patient["interval"] == "wilson"
    assert (per_trial["n"], per_trial["patients"]) == (6, 4)
    assert per_trial["interval"] == "cluster"
    expected = analysis.clustered_intervals(
        [True] * 3 + [False] * 3, [0, 0, 0, 1, 2, 3]
    )
    assert per_trial["design_effect"] == pytest.approx(expected[1][0])
    assert per_trial["cluster"] == pytest.approx([expected[2][0], expected[3][0]])
    # Wider than Wilson, which treats the three repeat trials as independent.
    assert per_trial["cluster"][0] < per_trial["wilson"][0]
    assert per_trial["cluster"][1] > per_trial["wilson"][1]

    page = client.get("/dashboard/", query_string={"unit": "trial"}).text
    low, high = (round(x * 100) for x in per_trial["cluster"])
    assert f"({low}–{high}%<abbr" in page
    assert "6 trials from 4 patients" in page
