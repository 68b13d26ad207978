"""The audit trail: complete, in the same transaction, append-only."""

from datetime import date, timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from tests import helpers
from tracker import audit
from tracker.extensions import db
from tracker.models import AuditEvent, FollowUp, Trial


@pytest.fixture(autouse=True)
def therapist(auth):
    auth.login("therapist")


trial_form = partial(helpers.trial_form, product="full-length insole")


def stored(app, model, record_id) -> dict:
    """The record's audited columns as the audit trail spells them."""
    with app.app_context():
        record = db.session.get(model, record_id)
        return {
            key: audit._plain(getattr(record, key))
            for key in audit._audited_columns(model)
        }


def events(app, table, record_id) -> list[AuditEvent]:
    with app.app_context():
        return audit.history(table, record_id)


def test_audit_rows_rebuild_every_version_of_a_trial(app, client, records):
    patient = records.patient()
    response = client.post(f"/patients/{patient}/trials/new", data=trial_form())
    trial = int(response.headers["Location"].split("/trials/")[1].split("?")[0])
    versions = [stored(app, Trial, trial)]
    client.post(
        f"/trials/{trial}/edit",
        data=trial_form(pain_with="5", reason="patient re-scored"),
    )
    versions.append(stored(app, Trial, trial))
    client.post(
        f"/trials/{trial}/edit",
        data=trial_form(pain_with="5", notes="shoe too tight", reason="added note"),
    )
    versions.append(stored(app, Trial, trial))
    client.post(f"/trials/{trial}/void", data={"reason": "wrong patient"})
    versions.append(stored(app, Trial, trial))

    trail = events(app, "trial", trial)
    assert [e.action for e in trail] == ["create", "update", "update", "void"]
    assert [e.reason for e in trail] == [
        None,
        "patient re-scored",
        "added note",
        "wrong patient",
    ]
    assert {e.username for e in trail} == {"therapist"}
    assert trail[1].changes == {"pain_with": [3, 5]}
    assert audit.versions(trail) == versions
    assert versions[0]["recorded_by_id"] is not None


def test_an_edit_without_a_reason_is_refused_and_changes_nothing(app, client, records):
    trial = records.trial(pain_with=3)
    before = events(app, "trial", trial)
    response = client.post(f"/trials/{trial}/edit", data=trial_form(pain_with="5"))
    assert "Say why: the reason is kept in the audit trail." in response.text
    assert stored(app, Trial, trial)["pain_with"] == 3
    assert len(events(app, "trial", trial)) == len(before)


def test_a_change_made_in_code_without_a_reason_is_refused(app, records):
    trial = records.trial(pain_with=3)
    with app.app_context():
        db.session.get(Trial, trial).pain_with = 4
        with pytest.raises(audit.ReasonRequired):
            db.session.commit()
        db.session.rollback()
    assert stored(app, Trial, trial)["pain_with"] == 3


def test_a_failed_audit_write_leaves_neither_change_nor_row(
    app, client, records, monkeypatch
):
    trial = records.trial(pain_with=3)
    before = len(events(app, "trial", trial))

    def broken(record):
        raise RuntimeError("audit storage failed")

    monkeypatch.setattr(audit, "_changes", broken)
    response = client.post(
        f"/trials/{trial}/edit", data=trial_form(pain_with="5", reason="re-scored")
    )
    assert response.status_code == 500
    monkeypatch.undo()
    assert stored(app, Trial, trial)["pain_with"] == 3
    assert len(events(app, "trial", trial)) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'forged'",
        "DELETE FROM audit_event",
        "DELETE FROM trial",
        "DELETE FROM follow_up",
        "DELETE FROM patient",
    ],
)
def test_the_database_refuses_to_rewrite_history(
    owner_database_url, records, statement
):
    """The triggers refuse even the tables' owner; the app's own PostgreSQL
    role may not even try (tests/test_app_role.py, tests/test_guards.py)."""
    records.follow_up(records.trial())
    before = records.count(AuditEvent)
    owner = sa.create_engine(owner_database_url)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with owner.begin() as connection:
            connection.exec_driver_sql(statement)
    owner.dispose()
    assert records.count(AuditEvent) == before
    assert before >= 3
    assert records.count(Trial) == 1


def test_a_voided_trial_leaves_lists_but_stays_on_file(app, client, records):
    patient = records.patient()
    trial = records.trial(patient, trial_date=date.today() - timedelta(weeks=20))
    assert "Record follow-up" in client.get("/follow-ups/due").text
    response = client.post(f"/trials/{trial}/void", data={"reason": ""})
    assert "Say why" in response.text
    client.post(f"/trials/{trial}/void", data={"reason": "entered twice"})
    assert "No trials yet" in client.get(f"/patients/{patient}").text
    assert "Record follow-up" not in client.get("/follow-ups/due").text
    page = client.get(f"/trials/{trial}").text
    assert "Voided" in page and "entered twice" in page
    assert records.count(Trial) == 1


def test_a_voided_follow_up_no_longer_counts_as_the_outcome(app, client, records):
    trial = records.trial(trial_date=date.today() - timedelta(weeks=13))
    follow_up = records.follow_up(trial)
    client.post(f"/follow-ups/{follow_up}/void", data={"reason": "other patient"})
    assert "Record follow-up" in client.get("/follow-ups/due").text
    with app.app_context():
        assert db.session.get(FollowUp, follow_up).voided
        assert db.session.get(Trial, trial).outcome(6, 12) is None


def test_trial_page_shows_its_history(client, records):
    trial = records.trial(pain_with=3)
    client.post(
        f"/trials/{trial}/edit", data=trial_form(pain_with="4", reason="misheard")
    )
    page = client.get(f"/trials/{trial}").text
    assert "History" in page
    assert "misheard" in page
    assert "3 → 4" in page


def test_reviewer_filters_the_audit_trail(app, auth, client, records):
    trial = records.trial(pain_with=3)
    client.post(
        f"/trials/{trial}/edit", data=trial_form(pain_with="4", reason="misheard")
    )
    auth.logout()
    auth.login("reviewer")
    page = client.get(f"/admin/audit?table=trial&record={trial}").text
    assert "misheard" in page
    assert client.get("/admin/audit?user=nobody").text.count("<tr>") == 2
    today = date.today().isoformat()
    assert "misheard" in client.get(f"/admin/audit?since={today}&until={today}").text


def test_demo_data_is_audited_under_the_named_user(app, runner):
    result = runner.invoke(args=["demo-data", "--patients", "3", "--user", "admin"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        creators = set(
            db.session.scalars(
                sa.select(AuditEvent.username).where(AuditEvent.action == "create")
            )
        )
    assert creators == {"admin"}
    unknown = runner.invoke(args=["demo-data", "--patients", "3", "--user", "ghost"])
    assert unknown.exit_code != 0
    assert "no active user named 'ghost'" in unknown.output


def test_admin_changes_settings_and_the_change_is_audited(app, auth, client, records):
    auth.logout()
    auth.login("admin")
    data = helpers.settings_form(
        relief_criterion="mcid", benefit_definition="moderately_improved"
    )
    response = client.post("/admin/settings", data=data, follow_redirects=True)
    assert "Settings saved." in response.text
    bad = client.post("/admin/settings", data=data | {"band_high": "20"})
    assert "The highest rate must be above the lowest." in bad.text
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "settings_change")
        )
    assert event.changes["RELIEF_CRITERION"] == ["any", "mcid"]
    patient = records.patient()
    assert "2 points or 30%" in client.get(f"/patients/{patient}/trials/new").text
