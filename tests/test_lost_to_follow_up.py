"""Marking a trial lost to follow-up: with a reason, audited, and undone."""

import re
from datetime import date, timedelta

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, Trial

REASON = "moved abroad, no phone number"


def trial_of(app, trial_id: int) -> Trial:
    with app.app_context():
        return db.session.get(Trial, trial_id)


def status_line(client, trial_id: int) -> str:
    page = client.get(f"/trials/{trial_id}").text
    start = page.index('id="follow-up-status"')
    return page[start : page.index("</p>", start)]


def test_a_therapist_marks_a_trial_lost_with_a_reason(app, client, auth, records):
    trial_id = records.trial(trial_date=date.today() - timedelta(weeks=20))
    auth.login()
    assert "Overdue" in status_line(client, trial_id)
    response = client.post(
        f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": REASON}
    )
    assert response.status_code == 302
    trial = trial_of(app, trial_id)
    assert trial.lost and trial.lost_reason == REASON
    assert "Lost to follow-up" in status_line(client, trial_id)
    with app.app_context():
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.table_name == "trial", AuditEvent.action == "update"
            )
        )
    assert event.reason == REASON and event.username == "therapist"
    assert event.changes["lost_reason"] == [None, REASON]


def test_the_mark_is_taken_back_with_a_reason_and_audited(app, client, auth, records):
    trial_id = records.trial(trial_date=date.today() - timedelta(weeks=20))
    auth.login()
    client.post(f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": REASON})
    client.post(
        f"/trials/{trial_id}/lost",
        data={"mark": "found", "reason": "patient came back for review"},
    )
    assert not trial_of(app, trial_id).lost
    assert "Overdue" in status_line(client, trial_id)
    with app.app_context():
        reasons = db.session.scalars(
            sa.select(AuditEvent.reason)
            .where(AuditEvent.table_name == "trial", AuditEvent.action == "update")
            .order_by(AuditEvent.id)
        ).all()
    assert reasons == [REASON, "patient came back for review"]


def test_the_same_form_sent_twice_does_not_undo_itself(app, client, auth, records):
    trial_id = records.trial()
    auth.login()
    for _ in range(2):
        client.post(f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": REASON})
    assert trial_of(app, trial_id).lost


def test_marking_lost_needs_a_reason_in_words(app, client, auth, records):
    trial_id = records.trial()
    auth.login()
    page = client.post(f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": ""})
    assert page.status_code == 200
    assert "Say why: the reason is kept in the audit trail." in page.text
    assert not trial_of(app, trial_id).lost


def test_an_outcome_recorded_later_wins_over_the_lost_mark(app, client, auth, records):
    trial_id = records.trial(trial_date=date.today() - timedelta(weeks=13))
    auth.login()
    client.post(f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": REASON})
    records.follow_up(trial_id, weeks=12)
    assert "Outcome recorded" in status_line(client, trial_id)


def test_a_voided_trial_cannot_be_marked_lost(app, client, auth, records):
    trial_id = records.trial()
    auth.login()
    client.post(f"/trials/{trial_id}/void", data={"reason": "entered in error"})
    response = client.post(
        f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": REASON}
    )
    assert response.status_code == 409
    assert not trial_of(app, trial_id).lost


def test_reviewers_cannot_mark_trials_lost(client, auth, records):
    trial_id = records.trial()
    auth.login("reviewer")
    response = client.post(
        f"/trials/{trial_id}/lost", data={"mark": "lost", "reason": REASON}
    )
    assert response.status_code == 403


def test_the_trial_page_shows_who_gave_each_follow_up(client, auth, records):
    trial_id = records.trial()
    records.follow_up(trial_id, weeks=6)
    records.follow_up(trial_id, weeks=12, source="patient")
    auth.login()
    page = client.get(f"/trials/{trial_id}").text
    assert "Recorded at the clinic" in page and "Reported by the patient" in page
    assert "Print for the patient" in page


def test_the_patient_page_shows_each_trials_follow_up_status(client, auth, records):
    patient_id = records.patient()
    today = date.today()
    records.trial(patient_id, trial_date=today - timedelta(weeks=2))
    records.trial(patient_id, trial_date=today - timedelta(weeks=8))
    records.trial(patient_id, trial_date=today - timedelta(weeks=20))
    reported = records.trial(patient_id, trial_date=today - timedelta(weeks=12))
    records.follow_up(reported, weeks=12, source="patient")
    auth.login()
    page = client.get(f"/patients/{patient_id}").text
    assert re.search(r"<td>\s*Awaiting \(too early for the outcome\)\s*</td>", page)
    assert re.search(r"<td>\s*Due\s*<br><a", page)
    assert re.search(r"<td>\s*Overdue\s*<br><a", page)
    assert "reported by the patient" in page
