"""The patient's result sheet and reporting a follow-up from home by link."""

import re
import sqlite3
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL
from tests.helpers import settings_form
from tracker import audit
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    FollowUp,
    ReportLink,
    ReportLinkRefusal,
    Trial,
)
from tracker.patient_reports import links, throttle

REPORT = {"pain": "2", "still_using": "yes", "global_rating": "markedly_improved"}


def sheet_link(client, trial_id: int) -> str:
    """The report link printed on the trial's sheet, as a path."""
    response = client.get(f"/trials/{trial_id}/sheet")
    assert response.status_code == 200
    url = re.search(r'id="sheet-url">([^<]+)<', response.text)[1]
    return url.removeprefix("http://localhost")


def follow_ups(app, trial_id: int) -> list[FollowUp]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(FollowUp).where(FollowUp.trial_id == trial_id))
        )


@pytest.mark.parametrize(
    ("pain_without", "pain_with", "meaning"),
    [
        (
            6,
            3,
            "Your pain eased at once with the insoles, which suggests they are "
            "likely to help over the next weeks.",
        ),
        (
            6,
            6,
            "Your pain did not ease enough at once with the insoles, which "
            "suggests they are unlikely to help",
        ),
        (
            0,
            0,
            "The activity did not hurt without the insoles on the day, so this "
            "test could not show whether they are likely to help.",
        ),
    ],
)
def test_sheet_says_what_each_verdict_means_in_plain_words(
    client, auth, records, pain_without, pain_with, meaning
):
    trial_id = records.trial(pain_without=pain_without, pain_with=pain_with)
    auth.login()
    page = client.get(f"/trials/{trial_id}/sheet").text
    assert meaning in page
    assert f"{pain_without} out of 10" in page and f"{pain_with} out of 10" in page
    assert "Single-leg squat".lower() in page
    for jargon in ("PPV", "specificity", "criterion", "assessable"):
        assert jargon not in page


def test_sheet_names_the_clinic_the_due_date_and_the_link(client, auth, records, app):
    trial_date = date(2026, 9, 1)
    trial_id = records.trial(trial_date=trial_date)
    auth.login("admin")
    client.post("/admin/settings", data=settings_form(clinic_name="Riverside Physio"))
    page = client.get(f"/trials/{trial_id}/sheet").text
    assert "Riverside Physio" in page
    assert "24 November 2026" in page  # 12 weeks after the trial
    assert re.search(r'id="sheet-url">http://localhost/r/\d+-[\w-]{22}<', page)
    assert "<svg" in page and "segno" in page  # the QR code, drawn inline


def test_sheet_shows_the_same_link_when_printed_again(client, auth, records):
    trial_id = records.trial()
    auth.login()
    assert sheet_link(client, trial_id) == sheet_link(client, trial_id)
    assert records.count(ReportLink) == 1


def test_sheet_uses_the_public_url_setting(client, auth, records, app):
    app.config["PUBLIC_URL"] = "https://physio.example.org/tracker/"
    trial_id = records.trial()
    auth.login()
    page = client.get(f"/trials/{trial_id}/sheet").text
    assert re.search(
        r'id="sheet-url">https://physio.example.org/tracker/r/\d+-[\w-]{22}<', page
    )


def test_a_patient_reports_once_without_logging_in(app, client, auth, records):
    trial_id = records.trial()
    auth.login()
    link = sheet_link(client, trial_id)
    patient = app.test_client()
    page = patient.get(link)
    assert page.status_code == 200
    assert 'name="pain"' in page.text and 'name="global_rating"' in page.text
    response = patient.post(link, data=REPORT)
    assert response.status_code == 302
    assert "Thank you" in patient.get(response.headers["Location"]).text
    [saved] = follow_ups(app, trial_id)
    assert saved.source == "patient" and saved.follow_up_date == date.today()
    assert (saved.pain, saved.still_using) == (2, True)
    # Spent: the same link now gets the neutral page.
    again = patient.get(link)
    assert again.status_code == 404
    assert "This link can no longer be used" in again.text
    assert patient.post(link, data=REPORT).status_code == 404
    assert len(follow_ups(app, trial_id)) == 1


