"""The CSV import of past trials: every row checked by the forms, all or nothing."""

import csv
import io
import os
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import databases
from tracker import audit, create_app
from tracker.csvio import (
    CLINICAL_COLUMNS,
    formula_guard,
    import_trials,
    strip_formula_guard,
)
from tracker.extensions import db
from tracker.models import AuditEvent, FollowUp, Patient, Trial, User
from tracker.sites.membership import default_sites
from tracker.storage import bulk
from tracker.storage.schema import upgrade_database

DAY = date.today() - timedelta(weeks=20)
HEADER = "patient_code,trial_date,intervention,activity,pain_without,pain_with"


def trial_file(*rows: str, header: str = HEADER) -> str:
    """A small trial file: the header, then one line per row."""
    return "\r\n".join([header, *rows]) + "\r\n"


def run_import(runner, tmp_path, text, *args, name="trials.csv", encoding="utf-8"):
    """``flask import-trials`` on a file holding ``text``."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return runner.invoke(
        args=["import-trials", str(path), "--user", "therapist", *args]
    )


@pytest.fixture(autouse=True)
def accounts(users):
    """The therapist, reviewer and admin accounts the imports run under."""
    return users


@pytest.fixture(autouse=True, params=["checked here", "checked in a child"])
def checked_where(request, monkeypatch):
    """Every import test twice: rows checked in this process, then in a child.

    Large files are checked in a forked child (tracker/forked.py); these
    small ones are sent there too on the second run.
    """
    if request.param == "checked in a child":
        monkeypatch.setattr("tracker.csvio.importing.CHECK_IN_CHILD_BYTES", 0)
    return request.param


def assert_nothing_written(records):
    assert records.count(Patient) == 0
    assert records.count(Trial) == 0
    assert records.count(FollowUp) == 0


@pytest.fixture
def empty_app(tmp_path):
    """A second app on its own empty database, to import an export into.

    On PostgreSQL a schema migrated by the owner, the app as its own role.
    """
    with ExitStack() as stack:
        if os.environ.get("TEST_DATABASE_URL"):
            database_url = stack.enter_context(databases.postgresql_schema()).app_url
        else:
            database_url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
        other = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": database_url,
            }
        )
        with other.app_context():
            upgrade_database()
            db.session.add(
                User(
                    username="therapist",
                    role="therapist",
                    password_hash="x",
                    sites=default_sites(),
                )
            )
            db.session.commit()
        yield other
        with other.app_context():
            db.engine.dispose()


def clinical_columns(text: str) -> list[str]:
    """The clinical columns of each line of an export, exactly as written."""
    width = len(CLINICAL_COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")):
        writer.writerow(row[:width])
    return out.getvalue().splitlines()


def follow_up_statuses(text: str) -> list[str]:
    """The ``follow_up_status`` of each trial of an export."""
    rows = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    return [row["follow_up_status"] for row in rows]


def test_export_imported_into_an_empty_database_exports_the_same_clinical_columns(
    app, runner, records, users, empty_app, tmp_path
):
    formula = records.patient(
        code='=HYPERLINK("http://x")', birth_year=1984, sex="female"
    )
    plain = records.patient(code="PF-0002", affected_side="both")
    first = records.trial(
        formula,
        trial_date=DAY,
        product="Semelle orthopédique 3/4 — «confort» ✓",
        notes="=1+1 said the patient\nsecond line, with a comma",
    )
    records.follow_up(first, weeks=2, global_rating="same")
    records.follow_up(first, weeks=12, pain=1, still_using=False)
    records.trial(
        formula,
        trial_date=DAY + timedelta(days=3),
        activity="other",
        activity_other="+ kneeling on tiles",
        intervention="taping",
        pain_without=0,
        pain_with=0,
        lost_at=datetime.now(UTC),
        lost_reason="-moved abroad; two calls, no reply",
    )
    reported = records.trial(plain, trial_date=DAY, product="", notes="", pain_with=7)
    records.follow_up(reported, weeks=13, source="patient", still_using=False)
    exported = tmp_path / "export.csv"
    result = runner.invoke(args=["export", "trials", "--out", str(exported)])
    assert result.exit_code == 0, result.output
    first_text = exported.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in first_text and "'=1+1" in first_text
    assert "'-moved abroad" in first_text and ",patient," in first_text

    again = empty_app.test_cli_runner().invoke(
        args=["import-trials", str(exported), "--user", "therapist"]
    )
    assert again.exit_code == 0, again.output
    assert "3 accepted (2 new patients, 2 follow-ups)" in again.output
    second = tmp_path / "again.csv"
    result = empty_app.test_cli_runner().invoke(
        args=["export", "trials", "--out", str(second)]
    )
    assert result.exit_code == 0, result.output

    second_text = second.read_text(encoding="utf-8")
    assert clinical_columns(second_text) == clinical_columns(first_text)
    assert follow_up_statuses(second_text) == follow_up_statuses(first_text)
    assert follow_up_statuses(first_text) == [
        "outcome_recorded",
        "lost",
        "outcome_recorded",
    ]
    with empty_app.app_context():
        patient = db.session.scalar(
            sa.select(Patient).where(Patient.birth_year == 1984)
        )
        assert patient.code == '=HYPERLINK("http://x")'
        assert patient.trials[0].notes.startswith("=1+1")


def test_import_creates_patients_trials_and_follow_ups(runner, records, tmp_path):
    text = trial_file(
        f"PF-1,{DAY},insole,stairs_up,6,2,1985,female,{DAY + timedelta(weeks=12)},"
        "1,markedly_improved,yes",
        f"PF-1,{DAY + timedelta(days=1)},brace,squat,5,5,,,,,,",
        header=HEADER + ",patient_birth_year,patient_sex,followup_date,"
        "followup_pain,followup_rating,still_using",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "2 rows read: 2 accepted (1 new patients, 1 follow-ups)" in result.output
    assert records.count(Patient) == 1
    assert records.count(Trial) == 2
    with records.app.app_context():
        follow_up = db.session.scalar(sa.select(FollowUp))
        assert follow_up.still_using is True
        assert follow_up.trial.patient.birth_year == 1985


def test_every_bad_row_is_reported_by_line_and_column_and_nothing_is_written(
    runner, records, tmp_path
):
    future = date.today() + timedelta(days=3)
    text = trial_file(
        f"PF-1,{DAY},insole,single_leg_squat,6,3",
        f"PF-2,{DAY},sandal,single_leg_squat,11,3",
        f"PF-3,{future},insole,other,6,x",
        f"PF-4,{DAY},insole,squat,6",
        f",{DAY},insole,squat,6,3",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    for expected in (
        "line 3, column intervention: Choose insoles, taping or a knee brace.",
        "line 3, column pain_without: Pain scores run from 0 (no pain) to 10",
        "line 4, column trial_date: The date cannot be in the future.",
        "line 4, column activity_other: Describe the activity when you choose Other.",
        "line 4, column pain_with: Pain scores are whole numbers from 0 to 10.",
        "line 5: 5 cells, but the header has 6 columns",
        "line 6, column patient_code: Enter the patient's clinic code.",
        "5 rows read: 1 accepted",
        "4 refused",
        "Nothing was written.",
    ):
        assert expected in result.output
    assert_nothing_written(records)


def test_a_follow_up_before_its_trial_is_refused_with_the_forms_message(
    runner, records, tmp_path
):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{DAY - timedelta(days=1)},2,same,no",
        header=HEADER + ",followup_date,followup_pain,followup_rating,still_using",
    )
    result = run_import(runner, tmp_path, text)
    message = f"The follow-up cannot be before the trial ({DAY})."
    assert f"line 2, column followup_date: {message}" in result.output
    assert_nothing_written(records)


def test_a_partial_follow_up_names_each_missing_cell(runner, records, tmp_path):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{DAY + timedelta(weeks=8)},,,",
        header=HEADER + ",followup_date,followup_pain,followup_rating,still_using",
    )
    result = run_import(runner, tmp_path, text)
    assert "line 2, column followup_pain: Enter a pain score" in result.output
    assert (
        "line 2, column followup_rating: Choose the patient's rating" in result.output
    )
    assert "line 2, column still_using: Say whether the patient" in result.output
    assert_nothing_written(records)


FOLLOW_UP_HEADER = (
    HEADER + ",followup_date,followup_pain,followup_rating,still_using,followup_source"
)


def test_a_follow_up_source_is_stored_and_blank_means_the_clinic(
    runner, records, tmp_path
):
    later = DAY + timedelta(weeks=12)
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{later},1,same,yes,patient",
        f"PF-2,{DAY},insole,squat,6,3,{later},1,same,yes,",
        f"PF-3,{DAY},insole,squat,6,3,{later},1,same,yes,clinic",
        header=FOLLOW_UP_HEADER,
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    with records.app.app_context():
        sources = db.session.scalars(
            sa.select(FollowUp.source).order_by(FollowUp.id)
        ).all()
    assert sources == ["patient", "clinic", "clinic"]


def test_a_file_without_the_source_column_records_its_follow_ups_as_the_clinics(
    runner, records, tmp_path
):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{DAY + timedelta(weeks=12)},1,same,yes",
        header=HEADER + ",followup_date,followup_pain,followup_rating,still_using",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    with records.app.app_context():
        assert db.session.scalar(sa.select(FollowUp.source)) == "clinic"


@pytest.mark.parametrize("source", ["home", "Patient", "therapist"])
def test_a_follow_up_source_other_than_clinic_or_patient_is_refused(
    runner, records, tmp_path, source
):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{DAY + timedelta(weeks=12)},1,same,yes,{source}",
        header=FOLLOW_UP_HEADER,
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    assert (
        "line 2, column followup_source: Write clinic or patient "
        "(who reported the follow-up), or leave it blank for clinic." in result.output
    )
    assert_nothing_written(records)


def test_a_source_without_a_follow_up_asks_for_the_follow_up(runner, records, tmp_path):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,,,,,patient", header=FOLLOW_UP_HEADER
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    assert "line 2, column followup_date: Enter the date" in result.output
    assert_nothing_written(records)


def test_a_lost_reason_marks_the_trial_lost_when_imported(
    app, runner, records, tmp_path
):
    text = trial_file(
        f'PF-1,{DAY},insole,squat,6,3," moved abroad, no reply "',
        f"PF-2,{DAY},insole,squat,6,3,",
        header=HEADER + ",lost_reason",
    )
    before = datetime.now(UTC)
    result = run_import(runner, tmp_path, text)
    after = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    with app.app_context():
        lost, kept = db.session.scalars(sa.select(Trial).order_by(Trial.id)).all()
        assert lost.lost and lost.lost_reason == "moved abroad, no reply"
        assert (
            before <= lost.lost_at.replace(tzinfo=lost.lost_at.tzinfo or UTC) <= after
        )
        assert not kept.lost and kept.lost_reason is None
        created = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.table_name == "trial", AuditEvent.record_id == lost.id
            )
        )
        assert created.changes["lost_reason"] == [None, "moved abroad, no reply"]
        assert created.changes["lost_at"][1] is not None


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("x" * 501, "At most 500 characters."),
        ("?? -", "Write the reason in words (at least 3 letters)."),
    ],
    ids=["too long", "without words"],
)
def test_a_lost_reason_too_long_or_without_words_is_refused(
    runner, records, tmp_path, reason, message
):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{reason}", header=HEADER + ",lost_reason"
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    assert f"line 2, column lost_reason: {message}" in result.output
    assert_nothing_written(records)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n  \r\n", "The file is empty."),
        (HEADER.encode() + b"\r\n", "The file has a header row but no trials."),
        (
            HEADER.encode() + b"\r\n,,,,,\r\n",
            "The file has a header row but no trials.",
        ),
        (
            HEADER.replace(",", ";").encode()
            + f"\r\nPF-1;{DAY};insole;squat;6;3".encode(),
            "separates its columns with semicolons",
        ),
        (
            HEADER.replace(",", "\t").encode() + b"\r\n",
            "separates its columns with tabs",
        ),
        (
            f"{HEADER}\r\nPF-\xe9,{DAY},insole,squat,6,3\r\n".encode("latin-1"),
            "The file is not UTF-8 text",
        ),
        (
            b"patient_code,trial_date,intervention,activity\r\nPF-1,2024-01-01,a,b\r\n",
            "Missing required columns: pain_without, pain_with.",
        ),
        (
            (HEADER + ",Notes,colour\r\n").encode(),
            "Unknown columns: Notes, colour.",
        ),
        (
            (HEADER + ",notes,notes\r\n").encode(),
            "Columns named twice: notes.",
        ),
        (
            (HEADER + f'\r\nPF-1,{DAY},insole,squat,"6"x,3\r\n').encode(),
            "line 2: not readable as CSV",
        ),
        (b"x" * 200_000, "The first line is longer than 64 KB"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(
    runner, records, tmp_path, content, message
):
    result = run_import(runner, tmp_path, content)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert_nothing_written(records)


def test_a_hundred_megabytes_of_junk_is_refused_quickly(runner, records, tmp_path):
    path = tmp_path / "junk.csv"
    with path.open("wb") as junk:
        for _ in range(100):
            junk.write(os.urandom(1024 * 1024))
    result = runner.invoke(args=["import-trials", str(path), "--user", "therapist"])
    assert result.exit_code == 1
    assert "The file is not UTF-8 text" in result.output
    assert_nothing_written(records)


def test_a_file_saved_by_excel_with_a_byte_order_mark_is_accepted(
    runner, records, tmp_path
):
    text = trial_file(f"PF-1,{DAY},insole,squat,6,3")
    result = run_import(runner, tmp_path, text, encoding="utf-8-sig")
    assert result.exit_code == 0, result.output
    assert records.count(Trial) == 1


def test_importing_the_same_file_twice_adds_nothing(runner, records, tmp_path):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3",
        f"PF-1,{DAY},taping,squat,6,3",
        f"PF-2,{DAY},insole,squat,6,3",
    )
    assert run_import(runner, tmp_path, text).exit_code == 0
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "0 accepted" in result.output
    assert "3 duplicates skipped" in result.output
    assert "line 2: same trial as trial 1; skipped" in result.output
    assert records.count(Trial) == 3
    assert records.count(Patient) == 2


def test_a_duplicate_row_says_its_follow_up_was_skipped_too(runner, records, tmp_path):
    records.trial(records.patient(code="PF-1"), trial_date=DAY, activity="squat")
    follow_up_day = DAY + timedelta(weeks=12)
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{follow_up_day},2,markedly_improved,yes",
        header="patient_code,trial_date,intervention,activity,pain_without,"
        "pain_with,followup_date,followup_pain,followup_rating,still_using",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert (
        "line 2: same trial as trial 1; skipped with its follow-up "
        "(record it on the trial's page)"
    ) in result.output
    assert records.count(FollowUp) == 0


def test_a_repeated_row_within_a_file_is_a_duplicate(runner, records, tmp_path):
    row = f"PF-1,{DAY},insole,squat,6,3"
    result = run_import(runner, tmp_path, trial_file(row, row))
    assert "1 accepted" in result.output
    assert "line 3: same trial as line 2; skipped" in result.output
    assert records.count(Trial) == 1


def test_a_row_differing_in_a_score_is_not_a_duplicate(runner, records, tmp_path):
    records.trial(records.patient(code="PF-1"), trial_date=DAY, activity="squat")
    result = run_import(runner, tmp_path, trial_file(f"PF-1,{DAY},insole,squat,6,2"))
    assert "1 accepted (0 new patients" in result.output
    assert records.count(Trial) == 2
    assert records.count(Patient) == 1


def test_a_voided_trial_is_not_imported_again(app, runner, records, tmp_path):
    trial_id = records.trial(records.patient(code="PF-1"), trial_date=DAY)
    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        trial.voided_at, trial.void_reason = trial.created_at, "entered twice"
        db.session.commit()
    result = run_import(
        runner, tmp_path, trial_file(f"PF-1,{DAY},insole,single_leg_squat,6,3")
    )
    assert f"same trial as trial {trial_id} (voided)" in result.output
    assert records.count(Trial) == 1


def test_a_known_patient_is_reused_but_conflicting_details_are_refused(
    runner, records, tmp_path
):
    records.patient(code="PF-1", birth_year=1980)
    header = HEADER + ",patient_birth_year"
    result = run_import(
        runner,
        tmp_path,
        trial_file(
            f"PF-1,{DAY},insole,squat,6,3,",
            f"PF-1,{DAY},taping,squat,6,3,1980",
            f"PF-1,{DAY},brace,squat,6,3,1981",
            header=header,
        ),
    )
    assert (
        "line 4, column patient_birth_year: 1981 differs from 1980, recorded for "
        "patient PF-1" in result.output
    )
    assert records.count(Trial) == 0
    assert records.count(Patient) == 1


def test_a_new_patient_must_be_described_the_same_on_every_row(
    runner, records, tmp_path
):
    header = HEADER + ",patient_sex"
    result = run_import(
        runner,
        tmp_path,
        trial_file(
            f"PF-1,{DAY},insole,squat,6,3,female",
            f"PF-1,{DAY},taping,squat,6,3,male",
            header=header,
        ),
    )
    assert "line 3, column patient_sex: male differs from female" in result.output
    assert_nothing_written(records)


def test_a_dry_run_reports_and_writes_nothing(runner, records, tmp_path):
    result = run_import(
        runner, tmp_path, trial_file(f"PF-1,{DAY},insole,squat,6,3"), "--dry-run"
    )
    assert result.exit_code == 0, result.output
    assert "1 accepted" in result.output
    assert "Dry run" in result.output
    assert_nothing_written(records)
    assert records.count(AuditEvent) == 0


def test_imported_records_are_audited_under_the_user_with_the_file_name(
    app, runner, records, tmp_path
):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,{DAY + timedelta(weeks=12)},1,same,yes",
        header=HEADER + ",followup_date,followup_pain,followup_rating,still_using",
    )
    result = run_import(runner, tmp_path, text, name="clinic 2023.csv")
    assert result.exit_code == 0, result.output
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        creates = [e for e in events if e.action == "create"]
        assert {e.table_name for e in creates} == {"patient", "trial", "follow_up"}
        assert {e.username for e in events} == {"therapist"}
        assert {e.reason for e in creates} == {"Imported from clinic 2023.csv"}
        summary = events[-1]
        assert summary.action == "import"
        assert summary.changes["file"] == "clinic 2023.csv"
        assert summary.changes["accepted"] == 1
        assert summary.changes["written"] is True
        trial = db.session.scalar(sa.select(Trial))
        assert trial.recorded_by.username == "therapist"


def create_rows(app) -> list[tuple]:
    """Each record's create row: what, which, changes, who and why."""
    with app.app_context():
        return sorted(
            (e.table_name, e.record_id, e.changes, e.user_id, e.username, e.reason)
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "create")
            )
        )


