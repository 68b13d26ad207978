"""The bridge to the statistics, the summary, ``flask report`` and /api/summary."""

import json
from datetime import date, timedelta

import pytest

import analysis
from tracker.extensions import db
from tracker.models import Trial, User, utcnow
from tracker.reporting.filters import TrialFilters, parse_filters
from tracker.reporting.frames import SUMMARY_COLUMNS, trials_frame
from tracker.reporting.summary import summary
from tracker.settings import clinic_settings

BAND_KEYS = {
    "band",
    "p_in_band",
    "p_value_vs_low",
    "p_value_vs_high",
    "p_value",
    "p_value_claim",
    "more_outcomes_needed",
    "more_trials_needed",
}
RATE_KEYS = {
    "count",
    "n",
    "rate",
    "wilson",
    "exact",
    *BAND_KEYS,
    "patients",
    "design_effect",
    "cluster",
    "interval",
}
COMPLETENESS_COUNTS = {
    "counted",
    "outcome_clinic",
    "outcome_patient",
    "awaiting",
    "due",
    "overdue",
    "lost",
}
ESTIMATES = ("sensitivity", "specificity", "ppv", "npv", "lr_positive", "lr_negative")


def frame(app, **args):
    """The trials frame for query-string filters, as the dashboard reads it."""
    with app.test_request_context():
        return trials_frame(parse_filters(args))


@pytest.fixture
def seeded(app, users, records):
    """Three aids, repeat trials, early and late follow-ups, and voided records."""
    with app.app_context():
        ids = dict(db.session.execute(db.select(User.username, User.id)).all())
    therapist, admin = ids["therapist"], ids["admin"]
    today = date.today()
    aids = ("insole", "taping", "brace")
    for number in range(36):
        patient = records.patient()
        aid = aids[number % 3]
        pain_without = (0, 3, 5, 6, 7, 8)[number % 6]
        pain_with = max(0, pain_without - (number % 4))
        trial = records.trial(
            patient,
            intervention=aid,
            activity="stairs_down" if number % 2 else "single_leg_squat",
            pain_without=pain_without,
            pain_with=pain_with,
            trial_date=today - timedelta(days=100 + number * 9),
            recorded_by_id=therapist if number % 3 else admin,
        )
        if number % 5 != 4:
            rating = "markedly_improved" if number % 3 == 0 else "same"
            records.follow_up(trial, weeks=12, global_rating=rating)
        if number % 7 == 0:
            # A second trial of the same aid: counts only under the trial unit.
            records.trial(
                patient,
                intervention=aid,
                pain_without=6,
                pain_with=2,
                trial_date=today - timedelta(days=90),
            )
    return records


def test_frame_has_one_row_per_current_trial_with_the_analysis_columns(app, seeded):
    trials = frame(app)
    assert len(trials) == seeded.count(Trial)
    assert trials["trial_id"].is_unique
    assert set(SUMMARY_COLUMNS) <= set(trials.columns)
    assert {"product", "activity", "therapist", "outcome_pain"} <= set(trials)
    assert set(trials["therapist"].dropna()) == {"therapist", "admin"}


def test_frame_leaves_out_voided_trials_patients_and_follow_ups(app, records):
    voided = {"voided_at": utcnow(), "void_reason": "entered in error"}
    kept = records.trial(pain_without=6, pain_with=2)
    records.follow_up(kept, global_rating="markedly_improved")
    records.follow_up(kept, weeks=12, global_rating="markedly_worse", **voided)
    records.trial(**voided)
    records.trial(records.patient(**voided))
    trials = frame(app)
    assert trials["trial_id"].tolist() == [kept]
    assert trials["outcome_rating"].tolist() == ["markedly_improved"]


def test_frame_chooses_the_outcome_follow_up_as_the_trial_page_does(app, records):
    trial = records.trial(trial_date=date.today() - timedelta(weeks=30))
    records.follow_up(trial, weeks=4, global_rating="markedly_worse", pain=9)
    records.follow_up(trial, weeks=8, global_rating="same", pain=5)
    records.follow_up(trial, weeks=13, global_rating="markedly_improved", pain=1)
    records.follow_up(trial, weeks=20, global_rating="moderately_worse", pain=7)
    early_only = records.trial(trial_date=date.today() - timedelta(weeks=30))
    records.follow_up(early_only, weeks=3, global_rating="markedly_improved")
    trials = frame(app).set_index("trial_id")
    with app.app_context():
        settings = clinic_settings()
        chosen = db.session.get(Trial, trial).outcome(
            settings.follow_up_minimum_weeks, settings.follow_up_due_weeks
        )
    assert trials.loc[trial, "outcome_rating"] == chosen.global_rating
    assert trials.loc[trial, "outcome_pain"] == 1
    assert trials["outcome_rating"].isna()[early_only]


