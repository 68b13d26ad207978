"""Follow-up completeness in /api/summary, ``report --json``, the report, the page."""

import json
import re
from datetime import date, timedelta

import pytest

import analysis
from tests.test_patient_reports import REPORT, sheet_link
from tracker.extensions import db
from tracker.models import Trial, utcnow

COUNTS = ("counted", "outcome_clinic", "outcome_patient")
STATUSES = ("awaiting", "due", "overdue", "lost")
RATES = ("follow_up", "follow_up_with_relief", "follow_up_without_relief")


def ago(days: int) -> date:
    return date.today() - timedelta(days=days)


@pytest.fixture
def clinic(users, records):
    """Every status, counted by hand below (the outcome is due from day 42 to 112).

    Relief is 6 -> 3, no relief 6 -> 6; each trial is its own patient's but
    one, a repeat insole trial that counts under the trial unit only.
    """
    no_relief = {"pain_with": 6}
    trials = {}

    def trial(name, days, **overrides):
        trials[name] = records.trial(trial_date=ago(days), **overrides)
        return trials[name]

    records.follow_up(trial("clinic", 100), weeks=12, source="clinic")
    records.follow_up(trial("patient", 100), weeks=12, source="patient")
    trial("due", 100, **no_relief)
    trial("overdue", 200, **no_relief)
    trial("awaiting", 10)
    trial("lost", 60, lost_at=utcnow(), lost_reason="moved away")
    with records.app.app_context():
        first_patient = db.session.get(Trial, trials["clinic"]).patient_id
    trial("repeat", 50, patient_id=first_patient)
    records.follow_up(
        trial("taping outcome", 150, intervention="taping", **no_relief),
        weeks=12,
        global_rating="same",
    )
    trial("taping overdue", 150, intervention="taping")
    return trials


def api(client, **args) -> dict:
    response = client.get("/api/summary", query_string=args)
    assert response.status_code == 200, response.text
    return response.get_json()


def figures(row: dict) -> dict:
    """A completeness row as counts and (count, n) pairs."""
    return {name: row[name] for name in (*COUNTS, *STATUSES)} | {
        rate: (row[rate]["count"], row[rate]["n"]) for rate in RATES
    }


INSOLE = {
    "counted": 6,
    "outcome_clinic": 1,
    "outcome_patient": 1,
    "awaiting": 1,
    "due": 1,
    "overdue": 1,
    "lost": 1,
    "follow_up": (2, 5),
    "follow_up_with_relief": (2, 3),
    "follow_up_without_relief": (0, 2),
}
TAPING = {
    "counted": 2,
    "outcome_clinic": 1,
    "outcome_patient": 0,
    "awaiting": 0,
    "due": 0,
    "overdue": 1,
    "lost": 0,
    "follow_up": (1, 2),
    "follow_up_with_relief": (0, 1),
    "follow_up_without_relief": (1, 1),
}
BRACE = dict.fromkeys((*COUNTS, *STATUSES), 0) | dict.fromkeys(RATES, (0, 0))
OVERALL = {
    "counted": 8,
    "outcome_clinic": 2,
    "outcome_patient": 1,
    "awaiting": 1,
    "due": 1,
    "overdue": 2,
    "lost": 1,
    "follow_up": (3, 7),
    "follow_up_with_relief": (2, 4),
    "follow_up_without_relief": (1, 3),
}


def test_api_counts_completeness_per_aid_and_overall_as_counted_by_hand(
    client, auth, clinic
):
    auth.login("reviewer")
    completeness = api(client)["completeness"]

    assert completeness["as_of"] == date.today().isoformat()
    assert [g["intervention"] for g in completeness["groups"]] == [
        "insole",
        "taping",
        "brace",
    ]
    assert [figures(g) for g in completeness["groups"]] == [INSOLE, TAPING, BRACE]
    assert figures(completeness["overall"]) == OVERALL


def test_the_follow_up_rate_carries_its_wilson_interval(client, auth, clinic):
    auth.login("reviewer")
    follow_up = api(client)["completeness"]["overall"]["follow_up"]

    expected = analysis.proportion(3, 7)
    assert follow_up["rate"] == pytest.approx(3 / 7)
    assert follow_up["wilson"] == pytest.approx(list(expected.wilson))
    assert follow_up["exact"] == pytest.approx(list(expected.exact))
    brace = api(client)["completeness"]["groups"][2]["follow_up"]
    assert (brace["rate"], brace["wilson"], brace["exact"]) == (None, None, None)


def test_the_trial_unit_counts_the_repeat_trial(client, auth, clinic):
    auth.login("reviewer")
    insole = api(client, unit="trial")["completeness"]["groups"][0]

    assert figures(insole) == INSOLE | {
        "counted": 7,
        "due": 2,
        "follow_up": (2, 6),
        "follow_up_with_relief": (2, 4),
    }


def test_filters_apply_to_completeness(client, auth, clinic):
    auth.login("reviewer")
    taping = api(client, intervention="taping")["completeness"]

    assert figures(taping["overall"]) == TAPING
    assert figures(taping["groups"][0]) == BRACE


def test_report_json_gives_the_same_completeness(runner, client, auth, clinic):
    auth.login("reviewer")
    result = runner.invoke(args=["report", "--json"])

    assert result.exit_code == 0, result.output
    from_report = json.loads(result.output)["completeness"]
    assert from_report == api(client)["completeness"]
    assert figures(from_report["overall"]) == OVERALL