def test_a_report_is_audited_as_the_patient_and_never_holds_the_token(
    app, client, auth, records
):
    trial_id = records.trial()
    auth.login()
    link = sheet_link(client, trial_id)
    token = link.removeprefix("/r/")
    app.test_client().post(link, data=REPORT)
    with app.app_context():
        [created] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.table_name == "follow_up")
        )
        assert created.username == "patient (self-report)"
        assert created.user_id is None and created.action == "create"
        assert created.changes["source"] == [None, "patient"]
        trail = db.session.scalars(sa.select(AuditEvent)).all()
        assert not any(token in str(event.changes) for event in trail)
        assert not any(token[-22:] in str(event.changes) for event in trail)
        stored = db.session.execute(sa.select(ReportLink.__table__)).all()
        assert not any(token[-22:] in str(row) for row in stored)


def test_the_report_page_leaks_nothing_that_identifies_the_patient(
    app, client, auth, records
):
    patient_id = records.patient(code="KNEE-7731", notes="lives on Elm Street")
    trial_id = records.trial(
        patient_id, notes="knee clicks on the left", product="Kneeguard Pro 3000"
    )
    auth.login()
    link = sheet_link(client, trial_id)
    patient = app.test_client()
    pages = [patient.get(link), patient.post(link, data={"pain": "11"})]
    for page in pages:
        assert page.status_code == 200
        for secret in ("KNEE-7731", "Elm Street", "clicks", "Kneeguard", "PF-"):
            assert secret not in page.text


def test_bad_answers_are_refused_beside_the_question_and_nothing_is_saved(
    app, client, auth, records
):
    trial_id = records.trial()
    auth.login()
    link = sheet_link(client, trial_id)
    patient = app.test_client()
    page = patient.post(link, data={"pain": "11", "still_using": "maybe"})
    assert page.status_code == 200
    assert "Choose a number from 0 to 10." in page.text
    assert "Answer yes or no." in page.text
    assert "Choose how your knee is now." in page.text
    summary = page.text[page.text.index('id="error-summary"') :]
    assert "Are you still using the insoles?" in summary.split("</div>")[0]
    assert follow_ups(app, trial_id) == []
    # Still open: the patient can correct and send.
    assert patient.post(link, data=REPORT).status_code == 302


def link_past_its_last_day(app, client, records) -> str:
    """A link printed while it worked, of a trial now past the links' lifetime."""
    trial_id = records.trial(trial_date=date.today() - timedelta(weeks=27))
    app.config["REPORT_LINK_WEEKS"] = 30
    link = sheet_link(client, trial_id)
    app.config["REPORT_LINK_WEEKS"] = 26
    return link


def refused_alike(client, paths):
    pages = [client.get(path) for path in paths]
    assert {page.status_code for page in pages} == {404}
    bodies = {page.text for page in pages}
    assert len(bodies) == 1, "each refusal must look the same"


def test_expired_revoked_spent_and_made_up_links_are_refused_alike(
    app, client, auth, records
):
    auth.login()
    spent = sheet_link(client, records.trial())
    app.test_client().post(spent, data=REPORT)
    revoked_trial = records.trial()
    revoked = sheet_link(client, revoked_trial)
    client.post(f"/trials/{revoked_trial}/report-link/revoke")
    expired = link_past_its_last_day(app, client, records)
    valid = sheet_link(client, records.trial())
    link_id, mac = valid.removeprefix("/r/").split("-", 1)
    forged = f"/r/{link_id}-{'A' * 22}"
    unknown = f"/r/99999-{mac}"
    refused_alike(
        app.test_client(), [spent, revoked, expired, forged, unknown, "/r/nonsense"]
    )


