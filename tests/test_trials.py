"""Recording trials and follow-ups, and seeing the verdict at once."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests import helpers
from tests.helpers import trial_form
from tracker.extensions import db
from tracker.models import FollowUp, Trial, User

DAY = date.today() - timedelta(weeks=30)


@pytest.fixture(autouse=True)
def therapist(auth):
    """Every test here acts as a logged-in therapist."""
    auth.login("therapist")


def follow_up_form(trial_date: date, weeks: int = 12, **overrides) -> dict:
    seen = (trial_date + timedelta(weeks=weeks)).isoformat()
    return helpers.follow_up_form(follow_up_date=seen) | overrides


def test_trial_with_relief_shows_likely_to_help(client, records):
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new", data=trial_form(), follow_redirects=True
    )
    assert response.status_code == 200
    assert "Immediate relief" in response.text
    assert "likely to help in the longer term" in response.text
    assert records.count(Trial) == 1


def test_trial_without_relief_shows_unlikely_to_help(client, records):
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(pain_with="6"),
        follow_redirects=True,
    )
    assert "No immediate relief" in response.text
    assert "unlikely to help in the longer term" in response.text


def test_trial_without_provoked_pain_is_not_assessable(client, records):
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(pain_without="0", pain_with="0"),
        follow_redirects=True,
    )
    assert "Not assessable" in response.text
    assert "did not provoke pain without the aid" in response.text


def test_worse_with_the_aid_is_shown(client, records):
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(pain_without="3", pain_with="5"),
        follow_redirects=True,
    )
    assert "Worse with the aid" in response.text
    assert "No immediate relief" in response.text


def test_mcid_criterion_from_the_clinic_settings(app, client, records):
    app.config["RELIEF_CRITERION"] = "mcid"
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(pain_without="8", pain_with="7"),
        follow_redirects=True,
    )
    assert "No immediate relief" in response.text
    assert "at least 2 points or 30%" in response.text


def test_other_activity_with_description_is_named(client, records):
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(activity="other", activity_other="kneeling"),
        follow_redirects=True,
    )
    assert "kneeling" in response.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"pain_without": "11"},
            "Pain scores run from 0 (no pain) to 10 (worst imaginable).",
        ),
        (
            {"pain_with": "-1"},
            "Pain scores run from 0 (no pain) to 10 (worst imaginable).",
        ),
        ({"pain_with": "4.5"}, "Pain scores are whole numbers from 0 to 10."),
        ({"pain_without": ""}, "Enter a pain score from 0 to 10."),
        (
            {"trial_date": (date.today() + timedelta(days=1)).isoformat()},
            "The date cannot be in the future.",
        ),
        ({"trial_date": "31/12/2025"}, "Not a valid date value."),
        ({"intervention": "cast"}, "Choose insoles, taping or a knee brace."),
        ({"intervention": ""}, "Choose the aid that was tried."),
        ({"activity": "jumping"}, "Choose one of the listed activities."),
        ({"activity": "other"}, "Describe the activity when you choose Other."),
        ({"product": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"notes": "x" * 2001}, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_trial_input_is_refused_and_nothing_saved(
    client, records, overrides, message
):
    patient = records.patient()
    response = client.post(
        f"/patients/{patient}/trials/new", data=trial_form(**overrides)
    )
    assert response.status_code == 200
    assert message in response.text
    assert "Nothing was saved" in response.text
    assert records.count(Trial) == 0


def test_trial_form_shows_previous_trials(client, records):
    patient = records.patient()
    records.trial(patient, product="kinesiology tape", intervention="taping")
    assert "kinesiology tape" in client.get(f"/patients/{patient}/trials/new").text


def queries_to_get(app, client, url: str) -> int:
    """How many SQL statements the app runs to answer a GET of ``url``."""
    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


@pytest.mark.parametrize(
    "page", ["/patients/{patient}", "/patients/{patient}/trials/new"]
)
def test_pages_with_a_patients_trials_read_them_in_a_fixed_number_of_queries(
    app, client, records, page
):
    """Each trial's follow-ups are not read one trial at a time."""
    few, many = records.patient(), records.patient()
    for patient, trials in ((few, 2), (many, 12)):
        for number in range(trials):
            trial = records.trial(patient, trial_date=DAY + timedelta(days=number))
            records.follow_up(trial, weeks=12)
    assert queries_to_get(app, client, page.format(patient=many)) == queries_to_get(
        app, client, page.format(patient=few)
    )


