"""The follow-ups-due list: status worked out from the dates, filters, order, links."""

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Trial, User, utcnow
from tracker.patient_reports import links

TODAY = date.today()
REPORT = {"pain": "2", "still_using": "yes", "global_rating": "markedly_improved"}


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def listed(client, query: str = "") -> list[dict[str, str]]:
    """The list's rows, each as {column heading: cell text}."""
    response = client.get(f"/follow-ups/due{query}")
    assert response.status_code == 200
    return table_rows(response.text)


def table_rows(page: str) -> list[dict[str, str]]:
    if "<table" not in page:
        return []

    def text(cell: str) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())

    head = page[page.index("<thead>") : page.index("</thead>")]
    headings = [text(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", head)]
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return [
        dict(
            zip(
                headings,
                map(text, re.findall(r"<td>(.*?)</td>", row, re.S)),
                strict=True,
            )
        )
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def codes(rows) -> list[str]:
    return [row["Patient"] for row in rows]


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


@pytest.fixture
def therapist(client, auth):
    """The client, logged in as the therapist."""
    auth.login()
    return client


@pytest.mark.parametrize(
    ("days", "status", "in_default_list"),
    [
        (41, "Awaiting (too early for the outcome)", False),
        (42, "Due", True),  # the minimum week, 6
        (112, "Due", True),  # the due week, 12, and 4 weeks' grace: 16 weeks
        (113, "Overdue", True),
    ],
)
def test_the_status_changes_on_the_days_the_weeks_set(
    therapist, records, days, status, in_default_list
):
    records.trial(records.patient(code="PF-EDGE"), trial_date=days_ago(days))
    [row] = listed(therapist, "?status=all")
    assert row["Status"] == status
    assert row["Due date"] == (days_ago(days) + timedelta(weeks=12)).isoformat()
    assert codes(listed(therapist)) == (["PF-EDGE"] if in_default_list else [])


def test_the_status_follows_the_clinics_follow_up_weeks(app, therapist, records):
    records.trial(records.patient(code="PF-EDGE"), trial_date=days_ago(56))
    app.config.update(FOLLOW_UP_MINIMUM_WEEKS=9, FOLLOW_UP_DUE_WEEKS=10)
    assert listed(therapist, "?status=awaiting")[0]["Status"].startswith("Awaiting")
    app.config.update(FOLLOW_UP_MINIMUM_WEEKS=2, FOLLOW_UP_DUE_WEEKS=3)
    assert listed(therapist, "?status=overdue")[0]["Status"] == "Overdue"


@pytest.fixture
def one_of_each(records):
    """A trial in each status without an outcome, and one with an outcome."""
    records.trial(records.patient(code="PF-AWAIT"), trial_date=days_ago(20))
    records.trial(records.patient(code="PF-DUE"), trial_date=days_ago(80))
    records.trial(records.patient(code="PF-OVER"), trial_date=days_ago(150))
    records.trial(
        records.patient(code="PF-LOST"),
        trial_date=days_ago(90),
        lost_at=utcnow(),
        lost_reason="moved abroad",
    )
    done = records.trial(records.patient(code="PF-DONE"), trial_date=days_ago(100))
    records.follow_up(done, weeks=12)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["PF-OVER", "PF-DUE"]),
        ("?status=", ["PF-OVER", "PF-DUE"]),
        ("?status=due", ["PF-DUE"]),
        ("?status=overdue", ["PF-OVER"]),
        ("?status=awaiting", ["PF-AWAIT"]),
        ("?status=lost", ["PF-LOST"]),
        ("?status=all", ["PF-OVER", "PF-LOST", "PF-DUE", "PF-AWAIT"]),
    ],
)
def test_each_status_filter_lists_its_trials_and_never_one_with_an_outcome(
    therapist, one_of_each, query, expected
):
    assert codes(listed(therapist, query)) == expected


