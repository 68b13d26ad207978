"""A voided record takes no new trials, follow-ups or edits, on the web as on import."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.helpers import follow_up_form, trial_form
from tracker.extensions import db
from tracker.models import FollowUp, Patient, Trial


def void(app, model, record_id):
    with app.app_context():
        record = db.session.get(model, record_id)
        record.voided_at, record.void_reason = datetime.now(UTC), "entered in error"
        db.session.commit()


@pytest.fixture
def clinic(app, records):
    """A patient with a trial that has a follow-up."""
    patient = records.patient()
    trial = records.trial(patient, trial_date=date.today() - timedelta(weeks=13))
    follow_up = records.follow_up(trial, weeks=12)
    return {"patient": patient, "trial": trial, "follow_up": follow_up}


def refusals(client, clinic) -> dict[str, int]:
    """Each change a therapist could try, and the status code it got."""
    reason = {"reason": "corrected after review"}
    tries = {
        "new trial": (f"/patients/{clinic['patient']}/trials/new", trial_form()),
        "patient edit": (
            f"/patients/{clinic['patient']}/edit",
            {"code": "PF-9999", **reason},
        ),
        "trial edit": (f"/trials/{clinic['trial']}/edit", trial_form(**reason)),
        "new follow-up": (
            f"/trials/{clinic['trial']}/follow-ups/new",
            follow_up_form(),
        ),
        "follow-up edit": (
            f"/follow-ups/{clinic['follow_up']}/edit",
            follow_up_form(**reason),
        ),
    }
    answers = {}
    for name, (url, data) in tries.items():
        assert client.get(url).status_code in (200, 409), name
        answers[name] = client.post(url, data=data).status_code
    return answers


def test_a_voided_patient_takes_no_trials_and_no_edits(app, auth, client, clinic):
    auth.login()
    void(app, Patient, clinic["patient"])
    assert refusals(client, clinic) == dict.fromkeys(
        ["new trial", "patient edit", "trial edit", "new follow-up", "follow-up edit"],
        409,
    )
    page = client.post(f"/patients/{clinic['patient']}/trials/new", data=trial_form())
    assert "was voided" in page.text


def test_a_voided_trial_takes_no_follow_ups_and_no_edits(
    app, auth, client, clinic, records
):
    auth.login()
    void(app, Trial, clinic["trial"])
    answers = refusals(client, clinic)
    assert answers["trial edit"] == answers["new follow-up"] == 409
    assert answers["follow-up edit"] == 409
    assert answers["new trial"] == 302  # the patient still takes new trials
    assert records.count(FollowUp) == 1


def test_a_voided_follow_up_is_not_edited(app, auth, client, clinic, records):
    auth.login()
    void(app, FollowUp, clinic["follow_up"])
    answers = refusals(client, clinic)
    assert answers["follow-up edit"] == 409
    assert answers["new follow-up"] == 302
    assert records.count(FollowUp) == 2


def test_the_pages_of_a_voided_patient_offer_no_changes(app, auth, client, clinic):
    auth.login()
    void(app, Patient, clinic["patient"])
    trial_page = client.get(f"/trials/{clinic['trial']}").text
    assert "Record a follow-up" not in trial_page
    assert f"/follow-ups/{clinic['follow_up']}/edit" not in trial_page
    assert f"/trials/{clinic['trial']}/edit" not in trial_page