def test_edit_trial_changes_the_verdict(client, records):
    trial = records.trial(pain_without=6, pain_with=3)
    page = client.get(f"/trials/{trial}/edit").text
    assert 'value="6"' in page
    response = client.post(
        f"/trials/{trial}/edit",
        data=trial_form(pain_with="6", reason="misheard the score"),
        follow_redirects=True,
    )
    assert "Trial updated." in response.text
    assert "No immediate relief" in response.text


def test_edit_trial_refuses_bad_input_and_keeps_the_old_values(app, client, records):
    trial = records.trial(pain_with=3)
    response = client.post(
        f"/trials/{trial}/edit", data=trial_form(pain_with="12", reason="typo")
    )
    assert "Pain scores run from 0" in response.text
    with app.app_context():
        from tracker.extensions import db

        assert db.session.get(Trial, trial).pain_with == 3


def test_follow_up_is_recorded_and_counts_as_outcome(client, records):
    trial_date = date.today() - timedelta(weeks=13)
    trial = records.trial(trial_date=trial_date)
    response = client.post(
        f"/trials/{trial}/follow-ups/new",
        data=follow_up_form(trial_date),
        follow_redirects=True,
    )
    assert "Follow-up recorded." in response.text
    assert "<strong>Outcome</strong>" in response.text
    assert records.count(FollowUp) == 1


def test_early_follow_up_is_shown_but_not_the_outcome(client, records):
    trial_date = date.today() - timedelta(weeks=13)
    trial = records.trial(trial_date=trial_date)
    records.follow_up(trial, weeks=2)
    page = client.get(f"/trials/{trial}").text
    assert "Too early" in page
    assert "<strong>Outcome</strong>" not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pain": "11"}, "Pain scores run from 0"),
        ({"pain": "two"}, "Pain scores are whole numbers"),
        ({"still_using": ""}, "Say whether the patient still uses the aid."),
        ({"global_rating": "fine"}, "Choose the patient&#39;s rating of change."),
        (
            {"follow_up_date": (date.today() + timedelta(days=3)).isoformat()},
            "The date cannot be in the future.",
        ),
    ],
)
def test_bad_follow_up_is_refused_and_nothing_saved(
    client, records, overrides, message
):
    trial_date = date.today() - timedelta(weeks=13)
    trial = records.trial(trial_date=trial_date)
    response = client.post(
        f"/trials/{trial}/follow-ups/new", data=follow_up_form(trial_date, **overrides)
    )
    assert message in response.text
    assert records.count(FollowUp) == 0


def test_follow_up_before_its_trial_is_refused(client, records):
    trial_date = date.today() - timedelta(weeks=13)
    trial = records.trial(trial_date=trial_date)
    response = client.post(
        f"/trials/{trial}/follow-ups/new", data=follow_up_form(trial_date, weeks=-1)
    )
    assert (
        f"The follow-up cannot be before the trial ({trial_date:%Y-%m-%d})."
        in response.text
    )
    assert records.count(FollowUp) == 0


def test_edit_follow_up(app, client, records):
    trial_date = date.today() - timedelta(weeks=13)
    trial = records.trial(trial_date=trial_date)
    follow_up = records.follow_up(trial, still_using=False)
    page = client.get(f"/follow-ups/{follow_up}/edit").text
    assert '<input checked class="form-check-input" id="still_using-1"' in page
    response = client.post(
        f"/follow-ups/{follow_up}/edit",
        data=follow_up_form(trial_date, global_rating="same", reason="re-asked"),
        follow_redirects=True,
    )
    assert "Follow-up updated." in response.text
    with app.app_context():
        from tracker.extensions import db

        assert db.session.get(FollowUp, follow_up).global_rating == "same"