def test_frame_of_an_empty_database_is_empty(app):
    assert frame(app).empty


def api(client, **args):
    response = client.get("/api/summary", query_string=args)
    assert response.status_code == 200, response.text
    return response.get_json()


def test_report_json_and_api_agree_with_the_analysis(app, runner, client, auth, seeded):
    auth.login("reviewer")
    from_api = api(client)
    result = runner.invoke(args=["report", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == from_api

    trials = frame(app)
    with app.app_context():
        settings = clinic_settings()
    options = {
        "criterion": settings.relief_criterion,
        "benefit_definition": settings.benefit_definition,
    }
    rates = analysis.response_rates(trials, **options).set_index("intervention")
    for group in from_api["groups"]:
        row = rates.loc[group["intervention"]]
        assert group["trials"] == row["trials"]
        assert group["patients"] == row["patients"]
        for rate in ("immediate_relief", "long_term_benefit"):
            assert group[rate]["count"] == row[f"{rate}_count"]
            assert group[rate]["n"] == row[f"{rate}_n"]
            if row[f"{rate}_n"]:
                assert group[rate]["rate"] == pytest.approx(row[f"{rate}_rate"])
                assert group[rate]["wilson"] == pytest.approx(
                    [row[f"{rate}_wilson_low"], row[f"{rate}_wilson_high"]]
                )
        band = analysis.against_band(
            int(row["long_term_benefit_count"]),
            int(row["long_term_benefit_n"]),
            settings.band_low,
            settings.band_high,
        )
        benefit = group["long_term_benefit"]
        assert benefit["band"] == band.verdict
        assert benefit["p_in_band"] == band.p_in_band
        assert benefit["p_value"] == band.p_value
        assert benefit["p_value_claim"] == band.p_value_claim
        assert benefit["more_outcomes_needed"] == band.more_outcomes_needed
        assert set(group["immediate_relief"]) == RATE_KEYS
        assert all(group["immediate_relief"][key] is None for key in BAND_KEYS)
    overall = analysis.response_rates(trials, by=None, **options).iloc[0]
    assert from_api["overall"]["trials"] == overall["trials"] == len(trials)
    assert from_api["overall"]["patients"] == overall["patients"] == 36
    rule = analysis.rule_check(trials, **options)
    assert from_api["rule"] == json.loads(json.dumps(rule.to_dict()))
    assert [c["criterion"] for c in from_api["rule_by_criterion"]] == list(
        analysis.RELIEF_CRITERIA
    )


def test_summary_json_has_the_documented_shape(client, auth, seeded):
    auth.login("admin")
    body = api(client)
    assert set(body) == {
        "settings",
        "unit",
        "groups",
        "overall",
        "rule",
        "rule_by_criterion",
        "completeness",
        "effect",
        "effects",
        "cut_off",
        "aids_compared",
        "follow_up_pain",
        "by_site",
    }
    assert body["by_site"] is None  # one site
    assert body["unit"] == "patient"
    assert set(body["settings"]) == {
        "relief_criterion",
        "benefit_definition",
        "follow_up_minimum_weeks",
        "follow_up_due_weeks",
        "band_low",
        "band_high",
    }
    assert [g["intervention"] for g in body["groups"]] == ["insole", "taping", "brace"]
    for group in [*body["groups"], body["overall"] | {"intervention": None}]:
        assert set(group) == {
            "intervention",
            "trials",
            "patients",
            "assessable",
            "immediate_relief",
            "long_term_benefit",
        }
        for rate in ("immediate_relief", "long_term_benefit"):
            assert set(group[rate]) == RATE_KEYS
        assert group["long_term_benefit"]["band"] in analysis.BAND_VERDICTS
        assert group["immediate_relief"]["band"] is None
    for check in [body["rule"], *body["rule_by_criterion"]]:
        assert {"criterion", "tp", "fp", "fn", "tn", *ESTIMATES} <= set(check)
        for name in ESTIMATES:
            assert {"value", "ci"} <= set(check[name])
    completeness = body["completeness"]
    assert set(completeness) == {"as_of", "groups", "overall"}
    assert date.fromisoformat(completeness["as_of"]) == date.today()
    assert [g["intervention"] for g in completeness["groups"]] == [
        "insole",
        "taping",
        "brace",
    ]
    for group in [*completeness["groups"], completeness["overall"]]:
        assert set(group) - {"intervention"} == {
            *COMPLETENESS_COUNTS,
            "follow_up",
            "follow_up_with_relief",
            "follow_up_without_relief",
        }
        for rate in ("follow_up", "follow_up_with_relief", "follow_up_without_relief"):
            assert set(group[rate]) == {"count", "n", "rate", "wilson", "exact"}
    assert "intervention" not in completeness["overall"]


def test_filters_change_the_numbers_as_they_should(client, auth, seeded):
    auth.login("reviewer")
    everything = api(client)
    insoles = api(client, intervention="insole")
    assert insoles["overall"]["trials"] == everything["groups"][0]["trials"]
    assert [g["trials"] for g in insoles["groups"][1:]] == [0, 0]

    per_trial = api(client, unit="trial")
    assert per_trial["unit"] == "trial"
    assert (
        per_trial["overall"]["immediate_relief"]["n"]
        > everything["overall"]["immediate_relief"]["n"]
    )
    assert per_trial["overall"]["trials"] == everything["overall"]["trials"]

    by_admin = api(client, therapist="admin")
    assert by_admin["overall"]["trials"] == 12
    stairs = api(client, activity="stairs_down")
    assert stairs["overall"]["trials"] == 18
    recent = api(client, since=(date.today() - timedelta(days=150)).isoformat())
    assert 0 < recent["overall"]["trials"] < everything["overall"]["trials"]
    nothing = api(client, until="2000-01-01")
    assert nothing["overall"]["trials"] == 0
    assert nothing["overall"]["long_term_benefit"]["rate"] is None
    assert nothing["overall"]["long_term_benefit"]["band"] == "too_few"


def test_api_refuses_bad_filters_with_a_json_error(client, auth):
    auth.login("reviewer")
    response = client.get(
        "/api/summary", query_string={"since": "2024-13-45", "unit": "visit"}
    )
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"since", "unit"}
    assert "Choose patients or trials." in errors["unit"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since: Not a valid date value"),
        (["--intervention", "crutches"], "Choose insoles, taping or a knee brace."),
        (["--since", "2025-02-01", "--until", "2025-01-01"], "cannot come before"),
        (["--unit", "visit"], "--unit: Choose patients or trials."),
    ],
)
def test_report_refuses_bad_filters_with_a_message(runner, args, message):
    result = runner.invoke(args=["report", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_report_prints_a_readable_table(runner, seeded):
    result = runner.invoke(args=["report", "--unit", "trial"])
    assert result.exit_code == 0, result.output
    assert "Counting unit: trials" in result.output
    assert f"{seeded.count(Trial)} trials from 36 patients" in result.output
    assert "Of trials who felt relief at once" not in result.output
    for aid in ("insole", "taping", "brace", "all"):
        assert f"\n{aid} " in result.output
    assert "Rule check (relief criterion: at least 1 point (any drop))" in result.output


def test_report_prints_the_effect_band_reading_best_cut_off_and_aid_comparisons(
    app, runner, seeded
):
    result = runner.invoke(args=["report"])
    assert result.exit_code == 0, result.output
    output = result.output
    with app.test_request_context():
        sentences = summary(TrialFilters()).sentences
    assert "The rule's effect (relief criterion: at least 1 point (any drop))" in output
    assert sentences.effect in output
    assert "Against the band (long-term benefit only" in output
    for reading in sentences.band.values():
        assert reading in output
    for line in sentences.cut_off:
        assert line in output
    assert "after Holm's adjustment over the three pairs" in output
    for pair in ("insole / taping", "insole / brace", "taping / brace"):
        assert f"long_term_benefit  {pair}" in output
    for line in sentences.follow_up_pain:
        assert line in output


def test_summary_and_api_need_the_review_role(client, auth, seeded):
    auth.login("therapist")
    assert client.get("/api/summary").status_code == 403
    auth.logout()
    assert client.get("/api/summary").status_code == 302


def test_summary_of_the_same_filters_is_the_same_object_shape(app, seeded):
    with app.test_request_context():
        filters = TrialFilters(unit="trial")
        result = summary(filters)
    assert result.unit == "trial"
    assert result.to_dict()["overall"]["trials"] == seeded.count(Trial)