def test_a_new_link_replaces_the_old_one(app, client, auth, records):
    trial_id = records.trial()
    auth.login()
    old = sheet_link(client, trial_id)
    response = client.post(f"/trials/{trial_id}/report-link/new")
    assert response.status_code == 302
    new = sheet_link(client, trial_id)
    assert new != old
    patient = app.test_client()
    assert patient.get(old).status_code == 404
    assert patient.get(new).status_code == 200
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(
                AuditEvent.table_name == "trial", AuditEvent.record_id == trial_id
            )
        ).all()
    assert actions.count("report_link_created") == 2
    assert actions.count("report_link_revoked") == 1


def test_a_voided_trial_prints_no_link_and_its_link_stops_working(
    app, client, auth, records
):
    trial_id = records.trial()
    auth.login()
    link = sheet_link(client, trial_id)
    client.post(f"/trials/{trial_id}/void", data={"reason": "entered in error"})
    assert app.test_client().get(link).status_code == 404
    page = client.get(f"/trials/{trial_id}/sheet").text
    assert 'id="sheet-url"' not in page


def test_an_address_that_keeps_trying_bad_links_is_refused(app, client, auth, records):
    auth.login()
    good = sheet_link(client, records.trial())
    guesser = app.test_client()
    for number in range(throttle.MAX_REFUSALS_PER_ADDRESS):
        assert guesser.get(f"/r/{number + 1}-{'B' * 22}").status_code == 404
    assert guesser.get(good).status_code == 429
    # Counted in the database, so another worker refuses it too.
    assert records.count(ReportLinkRefusal) == throttle.MAX_REFUSALS_PER_ADDRESS
    other_address = app.test_client()
    other = other_address.get(good, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_the_throttle_holds_across_server_processes(
    app, make_app, client, auth, records
):
    auth.login()
    good = sheet_link(client, records.trial())
    for number in range(throttle.MAX_REFUSALS_PER_ADDRESS):
        app.test_client().get(f"/r/{number + 1}-{'C' * 22}")
    assert make_app().test_client().get(good).status_code == 429


def test_two_submissions_of_one_link_at_once_save_one_follow_up(
    app, make_app, client, auth, records
):
    trial_id = records.trial()
    auth.login()
    link = sheet_link(client, trial_id)
    workers = [make_app(), make_app()]
    start = threading.Barrier(len(workers))
    statuses = []

    def submit(worker):
        patient = worker.test_client()
        start.wait()
        statuses.append(patient.post(link, data=REPORT).status_code)

    threads = [threading.Thread(target=submit, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 404]
    assert len(follow_ups(app, trial_id)) == 1


def test_the_report_page_sends_no_referrer_and_the_usual_headers(
    app, client, auth, records
):
    auth.login()
    link = sheet_link(client, records.trial())
    response = app.test_client().get(link)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in response.text  # works without JavaScript


def test_reviewers_cannot_print_sheets_or_revoke_links(client, auth, records):
    trial_id = records.trial()
    auth.login("reviewer")
    assert client.get(f"/trials/{trial_id}/sheet").status_code == 403
    assert client.post(f"/trials/{trial_id}/report-link/revoke").status_code == 403


def test_sheet_of_a_missing_trial_is_a_404(client, auth):
    auth.login()
    assert client.get("/trials/4242/sheet").status_code == 404


def test_clinic_name_and_link_lifetime_are_clinic_settings(app, client, auth):
    auth.login("admin")
    too_long = "x" * 121
    page = client.post(
        "/admin/settings",
        data=settings_form(clinic_name=too_long, report_link_weeks="8"),
    )
    assert page.status_code == 200
    assert "Field cannot be longer than 120 characters." in page.text
    assert "Links must work until the follow-up is due" in page.text
    response = client.post(
        "/admin/settings",
        data=settings_form(clinic_name="  Riverside Physio ", report_link_weeks="30"),
    )
    assert response.status_code == 302
    with app.test_request_context():
        from tracker.settings import clinic_settings

        settings = clinic_settings()
    assert settings.clinic_name == "Riverside Physio"
    assert settings.report_link_weeks == 30


def test_a_link_works_until_its_last_day_and_not_after(app, client, auth, records):
    auth.login()
    weeks = 26
    last_day = records.trial(trial_date=date.today() - timedelta(weeks=weeks))
    day_after = records.trial(trial_date=date.today() - timedelta(weeks=weeks, days=1))
    patient = app.test_client()
    assert patient.get(sheet_link(client, last_day)).status_code == 200
    app.config["REPORT_LINK_WEEKS"] = weeks + 1  # long enough to print it
    late = sheet_link(client, day_after)
    app.config["REPORT_LINK_WEEKS"] = weeks
    assert patient.get(late).status_code == 404


def test_the_trial_history_lists_the_links_made_and_revoked(app, client, auth, records):
    trial_id = records.trial()
    auth.login()
    sheet_link(client, trial_id)
    client.post(f"/trials/{trial_id}/report-link/revoke")
    page = client.get(f"/trials/{trial_id}")
    assert page.status_code == 200
    assert "report_link_created" in page.text and "report_link_revoked" in page.text
    assert "No report link is out" in page.text
    with app.app_context():
        trail = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.table_name == "trial", AuditEvent.record_id == trial_id)
            .order_by(AuditEvent.id)
        ).all()
        [version] = audit.versions(trail)  # link events change no field
        assert version["pain_with"] == 3


