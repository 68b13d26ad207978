"""Readable figures: the patient chart in days with one legend entry per aid,
and the months chart marking months with too few cases."""

import json
import re
from datetime import date, timedelta
from html import unescape

import plotly.graph_objects as go
import pytest

from tracker.reporting import charts

TIME_OF_DAY = re.compile(r"%[HIMSLfp]")


def page_figure(page: str, name: str) -> dict:
    data = re.search(rf'id="chart-{name}"[^>]*data-figure="([^"]*)"', page).group(1)
    figure = json.loads(unescape(data))
    go.Figure(figure)  # every property one plotly knows
    return figure


def legend_entries(figure: dict) -> list[str]:
    return [trace["name"] for trace in figure["data"] if trace.get("showlegend", True)]


def assert_days_without_time(axis: dict) -> None:
    assert axis["type"] == "date"
    formats = [axis.get("tickformat", "")]
    formats += [stop["value"] for stop in axis.get("tickformatstops", [])]
    assert any(formats)
    assert not any(TIME_OF_DAY.search(value) for value in formats), formats


def test_same_day_trials_of_one_aid_give_one_legend_entry(client, auth, records):
    today = date.today()
    patient = records.patient()
    for intervention in ("insole", "insole", "taping"):
        records.trial(patient, intervention=intervention, trial_date=today)
    auth.login("therapist")
    figure = page_figure(client.get(f"/patients/{patient}").text, "patient-pain")
    assert sorted(legend_entries(figure)) == ["Insoles (foot orthoses)", "Taping"]
    insoles = [t for t in figure["data"] if t["name"].startswith("Insoles")]
    assert len({t["legendgroup"] for t in insoles}) == 1
    assert len({t["line"]["color"] for t in insoles}) == 1


def test_one_day_of_trials_is_an_axis_of_days_around_it(client, auth, records):
    day = date.today() - timedelta(days=3)
    patient = records.patient()
    records.trial(patient, trial_date=day)
    records.trial(patient, intervention="brace", trial_date=day)
    auth.login("therapist")
    figure = page_figure(client.get(f"/patients/{patient}").text, "patient-pain")
    axis = figure["layout"]["xaxis"]
    assert_days_without_time(axis)
    start, end = (date.fromisoformat(value) for value in axis["range"])
    assert start < day < end <= day + timedelta(days=7)
    assert axis["dtick"] >= 24 * 3600 * 1000  # no ticks between days
    for trace in figure["data"]:
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", x) for x in trace["x"])


def test_trials_months_apart_keep_an_axis_of_dates(client, auth, records):
    patient = records.patient()
    trial = records.trial(patient, trial_date=date.today() - timedelta(weeks=30))
    records.follow_up(trial, weeks=12)
    records.trial(patient, intervention="brace", trial_date=date.today())
    auth.login("therapist")
    figure = page_figure(client.get(f"/patients/{patient}").text, "patient-pain")
    assert_days_without_time(figure["layout"]["xaxis"])
    assert len(legend_entries(figure)) == 2
    assert [len(trace["x"]) for trace in figure["data"]] == [3, 2]


def month(label: str, trials: int, relief_n: int, benefit_n: int) -> dict:
    def rate(n):
        return {"count": n // 2, "n": n, "rate": (n // 2) / n if n else None}

    return {
        "label": label,
        "trials": trials,
        "immediate_relief": rate(relief_n),
        "long_term_benefit": rate(benefit_n),
    }


def test_months_with_fewer_than_ten_cases_are_hollow_points():
    figure = charts.months_figure(
        [
            month("Jan 2026", 2, 2, 1),
            month("Feb 2026", 30, 30, 9),
            month("Mar", 12, 10, 10),
        ]
    )
    go.Figure(figure)
    relief, benefit = figure["data"][1:]
    assert relief["marker"]["symbol"] == ["circle-open", "circle", "circle"]
    assert benefit["marker"]["symbol"] == ["circle-open", "circle-open", "circle"]
    assert relief["customdata"][0] == [1, 2]  # hover says "1 of 2"


@pytest.fixture
def small_months(records):
    """Three trials in one month, long ago: a rate from three cases."""
    for number in range(3):
        records.trial(
            intervention="taping",
            trial_date=date(2025, 3, 3 + number),
            pain_with=2 + number,
        )


def test_dashboard_says_what_the_hollow_points_mean(client, auth, small_months):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    figure = page_figure(page, "months")
    assert figure["data"][1]["marker"]["symbol"] == ["circle-open"]
    note = re.search(r'<p[^>]*id="months-note"[^>]*>([^<]+)<', page)
    assert note and "Hollow points: fewer than 10 cases that month" in note.group(1)