def test_report_prints_the_completeness_table_and_its_sentence(runner, clinic):
    result = runner.invoke(args=["report"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("Follow-up completeness on ") for line in lines)
    insole = next(
        line for line in lines if line.startswith("insole ") and "2 of 5" in line
    )
    assert insole.split()[:8] == ["insole", "6", "1", "1", "1", "1", "1", "1"]
    low, high = analysis.proportion(3, 7).wilson
    assert (
        f"Outcomes are recorded for 43% ({low * 100:.0f}–{high * 100:.0f}%) of the "
        "7 trials whose follow-up has come due; 50% with relief at once against "
        "33% without, so missing outcomes could bias the rule check."
    ) in result.output


def test_dashboard_shows_the_completeness_table_and_sentence(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text

    section = page[page.index('id="completeness-heading"') :]
    section = section[: section.index("</section>")]
    assert "Follow-up completeness" in section
    assert "could bias the rule check" in section
    assert date.today().isoformat() in section
    headers = re.findall(r"<th scope=\"(col|row)\">([^<]+)</th>", section)
    assert ("row", "All aids") in headers
    assert ("col", "Outcome reported by the patient") in headers
    rows = re.findall(r"<tr>\s*<th scope=\"row\">([^<]+)</th>(.*?)</tr>", section, re.S)
    cells = {label: re.findall(r"<td>([^<]*)", body) for label, body in rows}
    assert [cell.strip() for cell in cells["All aids"][:7]] == [
        "8",
        "2",
        "1",
        "1",
        "1",
        "2",
        "1",
    ]


def test_marking_a_trial_lost_moves_it_from_due_to_lost(client, auth, clinic):
    auth.login("admin")
    before = api(client)["completeness"]["overall"]
    client.get("/dashboard/")

    response = client.post(
        f"/trials/{clinic['due']}/lost",
        data={"mark": "lost", "reason": "moved away, cannot be reached"},
    )

    assert response.status_code == 302
    after = api(client)["completeness"]["overall"]
    assert (after["due"], after["lost"]) == (before["due"] - 1, before["lost"] + 1)
    page = client.get("/dashboard/").text
    section = page[page.index('id="completeness-heading"') :]
    row = re.search(r"All aids</th>(.*?)</tr>", section, re.S).group(1)
    assert [c.strip() for c in re.findall(r"<td>([^<]*)", row)][4:7] == [
        "0",
        "2",
        "2",
    ]


def test_a_patients_report_counts_as_an_outcome_from_the_patient(
    app, client, auth, clinic
):
    auth.login("admin")
    before = api(client)["completeness"]["overall"]
    link = sheet_link(client, clinic["due"])

    assert app.test_client().post(link, data=REPORT).status_code == 302

    after = api(client)["completeness"]["overall"]
    assert after["outcome_patient"] == before["outcome_patient"] + 1
    assert after["due"] == before["due"] - 1
    assert after["follow_up"]["count"] == before["follow_up"]["count"] + 1


def completeness_of(follow_up, with_relief, without_relief) -> dict:
    """A completeness dict with only what the sentence reads: (count, n) pairs."""

    def rate(count, n):
        if not n:
            return {"count": count, "n": n, "rate": None, "wilson": None}
        wilson = analysis.proportion(count, n).wilson
        return {"count": count, "n": n, "rate": count / n, "wilson": list(wilson)}

    return {
        "overall": {
            "follow_up": rate(*follow_up),
            "follow_up_with_relief": rate(*with_relief),
            "follow_up_without_relief": rate(*without_relief),
        }
    }


@pytest.mark.parametrize(
    ("rates", "sentence"),
    [
        (
            ((0, 0), (0, 0), (0, 0)),
            "No counted trial has come due for its outcome follow-up yet.",
        ),
        (
            ((1, 1), (1, 1), (0, 0)),
            "Outcomes are recorded for the only trial whose follow-up has come due, "
            "so none is missing from the rule check.",
        ),
        (
            ((146, 240), (84, 120), (62, 120)),
            "Outcomes are recorded for 61% (55–67%) of the 240 trials whose "
            "follow-up has come due; 70% with relief at once against 52% without, "
            "so missing outcomes could bias the rule check.",
        ),
        (
            ((120, 200), (62, 100), (58, 100)),
            "Outcomes are recorded for 60% (53–67%) of the 200 trials whose "
            "follow-up has come due; 62% with relief at once and 58% without, "
            "a similar share in both.",
        ),
        (
            ((3, 5), (3, 5), (0, 0)),
            "Outcomes are recorded for 60% (23–88%) of the 5 trials whose follow-up "
            "has come due; all of them had relief at once, so follow-up cannot be "
            "compared with and without relief.",
        ),
        (
            ((3, 5), (0, 0), (3, 5)),
            "Outcomes are recorded for 60% (23–88%) of the 5 trials whose follow-up "
            "has come due; none of them had relief at once, so follow-up cannot be "
            "compared with and without relief.",
        ),
    ],
)
def test_the_sentence_reads_the_follow_up_aloud(rates, sentence):
    from tracker.reporting.summary import completeness_in_words

    assert completeness_in_words(completeness_of(*rates)) == sentence