def test_a_sheet_printed_after_the_links_last_day_prints_no_link(client, auth, records):
    trial_id = records.trial(trial_date=date.today() - timedelta(weeks=30))
    auth.login()
    page = client.get(f"/trials/{trial_id}/sheet").text
    assert 'id="sheet-url"' not in page
    assert "The time to report back by link ended on" in page


def test_a_patient_sending_a_spent_link_again_is_never_throttled(
    app, client, auth, records
):
    auth.login()
    spent = sheet_link(client, records.trial())
    fresh = sheet_link(client, records.trial())
    patient = app.test_client()
    patient.post(spent, data=REPORT)
    for _ in range(throttle.MAX_REFUSALS_PER_ADDRESS + 2):
        assert patient.post(spent, data=REPORT).status_code == 404
    assert patient.get(fresh).status_code == 200
    assert records.count(ReportLinkRefusal) == 0


sqlite_only = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="SQLite's write lock and snapshots"
)


@sqlite_only
def test_the_report_page_opens_while_another_worker_holds_the_write_lock(
    make_app, database_url, client, auth, records
):
    auth.login()
    link = sheet_link(client, records.trial())
    patient = make_app(DATABASE_BUSY_SECONDS=1).test_client()
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    try:
        page = patient.get(link)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status_code == 200


@sqlite_only
def test_a_sheet_is_printed_when_another_worker_saved_while_it_was_read(
    app, make_app, database_url, client, auth, records, monkeypatch
):
    trial_id = records.trial()
    other_trial = records.trial()
    other = make_app()
    real_open_link = links.open_link

    saved = []

    def open_link_after_another_save(trial):
        # Another worker saves between this request's reads and its write.
        if saved:
            return real_open_link(trial)
        saved.append(True)
        with other.app_context():
            with db.engine.begin() as connection:
                connection.execute(
                    sa.update(Trial).where(Trial.id == other_trial).values(notes="x")
                )
        return real_open_link(trial)

    monkeypatch.setattr(links, "open_link", open_link_after_another_save)
    auth.login()
    response = client.get(f"/trials/{trial_id}/sheet")
    assert response.status_code == 200
    assert 'id="sheet-url"' in response.text


def test_the_trial_page_says_when_the_patient_reported_by_link(
    app, client, auth, records
):
    trial_id = records.trial()
    auth.login()
    app.test_client().post(sheet_link(client, trial_id), data=REPORT)
    page = client.get(f"/trials/{trial_id}").text
    assert "The patient reported through their link on" in page