def test_a_lost_trial_shows_as_lost_whatever_its_dates(therapist, one_of_each):
    [row] = listed(therapist, "?status=lost")
    assert row["Status"] == "Lost to follow-up"


def test_only_a_current_follow_up_from_the_minimum_week_on_takes_a_trial_off(
    therapist, records
):
    early = records.trial(records.patient(code="PF-EARLY"), trial_date=days_ago(90))
    records.follow_up(early, weeks=5)
    voided = records.trial(records.patient(code="PF-VOIDED"), trial_date=days_ago(95))
    records.follow_up(voided, weeks=8, voided_at=utcnow(), void_reason="wrong trial")
    on_time = records.trial(records.patient(code="PF-ONTIME"), trial_date=days_ago(99))
    records.follow_up(on_time, weeks=6)
    assert codes(listed(therapist)) == ["PF-VOIDED", "PF-EARLY"]


def test_voided_trials_and_trials_of_voided_patients_are_left_out(therapist, records):
    records.trial(records.patient(code="PF-KEPT"), trial_date=days_ago(80))
    records.trial(
        records.patient(code="PF-VOIDTRIAL"),
        trial_date=days_ago(80),
        voided_at=utcnow(),
        void_reason="entered twice",
    )
    records.trial(
        records.patient(
            code="PF-VOIDPATIENT", voided_at=utcnow(), void_reason="not our patient"
        ),
        trial_date=days_ago(80),
    )
    assert codes(listed(therapist, "?status=all")) == ["PF-KEPT"]


def test_the_aid_filter_lists_that_aid_only(therapist, records):
    records.trial(records.patient(code="PF-INSOLE"), trial_date=days_ago(80))
    records.trial(
        records.patient(code="PF-TAPE"), trial_date=days_ago(81), intervention="taping"
    )
    rows = listed(therapist, "?intervention=taping")
    assert codes(rows) == ["PF-TAPE"]
    assert rows[0]["Aid"] == "Taping"
    assert codes(listed(therapist, "?intervention=insole")) == ["PF-INSOLE"]


def test_only_my_patients_lists_the_trials_i_recorded(app, therapist, records):
    records.trial(
        records.patient(code="PF-MINE"),
        trial_date=days_ago(80),
        recorded_by_id=user_id(app, "therapist"),
    )
    records.trial(
        records.patient(code="PF-THEIRS"),
        trial_date=days_ago(81),
        recorded_by_id=user_id(app, "admin"),
    )
    records.trial(records.patient(code="PF-NOBODY"), trial_date=days_ago(82))
    assert codes(listed(therapist)) == ["PF-NOBODY", "PF-THEIRS", "PF-MINE"]
    assert codes(listed(therapist, "?mine=y")) == ["PF-MINE"]
    assert codes(listed(therapist, "?mine=y&status=overdue")) == []


def test_the_list_runs_by_due_date_then_patient_code(therapist, records):
    records.trial(records.patient(code="PF-C"), trial_date=days_ago(60))
    records.trial(records.patient(code="PF-B"), trial_date=days_ago(70))
    records.trial(records.patient(code="PF-A"), trial_date=days_ago(60))
    records.trial(records.patient(code="PF-D"), trial_date=days_ago(200))
    rows = listed(therapist)
    assert codes(rows) == ["PF-D", "PF-B", "PF-A", "PF-C"]
    assert [row["Due date"] for row in rows] == sorted(row["Due date"] for row in rows)


def sheet_path(client, trial_id: int) -> str:
    """The trial's report link, made by printing its sheet, as a path."""
    page = client.get(f"/trials/{trial_id}/sheet").text
    return re.search(r'id="sheet-url">http://localhost([^<]+)<', page)[1]