def test_imported_records_have_the_audit_rows_the_orm_writes(app, empty_app):
    """The bulk import audits each record as a flush of the same record would."""
    follow_up_day = DAY + timedelta(weeks=12)
    text = trial_file(
        f'PF-1,1970,female,left,{DAY},insole,Orthèse — 3/4 100%,running,,6,3,"said '
        f'""better"" \\ à 2",{follow_up_day},2,markedly_improved,yes,patient',
        f"PF-1,,,,{DAY + timedelta(days=1)},taping,,other,cycling,5,5,,,,,,",
        f"PF-2,,,,{DAY},brace,,stairs_down,,7,2,,{follow_up_day},4,same,no,",
        header="patient_code,patient_birth_year,patient_sex,affected_side,"
        "trial_date,intervention,product,activity,activity_other,pain_without,"
        "pain_with,notes,followup_date,followup_pain,followup_rating,still_using,"
        "followup_source",
    )
    with empty_app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username="therapist"))
        report = import_trials(io.BytesIO(text.encode()), "parity.csv", user)
        assert report.written, [str(p) for p in report.problems]

    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username="therapist"))
        first = Patient(
            code="PF-1", birth_year=1970, sex="female", affected_side="left"
        )
        second = Patient(code="PF-2", birth_year=None, sex=None, affected_side=None)
        trials = [
            Trial(
                patient=first,
                trial_date=DAY,
                intervention="insole",
                product="Orthèse — 3/4 100%",
                activity="running",
                activity_other="",
                pain_without=6,
                pain_with=3,
                notes='said "better" \\ à 2',
            ),
            Trial(
                patient=first,
                trial_date=DAY + timedelta(days=1),
                intervention="taping",
                product="",
                activity="other",
                activity_other="cycling",
                pain_without=5,
                pain_with=5,
                notes="",
            ),
            Trial(
                patient=second,
                trial_date=DAY,
                intervention="brace",
                product="",
                activity="stairs_down",
                activity_other="",
                pain_without=7,
                pain_with=2,
                notes="",
            ),
        ]
        follow_ups = [
            FollowUp(
                trial=trials[0],
                follow_up_date=follow_up_day,
                pain=2,
                still_using=True,
                global_rating="markedly_improved",
                source="patient",
            ),
            FollowUp(
                trial=trials[2],
                follow_up_date=follow_up_day,
                pain=4,
                still_using=False,
                global_rating="same",
            ),
        ]
        with audit.acting_as(user):
            audit.give_reason("Imported from parity.csv")
            db.session.add_all([*trials, *follow_ups])
            db.session.commit()

    imported, through_orm = create_rows(empty_app), create_rows(app)
    assert len(imported) == 7
    assert imported == through_orm
    # Stored as the same text, too: what an auditor reading the table sees.
    assert stored_changes(empty_app) == stored_changes(app)


