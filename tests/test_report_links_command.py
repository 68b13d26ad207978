"""``flask report-links``: the report links of trials without an outcome as CSV."""

import csv
import io
import re
import stat
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import AuditEvent, ReportLink, User, utcnow

TODAY = date.today()
BASE = "https://physio.example.org/tracker"
LINK = re.compile(re.escape(BASE) + r"/r/(\d+-[\w-]{22})")
HEADER = ["patient_code", "trial_id", "trial_date", "aid", "due_date", "status", "link"]


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def rows_of(text: str) -> list[dict[str, str]]:
    """The CSV's rows by column; the header checked."""
    assert text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    assert next(reader) == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in reader]


def run(runner, *args, base: str | None = BASE):
    options = ["--base-url", base] if base else []
    return runner.invoke(args=["report-links", *options, *args])


def listed(runner, *args) -> list[dict[str, str]]:
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    return rows_of(result.stdout)


@pytest.fixture
def clinic(records):
    """Trials in every follow-up state, by patient code."""
    trial = {
        "awaiting": records.trial(
            records.patient(code="PF-AWAIT"), trial_date=days_ago(20)
        ),
        "due": records.trial(
            records.patient(code="PF-DUE"),
            trial_date=days_ago(80),
            intervention="taping",
        ),
        "overdue": records.trial(
            records.patient(code="PF-OVER"), trial_date=days_ago(150)
        ),
        # Past the 26 weeks a link works: no link is made or written.
        "expired": records.trial(
            records.patient(code="PF-OLD"), trial_date=days_ago(200)
        ),
        "lost": records.trial(
            records.patient(code="PF-LOST"),
            trial_date=days_ago(90),
            lost_at=utcnow(),
            lost_reason="moved abroad",
        ),
        "outcome": records.trial(
            records.patient(code="PF-DONE"), trial_date=days_ago(100)
        ),
        "voided": records.trial(
            records.patient(code="PF-VOID"),
            trial_date=days_ago(80),
            voided_at=utcnow(),
            void_reason="entered twice",
        ),
    }
    records.follow_up(trial["outcome"], weeks=12)
    return trial


def test_the_csv_has_a_row_per_due_trial_with_its_link(app, runner, clinic):
    [row] = listed(runner)
    token = LINK.fullmatch(row.pop("link"))[1]
    assert row == {
        "patient_code": "PF-DUE",
        "trial_id": str(clinic["due"]),
        "trial_date": days_ago(80).isoformat(),
        "aid": "taping",
        "due_date": (days_ago(80) + timedelta(weeks=12)).isoformat(),
        "status": "due",
    }
    with app.app_context():
        link = db.session.get(ReportLink, int(token.split("-")[0]))
        assert link.trial_id == clinic["due"] and link.open


@pytest.mark.parametrize(
    ("status", "codes"),
    [
        ("due", ["PF-DUE"]),
        ("overdue", ["PF-OVER"]),
        ("all", ["PF-OVER", "PF-DUE", "PF-AWAIT"]),
    ],
)
def test_each_status_lists_its_trials_never_lost_or_with_an_outcome(
    runner, clinic, status, codes
):
    rows = listed(runner, "--status", status)
    assert [row["patient_code"] for row in rows] == codes
    assert {row["status"] for row in rows} <= {"awaiting", "due", "overdue"}


def test_trials_past_their_links_last_day_are_left_out_and_counted(runner, clinic):
    result = run(runner, "--status", "overdue")
    assert "PF-OLD" not in result.stdout
    assert "Left out 1 trial whose links' last day has passed" in result.stderr


def test_each_link_opens_the_patients_report_page(app, runner, clinic):
    rows = listed(runner, "--status", "all")
    patient = app.test_client()
    for row in rows:
        page = patient.get(row["link"].removeprefix(BASE))
        assert page.status_code == 200
        assert 'name="pain"' in page.text


def test_a_second_run_gives_the_same_links_and_makes_no_new_one(
    runner, records, clinic
):
    first = listed(runner, "--status", "all")
    assert records.count(ReportLink) == 3
    again = run(runner, "--status", "all")
    assert rows_of(again.stdout) == first
    assert records.count(ReportLink) == 3
    assert "(0 new)" in again.stderr


def test_the_link_already_on_the_sheet_is_the_one_written(
    app, runner, client, auth, clinic
):
    auth.login()
    page = client.get(f"/trials/{clinic['due']}/sheet").text
    on_sheet = re.search(r'id="sheet-url">http://localhost/r/([^<]+)<', page)[1]
    [row] = listed(runner)
    assert LINK.fullmatch(row["link"])[1] == on_sheet


