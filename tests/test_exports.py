"""CSV exports: full and de-identified, formula-safe, streamed and audited."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tracker.csvio import (
    DEIDENTIFIED_TRIAL_COLUMNS,
    FOLLOW_UP_COLUMNS,
    TRIAL_COLUMNS,
    age_band,
)
from tracker.extensions import db
from tracker.models import AuditEvent, FollowUp, Trial

DAY = date.today() - timedelta(weeks=30)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def rows_of(text: str) -> list[dict]:
    """The data rows of an export, by column name."""
    assert text.startswith("\ufeff"), "exports start with the BOM Excel looks for"
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def last_export_event(app) -> AuditEvent:
    with app.app_context():
        return db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "export")
            .order_by(AuditEvent.id.desc())
        )


@pytest.fixture
def clinic(records):
    """Two patients: one with a code and notes a spreadsheet would run."""
    first = records.patient(code='=HYPERLINK("http://x")', birth_year=1971)
    second = records.patient(code="PF-0002", birth_year=2001, sex="male")
    trial = records.trial(
        first,
        trial_date=DAY,
        product="Orthèse plantaire — 3/4",
        notes="-2 points, said @home",
        pain_without=6,
        pain_with=2,
    )
    records.follow_up(trial, weeks=2, pain=5, global_rating="same")
    records.follow_up(trial, weeks=12, pain=1, global_rating="markedly_improved")
    records.trial(
        first, trial_date=DAY + timedelta(days=14), intervention="taping", pain_with=6
    )
    records.trial(second, trial_date=DAY + timedelta(days=3), intervention="brace")
    return {"first": first, "second": second, "trial": trial}


def test_the_full_trials_export_writes_every_column_guarding_formulas(
    app, auth, client, clinic
):
    auth.login("admin")
    response = client.get("/exports/trials.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.is_streamed
    text = response.get_data(as_text=True)
    header = text[1:].splitlines()[0]
    assert header == ",".join(TRIAL_COLUMNS)
    rows = rows_of(text)
    assert len(rows) == 3
    first = rows[0]
    assert first["patient_code"] == '\'=HYPERLINK("http://x")'
    assert first["notes"] == "'-2 points, said @home"
    assert first["product"] == "Orthèse plantaire — 3/4"
    assert first["pain_without"] == "6" and first["pain_with"] == "2"
    assert first["patient_birth_year"] == "1971"
    assert first["immediate_relief"] == "yes"
    assert first["prediction"] == "likely to help in the longer term"
    # The outcome follow-up (12 weeks), not the early one, fills the columns.
    assert first["followup_pain"] == "1"
    assert first["followup_rating"] == "markedly_improved"
    assert first["outcome_weeks"] == "12.0"
    assert first["long_term_benefit"] == "yes"
    assert first["followup_count"] == "2"
    assert first["recorded_at"].endswith("Z")
    assert rows[1]["immediate_relief"] == "no"
    assert rows[1]["followup_date"] == ""
    assert ",6,2," in text.splitlines()[1]  # numbers are not quoted or guarded


def test_the_de_identified_export_has_no_free_text_and_no_dates(
    app, auth, client, clinic
):
    auth.login("reviewer")
    response = client.get("/exports/trials.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text[1:].splitlines()[0] == ",".join(DEIDENTIFIED_TRIAL_COLUMNS)
    for secret in ("HYPERLINK", "PF-0002", "Orthèse", "@home", "1971", "2001"):
        assert secret not in text
    assert not ISO_DATE.search(text)
    rows = rows_of(text)
    assert [row["patient_number"] for row in rows] == ["1", "1", "2"]
    assert [row["trial_day"] for row in rows] == ["0", "14", "0"]
    assert rows[0]["followup_day"] == "84"
    assert rows[0]["age_band"] == age_band(1971, DAY)
    assert rows[2]["age_band"] == age_band(2001, DAY + timedelta(days=3))


def test_the_follow_ups_export_has_a_row_per_follow_up_and_marks_the_outcome(
    auth, client, clinic
):
    auth.login("admin")
    text = client.get("/exports/followups.csv").get_data(as_text=True)
    assert text[1:].splitlines()[0] == ",".join(FOLLOW_UP_COLUMNS)
    rows = rows_of(text)
    assert [(row["weeks_after_trial"], row["is_outcome"]) for row in rows] == [
        ("2.0", "no"),
        ("12.0", "yes"),
    ]
    auth.login("reviewer")
    text = client.get("/exports/followups.csv").get_data(as_text=True)
    assert not ISO_DATE.search(text)
    assert "HYPERLINK" not in text


def test_the_follow_ups_export_says_whether_the_clinic_or_the_patient_reported(
    auth, client, records
):
    trial = records.trial(trial_date=DAY)
    records.follow_up(trial, weeks=2)
    records.follow_up(trial, weeks=12, source="patient")
    for role in ("admin", "reviewer"):  # full, then de-identified
        auth.login(role)
        rows = rows_of(client.get("/exports/followups.csv").text)
        assert [row["source"] for row in rows] == ["clinic", "patient"]


def test_the_trial_file_says_the_source_of_the_follow_up_in_its_row(
    auth, client, records
):
    reported = records.trial(trial_date=DAY)
    records.follow_up(reported, weeks=2)
    records.follow_up(reported, weeks=12, source="patient")
    seen_at_clinic = records.trial(trial_date=DAY + timedelta(days=1))
    records.follow_up(seen_at_clinic, weeks=12)
    records.trial(trial_date=DAY + timedelta(days=2))
    for role in ("admin", "reviewer"):
        auth.login(role)
        rows = rows_of(client.get("/exports/trials.csv").text)
        assert [row["followup_source"] for row in rows] == ["patient", "clinic", ""]


def test_the_trial_file_gives_each_trial_its_follow_up_status_as_of_today(
    auth, client, records
):
    today = date.today()
    lost_at = datetime.now(UTC)
    outcome = records.trial(trial_date=today - timedelta(weeks=20))
    records.follow_up(outcome, weeks=12)
    records.trial(trial_date=today - timedelta(weeks=2))
    records.trial(trial_date=today - timedelta(weeks=10))
    early_only = records.trial(trial_date=today - timedelta(weeks=20))
    records.follow_up(early_only, weeks=2)
    records.trial(
        trial_date=today - timedelta(weeks=20),
        lost_at=lost_at,
        lost_reason="=moved abroad, no reply",
    )
    came_back = records.trial(
        trial_date=today - timedelta(weeks=20),
        lost_at=lost_at,
        lost_reason="no reply",
    )
    records.follow_up(came_back, weeks=14)
    auth.login("admin")
    rows = rows_of(client.get("/exports/trials.csv").text)
    assert [(row["follow_up_status"], row["lost_reason"]) for row in rows] == [
        ("outcome_recorded", ""),
        ("awaiting", ""),
        ("due", ""),
        ("overdue", ""),
        ("lost", "'=moved abroad, no reply"),
        ("outcome_recorded", "no reply"),
    ]
    auth.login("reviewer")
    text = client.get("/exports/trials.csv").text
    assert "no reply" not in text  # the reason is free text


def test_de_identified_trials_and_follow_ups_number_patients_alike(
    auth, client, records, clinic
):
    """The follow-ups file skips patients without follow-ups, but not their numbers."""
    records.follow_up(records.trial(clinic["second"], intervention="brace"), weeks=12)
    auth.login("reviewer")
    # From the day after the first trial: the first patient's taping trial, unfollowed.
    since = f"since={(DAY + timedelta(days=1)).isoformat()}"
    trials = rows_of(client.get(f"/exports/trials.csv?{since}").get_data(as_text=True))
    follow_ups = rows_of(
        client.get(f"/exports/followups.csv?{since}").get_data(as_text=True)
    )
    assert [row["patient_number"] for row in trials] == ["1", "2", "2"]
    assert [row["patient_number"] for row in follow_ups] == ["2"]


def test_an_export_is_audited_with_who_which_filters_and_rows(
    app, auth, client, clinic
):
    auth.login("reviewer")
    response = client.get("/exports/trials.csv?intervention=insole&since=2000-01-01")
    assert len(rows_of(response.get_data(as_text=True))) == 1
    response.close()
    event = last_export_event(app)
    assert event.username == "reviewer"
    assert event.changes["export"] == "trials"
    assert event.changes["level"] == "deidentified"
    assert event.changes["filters"] == {"intervention": "insole", "since": "2000-01-01"}
    assert event.changes["rows"] == 1
    assert event.changes["complete"] is True


def test_exports_honour_the_trial_list_filters(auth, client, clinic):
    auth.login("admin")
    page = client.get("/trials/?intervention=brace").get_data(as_text=True)
    assert "/exports/trials.csv?intervention=brace" in page
    rows = rows_of(client.get("/exports/trials.csv?intervention=brace").text)
    assert [row["intervention"] for row in rows] == ["brace"]


def test_voided_trials_only_with_include_voided_in_a_full_export(
    app, auth, client, clinic
):
    with app.app_context():
        trial = db.session.get(Trial, clinic["trial"])
        trial.voided_at, trial.void_reason = trial.created_at, "=wrong patient"
        db.session.commit()
    auth.login("admin")
    assert len(rows_of(client.get("/exports/trials.csv").text)) == 2
    rows = rows_of(client.get("/exports/trials.csv?include_voided=y").text)
    voided = [row for row in rows if row["voided"] == "yes"]
    assert [row["void_reason"] for row in voided] == ["'=wrong patient"]
    response = client.get("/exports/trials.csv?include_voided=y&level=deidentified")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("therapist", "/exports/trials.csv", 403),
        ("therapist", "/exports/followups.csv", 403),
        ("therapist", "/exports/audit.csv", 403),
        ("reviewer", "/exports/trials.csv?level=full", 403),
        ("reviewer", "/exports/trials.csv?level=deidentified", 200),
        ("reviewer", "/exports/audit.csv", 403),
        ("admin", "/exports/audit.csv", 200),
        ("admin", "/exports/trials.csv?level=deidentified", 200),
        ("admin", "/exports/trials.csv?level=everything", 400),
        ("admin", "/exports/trials.csv?since=yesterday", 400),
    ],
)
def test_who_may_download_what(auth, client, records, role, url, status):
    auth.login(role)
    assert client.get(url).status_code == status


def test_the_audit_trail_export_is_full_and_guarded(app, auth, client, clinic):
    auth.login("admin")
    rows = rows_of(client.get("/exports/audit.csv?user=admin").text)
    assert rows and {row["username"] for row in rows} == {"admin"}
    rows = rows_of(client.get("/exports/audit.csv?since=2000-01-01").text)
    codes = [row for row in rows if "HYPERLINK" in row["changes"]]
    assert codes and codes[0]["changes"].startswith("{")
    assert last_export_event(app).changes["export"] == "audit"


def test_the_export_pages_offer_what_each_role_may_do(auth, client, records):
    auth.login("therapist")
    page = client.get("/exports/").get_data(as_text=True)
    assert "Upload a trial file" in page and "Download trials" not in page
    auth.login("reviewer")
    page = client.get("/exports/").get_data(as_text=True)
    assert "Download trials" in page and "Upload a trial file" not in page
    assert "Download audit trail" not in page
    auth.login("admin")
    page = client.get("/exports/").get_data(as_text=True)
    assert "Download audit trail" in page and "Upload a trial file" in page


def test_the_export_command_writes_a_file_and_audits_it(
    app, runner, clinic, users, tmp_path
):
    out = tmp_path / "trials.csv"
    result = runner.invoke(
        args=["export", "trials", "--out", str(out), "--intervention", "insole"]
        + ["--user", "admin"]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 1 rows" in result.output
    rows = rows_of(out.read_text(encoding="utf-8"))
    assert [row["intervention"] for row in rows] == ["insole"]
    event = last_export_event(app)
    assert event.username == "admin"
    assert event.changes["via"] == "command line"
    assert event.changes["filters"] == {"intervention": "insole"}
    assert event.changes["rows"] == 1
    assert event.changes["os_user"]


def test_the_export_command_writes_to_standard_output_without_a_user(
    app, runner, clinic
):
    result = runner.invoke(args=["export", "followups", "--level", "deidentified"])
    assert result.exit_code == 0, result.output
    assert len(rows_of(result.output)) == 2
    event = last_export_event(app)
    assert event.username is None and event.changes["level"] == "deidentified"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trials", "--since", "last week"], "--since: Not a valid date value."),
        (["trials", "--intervention", "cast"], "--intervention: Choose insoles"),
        (["audit", "--intervention", "insole"], "The audit export takes only"),
        (["trials", "--include-voided", "--level", "deidentified"], "only in full"),
        (["trials", "--user", "nobody"], "no active user named 'nobody'"),
    ],
)
def test_the_export_command_refuses_bad_options(runner, records, args, message):
    result = runner.invoke(args=["export", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert records.count(AuditEvent) == 0


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [
        (None, ""),
        (2015, "10-19"),
        (2006, "10-19"),
        (2005, "20-29"),
        (1990, "30-39"),
        (1930, "90+"),
    ],
)
def test_age_bands_are_ten_years_wide_and_top_coded_at_90(birth_year, band):
    assert age_band(birth_year, date(2025, 6, 1)) == band


def test_recorded_times_are_written_in_utc_to_the_second(app, auth, client, clinic):
    recorded = datetime(2026, 3, 29, 1, 30, 45, 900000, tzinfo=UTC)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # The database formats the times: a session in another zone
            # must still write UTC.
            db.engine.dispose()

            @sa.event.listens_for(db.engine, "connect")
            def in_tokyo(connection, _record):
                connection.execute("SET TIME ZONE 'Asia/Tokyo'")
                connection.commit()

        db.session.execute(sa.update(Trial).values(created_at=recorded))
        db.session.execute(sa.update(FollowUp).values(created_at=recorded))
        # The trail is append-only: an event recorded at that time is added.
        db.session.add(AuditEvent(at=recorded, action="login", username="admin"))
        db.session.commit()
    auth.login("admin")
    for url, column in [
        ("/exports/trials.csv", "recorded_at"),
        ("/exports/followups.csv", "recorded_at"),
        ("/exports/audit.csv?until=2026-03-29", "at"),
    ]:
        rows = rows_of(client.get(url).text)
        assert rows and {row[column] for row in rows} == {"2026-03-29T01:30:45Z"}