def stored_changes(app) -> list[tuple]:
    """Each create row's ``changes`` as the database holds the text."""
    with app.app_context():
        return sorted(
            db.session.execute(
                sa.select(
                    AuditEvent.table_name,
                    AuditEvent.record_id,
                    sa.cast(AuditEvent.changes, sa.Text),
                ).where(AuditEvent.action == "create")
            ).all()
        )


def test_a_refused_import_is_audited_but_writes_no_records(
    app, runner, records, tmp_path
):
    result = run_import(runner, tmp_path, trial_file(f"PF-1,{DAY},insole,squat,60,3"))
    assert result.exit_code == 1
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent))
        assert event.action == "import"
        assert event.changes["written"] is False
        assert event.changes["refused"] == 1
    assert_nothing_written(records)


def test_the_import_command_needs_an_existing_user(runner, records, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(trial_file(f"PF-1,{DAY},insole,squat,6,3"))
    result = runner.invoke(args=["import-trials", str(path), "--user", "nobody"])
    assert result.exit_code != 0
    assert "no active user named 'nobody'" in result.output
    assert_nothing_written(records)


def test_import_accepts_the_exports_derived_columns_and_ignores_them(
    runner, records, tmp_path
):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,999,yes,likely,admin",
        header=HEADER + ",trial_id,immediate_relief,prediction,recorded_by",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    with records.app.app_context():
        assert db.session.scalar(sa.select(Trial.id)) != 999


def test_import_accepts_the_follow_up_status_and_ignores_it(runner, records, tmp_path):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,lost", header=HEADER + ",follow_up_status"
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    with records.app.app_context():
        assert not db.session.scalar(sa.select(Trial)).lost


def test_a_row_marked_voided_is_refused(runner, records, tmp_path):
    text = trial_file(f"PF-1,{DAY},insole,squat,6,3,yes", header=HEADER + ",voided")
    result = run_import(runner, tmp_path, text)
    assert "line 2, column voided: voided trials are not imported" in result.output
    assert_nothing_written(records)


def test_import_function_reports_counts_for_the_upload_page(app, records, users):
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3", f"PF-1,{DAY},insole,squat,6,3", "PF-2,x,a,b,c,d"
    )
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "admin"))
        report = import_trials(io.BytesIO(text.encode()), "t.csv", user, dry_run=True)
    assert (report.rows, report.accepted, len(report.duplicates), report.refused) == (
        3,
        1,
        1,
        1,
    )
    assert not report.written
    assert_nothing_written(records)


