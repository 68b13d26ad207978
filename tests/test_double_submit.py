"""A create form sent twice (a double tap) saves one record."""

import re
import threading

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, follow_up_form, trial_form
from tracker.extensions import db
from tracker.models import FollowUp, Patient, Trial, User


def submission_key(page: str) -> str:
    found = re.search(
        r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page
    )
    assert found, "the form carries no submission key"
    return found.group(1)


def create_forms(records):
    """Each create form: its URL, what it posts, the model it makes, the user."""
    patient = records.patient()
    trial = records.trial(patient)
    return {
        "patient": ("/patients/new", {"code": "PF-0900"}, Patient, "therapist"),
        "trial": (f"/patients/{patient}/trials/new", trial_form(), Trial, "therapist"),
        "follow-up": (
            f"/trials/{trial}/follow-ups/new",
            follow_up_form(),
            FollowUp,
            "therapist",
        ),
        "user": (
            "/admin/users/new",
            {"username": "new.colleague", "role": "therapist", "password": PASSWORD}
            | {"confirm": PASSWORD},
            User,
            "admin",
        ),
    }


@pytest.mark.parametrize("form", ["patient", "trial", "follow-up", "user"])
def test_the_same_form_posted_twice_creates_one_record(
    app, client, auth, records, form
):
    url, data, model, role = create_forms(records)[form]
    auth.login(role)
    before = records.count(model)
    data = data | {"submission_key": submission_key(client.get(url).text)}
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert records.count(model) == before + 1
    # The repeat is shown what the first saved, not a refusal.
    assert "already in use" not in client.get(second.headers["Location"]).text


@pytest.mark.parametrize("form", ["patient", "trial"])
def test_the_same_form_posted_twice_at_once_creates_one_record(
    app, make_app, users, records, form
):
    url, data, model, role = create_forms(records)[form]
    before = records.count(model)
    workers = [make_app().test_client(), make_app().test_client()]
    for worker in workers:
        worker.post("/auth/login", data={"username": role, "password": PASSWORD})
    data = data | {"submission_key": submission_key(workers[0].get(url).text)}
    start = threading.Barrier(len(workers))
    locations = []

    def submit(worker):
        start.wait()
        response = worker.post(url, data=data)
        locations.append((response.status_code, response.headers.get("Location")))

    threads = [threading.Thread(target=submit, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in locations] == [302, 302]
    assert locations[0][1] == locations[1][1]
    assert records.count(model) == before + 1


def test_a_new_showing_of_the_form_saves_a_new_record(client, auth, records):
    patient = records.patient()
    auth.login()
    url = f"/patients/{patient}/trials/new"
    for _ in range(2):
        key = submission_key(client.get(url).text)
        client.post(url, data=trial_form(submission_key=key))
    assert records.count(Trial) == 2


def test_a_damaged_key_is_refused_and_nothing_saved(client, auth, records):
    patient = records.patient()
    auth.login()
    response = client.post(
        f"/patients/{patient}/trials/new", data=trial_form(submission_key="x' OR 1")
    )
    assert response.status_code == 200
    assert "The form was damaged; please open it again." in response.text
    assert records.count(Trial) == 0


def test_the_saved_trial_is_announced_with_its_verdict(client, auth, records):
    patient = records.patient()
    auth.login()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(pain_without="6", pain_with="2"),
        follow_redirects=True,
    )
    assert "Trial saved: immediate relief." in response.text


def test_the_keys_are_kept_in_the_database_with_their_records(
    app, client, auth, records
):
    patient = records.patient()
    auth.login()
    url = f"/patients/{patient}/trials/new"
    key = submission_key(client.get(url).text)
    client.post(url, data=trial_form(submission_key=key))
    with app.app_context():
        row = db.session.execute(
            sa.text("SELECT table_name, record_id FROM form_submission WHERE key = :k"),
            {"k": key},
        ).one()
        trial_id = db.session.scalar(sa.select(Trial.id))
    assert tuple(row) == ("trial", trial_id)