def test_due_list_holds_trials_from_the_minimum_week_without_outcome(client, records):
    overdue = records.trial(
        records.patient(code="PF-DUE"), trial_date=date.today() - timedelta(weeks=12)
    )
    records.trial(
        records.patient(code="PF-RECENT"), trial_date=date.today() - timedelta(weeks=5)
    )
    done = records.trial(
        records.patient(code="PF-DONE"), trial_date=date.today() - timedelta(weeks=14)
    )
    records.follow_up(done, weeks=12)
    early_only = records.trial(
        records.patient(code="PF-EARLY"), trial_date=date.today() - timedelta(weeks=14)
    )
    records.follow_up(early_only, weeks=2)
    page = client.get("/follow-ups/due").text
    assert "PF-DUE" in page and "PF-EARLY" in page
    assert "PF-RECENT" not in page and "PF-DONE" not in page
    assert f"/trials/{overdue}/follow-ups/new" in page


@pytest.mark.parametrize(
    "url",
    [
        "/trials/999",
        "/trials/999/edit",
        "/trials/999/follow-ups/new",
        "/follow-ups/999/edit",
        "/patients/999/trials/new",
        "/no-such-page",
    ],
)
def test_missing_records_are_404_pages(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_delete_is_not_offered(client, records):
    trial = records.trial()
    assert client.delete(f"/trials/{trial}").status_code == 405
    assert records.count(Trial) == 1


def test_trial_list_filters_by_aid_date_and_therapist(client, records):
    records.trial(intervention="insole", trial_date=date(2026, 1, 10))
    records.trial(intervention="brace", trial_date=date(2026, 3, 5))
    voided = records.trial(intervention="brace", trial_date=date(2026, 3, 6))
    client.post(f"/trials/{voided}/void", data={"reason": "duplicate"})
    assert "2 trials match." in client.get("/trials/").text
    assert "1 trial match." in client.get("/trials/?intervention=brace").text
    page = client.get("/trials/?since=2026-02-01&until=2026-12-31").text
    assert "1 trial match." in page
    assert "0 trials match." in client.get("/trials/?therapist=therapist").text


def test_trial_list_filters_ignore_blanks_around_a_name(client):
    patient = client.post("/patients/new", data={"code": "PF-0042"}).location
    client.post(f"{patient}/trials/new", data=trial_form(product="kinesiology tape"))
    page = client.get("/trials/?therapist=%20therapist%20").text
    assert "1 trial match." in page
    assert 'value="therapist"' in page
    assert "1 trial match." in client.get("/trials/?product=kinesiology+tape+").text


def test_trial_list_explains_bad_filters_and_matches_nothing(client, records):
    records.trial()
    page = client.get("/trials/?since=yesterday&intervention=magnets").text
    assert "Not a valid date value." in page
    assert "Choose insoles, taping or a knee brace." in page
    assert "0 trials match." in page
    page = client.get("/trials/?since=2026-05-01&until=2026-04-01").text
    assert "The end date cannot come before the start date." in page


def listed_trials(page: str) -> set[int]:
    """The ids of the trials a trial list shows."""
    return {int(number) for number in re.findall(r'href="/trials/(\d+)"', page)}


def test_trial_list_asks_for_trials_without_a_product_or_a_therapist(
    app, client, records
):
    with app.app_context():
        therapist = db.session.scalar(sa.select(User.id).filter_by(username="admin"))
    blank = {records.trial(product=""), records.trial()}
    named = records.trial(product="medial wedge", recorded_by_id=therapist)
    for value in ("(not recorded)", " (Not  Recorded) "):
        page = client.get("/trials/", query_string={"product": value}).text
        assert listed_trials(page) == blank
        assert 'value="(not recorded)"' in page
    page = client.get("/trials/?therapist=(not recorded)").text
    assert listed_trials(page) == blank
    assert listed_trials(client.get("/trials/?product=medial+wedge").text) == {named}
    assert listed_trials(client.get("/trials/?therapist=admin").text) == {named}


def test_trial_list_refuses_a_product_or_user_name_too_long_to_exist(client, records):
    records.trial(product="")
    page = client.get("/trials/", query_string={"product": "x" * 201}).text
    assert "A product name has at most 200 characters" in page
    assert "0 trials match." in page
    response = client.get("/trials/", query_string={"therapist": "x" * 81})
    assert response.status_code == 200
    assert "A user name has at most 80 characters" in response.text