@pytest.mark.parametrize(
    ("text", "guarded"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+41 79", "'+41 79"),
        ("-3 mm wedge", "'-3 mm wedge"),
        ("@cmd", "'@cmd"),
        ("\tindented", "'\tindented"),
        ("\rx", "'\rx"),
        ("\0x", "'\0x"),
        ("'=already quoted", "''=already quoted"),
        ("'plain apostrophe", "'plain apostrophe"),
        ("PF-0042", "PF-0042"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_formula_guard_and_its_removal_round_trip(text, guarded):
    assert formula_guard(text) == guarded
    assert strip_formula_guard(guarded) == text


@pytest.mark.parametrize("dry_run", [True, False])
def test_batches_see_the_patients_and_trials_of_earlier_batches(
    runner, records, tmp_path, monkeypatch, dry_run
):
    monkeypatch.setattr("tracker.csvio.importing.ROWS_PER_BATCH", 2)
    header = HEADER + ",patient_sex"
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,female",
        f"PF-2,{DAY},insole,squat,6,3,",
        f"PF-1,{DAY},taping,squat,6,3,female",
        f"PF-1,{DAY},insole,squat,6,3,",
        f"PF-1,{DAY},brace,squat,6,3,male",
        header=header,
    )
    result = run_import(runner, tmp_path, text, *(["--dry-run"] if dry_run else []))
    assert "3 accepted (2 new patients, 0 follow-ups), 1 duplicates" in result.output
    assert "line 5: same trial as" in result.output
    assert "line 6, column patient_sex: male differs from female" in result.output
    assert_nothing_written(records)


def test_batches_inserted_while_later_ones_are_matched_find_each_other(
    runner, records, tmp_path, monkeypatch
):
    # Batches of two: when a batch is matched, the one before it may still
    # be on its way into the database, and earlier ones are in it.
    monkeypatch.setattr("tracker.csvio.importing.ROWS_PER_BATCH", 2)
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3,female",
        f"PF-2,{DAY},insole,squat,6,3,",
        f"PF-3,{DAY},insole,squat,6,3,",
        f"PF-1,{DAY},taping,squat,6,3,female",
        f"PF-1,{DAY},insole,squat,6,3,",
        f"PF-3,{DAY},brace,squat,6,3,",
        f"PF-3,{DAY},brace,squat,6,3,",
        f"PF-1,{DAY},insole,squat,5,3,female",
        header=HEADER + ",patient_sex",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "6 accepted (3 new patients, 0 follow-ups), 2 duplicates" in result.output
    assert "line 6: same trial as trial 1; skipped" in result.output
    assert "line 8: same trial as line 7; skipped" in result.output
    assert records.count(Patient) == 3
    assert records.count(Trial) == 6
    with records.app.app_context():
        codes = db.session.scalars(
            sa.select(Patient.code).join(Trial).order_by(Trial.id)
        ).all()
    assert codes == ["PF-1", "PF-2", "PF-3", "PF-1", "PF-3", "PF-1"]


def test_an_error_while_inserting_leaves_nothing_written(
    runner, records, tmp_path, monkeypatch
):
    monkeypatch.setattr("tracker.csvio.importing.ROWS_PER_BATCH", 2)
    inserted = []

    def insert_then_fail(dbapi_connection, dialect, rows):
        if rows.table.name == "trial" and inserted:
            raise RuntimeError("disk full")
        inserted.append(rows.table.name)
        original(dbapi_connection, dialect, rows)

    original = bulk.insert
    monkeypatch.setattr("tracker.storage.bulk.insert", insert_then_fail)
    text = trial_file(*(f"PF-{number},{DAY},insole,squat,6,3" for number in range(6)))
    result = run_import(runner, tmp_path, text)
    assert isinstance(result.exception, RuntimeError)
    assert inserted == ["patient", "audit_event"]  # then the trials failed
    assert_nothing_written(records)


@pytest.mark.parametrize("good_rows", [0, 1])
def test_rows_refused_after_the_last_good_row_are_reported(
    runner, records, tmp_path, monkeypatch, good_rows
):
    monkeypatch.setattr("tracker.csvio.importing.ROWS_PER_BATCH", 1)
    rows = [f"PF-1,{DAY},insole,squat,6,3"] * good_rows
    text = trial_file(*rows, f"PF-2,{DAY},insole,squat,6", f"PF-3,{DAY},insole,squat")
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    assert f"{good_rows + 2} rows read" in result.output
    assert f"line {good_rows + 2}: 5 cells, but the header has 6 columns" in (
        result.output
    )
    assert f"line {good_rows + 3}: 4 cells" in result.output
    assert "no trials" not in result.output
    assert_nothing_written(records)


def test_a_code_differing_only_by_case_is_refused_by_line(runner, records, tmp_path):
    records.patient(code="PF-1")
    text = trial_file(
        f"PF-1,{DAY},insole,squat,6,3",
        f"pf-1,{DAY},taping,squat,6,2",
        f"KN-2,{DAY},insole,squat,6,3",
        f"kn-2,{DAY},taping,squat,6,2",
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    assert (
        "line 3, column patient_code: pf-1 differs only by case from PF-1"
        in result.output
    )
    assert (
        "line 5, column patient_code: kn-2 differs only by case from KN-2"
        in result.output
    )
    assert "Nothing was written." in result.output
    assert records.count(Trial) == 0