def test_the_report_link_column_says_out_used_or_none(app, therapist, records):
    out = records.trial(records.patient(code="PF-OUT"), trial_date=days_ago(20))
    sheet_path(therapist, out)
    used = records.trial(records.patient(code="PF-USED"), trial_date=days_ago(21))
    # The patient reported too early for an outcome: the trial stays listed.
    patient = app.test_client()
    assert patient.post(sheet_path(therapist, used), data=REPORT).status_code == 302
    revoked = records.trial(records.patient(code="PF-REVOKED"), trial_date=days_ago(22))
    sheet_path(therapist, revoked)
    therapist.post(f"/trials/{revoked}/report-link/revoke")
    records.trial(records.patient(code="PF-NONE"), trial_date=days_ago(23))
    rows = listed(therapist, "?status=awaiting")
    assert {row["Patient"]: row["Report link"] for row in rows} == {
        "PF-OUT": "Out",
        "PF-USED": "Used",
        "PF-REVOKED": "None",
        "PF-NONE": "None",
    }


def test_a_used_link_and_a_new_one_out_shows_out(app, therapist, records):
    trial = records.trial(records.patient(code="PF-AGAIN"), trial_date=days_ago(20))
    app.test_client().post(sheet_path(therapist, trial), data=REPORT)
    sheet_path(therapist, trial)  # printing again makes a new link
    assert listed(therapist, "?status=awaiting")[0]["Report link"] == "Out"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=forgotten", "Choose one of the listed statuses."),
        ("?status=outcome_recorded", "Choose one of the listed statuses."),
        ("?intervention=crutches", "Choose insoles, taping or a knee brace."),
        ("?status=%00", "Choose one of the listed statuses."),
    ],
)
def test_a_bad_filter_is_refused_beside_its_field_and_lists_nothing(
    therapist, one_of_each, query, message
):
    response = therapist.get(f"/follow-ups/due{query}")
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert table_rows(response.text) == []


def test_a_bad_page_number_is_a_400_not_an_error(therapist):
    response = therapist.get("/follow-ups/due?page=two&status=all")
    assert response.status_code == 400
    assert "'page' must be a whole number" in html.unescape(response.text)


def test_the_pages_keep_the_filters(therapist, records):
    for number in range(51):
        records.trial(trial_date=days_ago(60 + number), intervention="brace")
    page = therapist.get("/follow-ups/due?intervention=brace&mine=").text
    assert len(table_rows(page)) == 50
    assert "51 trials without an outcome match" in page
    assert "/follow-ups/due?page=2&amp;intervention=brace" in page
    second = therapist.get("/follow-ups/due?page=2&intervention=brace").text
    assert len(table_rows(second)) == 1


def test_the_filter_form_shows_the_filters_in_use(therapist, one_of_each):
    page = therapist.get("/follow-ups/due?status=lost&intervention=taping&mine=y").text
    assert '<option selected value="lost">' in page
    assert '<option selected value="taping">' in page
    assert re.search(r'<input checked[^>]*name="mine"', page)
    assert "No trials without an outcome match these filters." in page


def test_only_those_who_record_see_the_record_button(client, auth, records):
    trial = records.trial(trial_date=days_ago(80))
    auth.login("reviewer")
    page = client.get("/follow-ups/due").text
    assert len(table_rows(page)) == 1
    assert f"/trials/{trial}/follow-ups/new" not in page
    auth.logout()
    auth.login("therapist")
    assert f"/trials/{trial}/follow-ups/new" in client.get("/follow-ups/due").text


def test_an_open_link_past_its_last_day_shows_out_expired(app, therapist, records):
    # Links work until the trial date plus REPORT_LINK_WEEKS (26) weeks.
    last_day = records.trial(records.patient(code="PF-LAST"), trial_date=days_ago(182))
    expired = records.trial(records.patient(code="PF-GONE"), trial_date=days_ago(183))
    # Made while they still worked (the sheet of an expired trial makes none).
    with app.app_context():
        for trial in (last_day, expired):
            links.create_link(db.session.get(Trial, trial))
        db.session.commit()
    rows = listed(therapist, "?status=overdue")
    assert {row["Patient"]: row["Report link"] for row in rows} == {
        "PF-LAST": "Out",
        "PF-GONE": "Out, expired",
    }