def test_a_used_link_is_replaced_by_a_new_one(app, runner, clinic):
    [row] = listed(runner)
    path = row["link"].removeprefix(BASE)
    report = {"pain": "2", "still_using": "yes", "global_rating": "same"}
    # Reported too early for an outcome (day 20): the trial stays awaiting.
    awaiting = listed(runner, "--status", "all")[-1]
    assert awaiting["patient_code"] == "PF-AWAIT"
    assert (
        app.test_client()
        .post(awaiting["link"].removeprefix(BASE), data=report)
        .status_code
        == 302
    )
    again = listed(runner, "--status", "all")
    assert again[-1]["patient_code"] == "PF-AWAIT"
    assert again[-1]["link"] != awaiting["link"]
    assert [r["link"] for r in again if r["patient_code"] == "PF-DUE"] == [row["link"]]
    assert app.test_client().get(path).status_code == 200


def test_public_url_gives_the_address_when_base_url_is_not_given(app, runner, clinic):
    app.config["PUBLIC_URL"] = "https://clinic.example.net/"
    [row] = rows_of(run(runner, base=None).stdout)
    assert re.fullmatch(r"https://clinic\.example\.net/r/\d+-[\w-]{22}", row["link"])
    [row] = listed(runner)  # --base-url wins
    assert LINK.fullmatch(row["link"])


def test_without_an_address_nothing_is_made_or_written(
    app, runner, records, clinic, tmp_path
):
    out = tmp_path / "links.csv"
    result = run(runner, "--out", str(out), base=None)
    assert result.exit_code == 2
    assert "No address for the links: give --base-url" in result.stderr
    assert "PUBLIC_URL" in result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert records.count(ReportLink) == 0
    assert export_events(app) == []


@pytest.mark.parametrize("base", ["physio.example.org", "javascript:alert(1)", "=1+1"])
def test_an_address_that_is_not_a_web_address_is_refused(runner, records, clinic, base):
    result = run(runner, base=base)
    assert result.exit_code == 2
    assert "is not a web address" in result.stderr
    assert records.count(ReportLink) == 0


def test_out_refuses_an_existing_file(runner, records, clinic, tmp_path):
    out = tmp_path / "links.csv"
    out.write_text("kept\n")
    result = run(runner, "--out", str(out))
    assert result.exit_code == 1
    assert "exists already" in result.stderr
    assert out.read_text() == "kept\n"
    assert records.count(ReportLink) == 0


def test_out_writes_a_file_its_owner_alone_may_read(runner, clinic, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "links.csv"
    result = run(runner, "--status", "all", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"Wrote 3 report links to {out} (3 new)." in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = rows_of(out.read_text(encoding="utf-8"))
    assert [row["patient_code"] for row in rows] == ["PF-OVER", "PF-DUE", "PF-AWAIT"]
    assert [path.name for path in out.parent.iterdir()] == ["links.csv"]  # no draft


def test_out_into_a_missing_folder_is_refused_before_any_link_is_made(
    runner, records, clinic, tmp_path
):
    result = run(runner, "--out", str(tmp_path / "nowhere" / "links.csv"))
    assert result.exit_code == 1
    assert "cannot be written: no such file or directory" in result.stderr
    assert records.count(ReportLink) == 0


def test_text_cells_are_guarded_against_formulas(runner, records):
    records.trial(records.patient(code="=HYPERLINK(1)"), trial_date=days_ago(80))
    [row] = listed(runner)
    assert row["patient_code"] == "'=HYPERLINK(1)"


def export_events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "export")
            )
        )


def test_the_export_is_audited_and_the_trail_holds_no_token(app, runner, clinic):
    rows = listed(runner, "--status", "all")
    [event] = export_events(app)
    changes = event.changes
    assert changes["export"] == "report_links"
    assert (changes["status"], changes["rows"], changes["complete"]) == ("all", 3, True)
    assert changes["via"] == "command line" and changes["os_user"]
    assert len(changes["links_created"]) == 3 and changes["expired"] == 1
    assert event.user_id is None
    with app.app_context():
        trail = db.session.scalars(sa.select(AuditEvent)).all()
        created = [e for e in trail if e.action == "report_link_created"]
        assert sorted(e.changes["link"] for e in created) == sorted(
            changes["links_created"]
        )
        for row in rows:
            mac = LINK.fullmatch(row["link"])[1].split("-", 1)[1]
            assert not any(mac in str(e.changes) for e in trail)


def test_with_user_the_links_and_the_export_are_audited_under_that_account(
    app, runner, users, clinic
):
    result = run(runner, "--user", "therapist")
    assert result.exit_code == 0, result.output
    with app.app_context():
        therapist = db.session.scalar(
            sa.select(User).where(User.username == "therapist")
        )
        [link] = db.session.scalars(sa.select(ReportLink)).all()
        assert link.created_by_id == therapist.id
        events = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action.in_(["export", "report_link_created"])
            )
        ).all()
        assert {event.username for event in events} == {"therapist"}


def test_an_unknown_user_is_refused_before_anything_is_made(runner, records, clinic):
    result = run(runner, "--user", "nobody")
    assert result.exit_code == 2
    assert "no active user named 'nobody'" in result.stderr
    assert records.count(ReportLink) == 0
