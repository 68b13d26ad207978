"""The dashboard keeps computed numbers only while the data and settings stand."""

import re
from datetime import date, timedelta

import pytest

import tracker.dashboard.content as content
import tracker.dashboard.views as views
from tests.helpers import settings_form, trial_form
from tracker.dashboard.cache import ComputedCache


@pytest.fixture
def computed(monkeypatch):
    """Count how often the page and the summary are really computed."""
    calls = {"page": 0, "summary": 0}

    def counting(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        monkeypatch.setattr(content, function.__name__, wrapper)

    counting("page", content.dashboard_content)
    counting("summary", content.dashboard_summary)
    return calls


@pytest.fixture
def clinic(records):
    today = date.today()
    trials = []
    for number in range(12):
        trial = records.trial(
            intervention=("insole", "taping", "brace")[number % 3],
            pain_without=6,
            pain_with=2 + number % 5,
            trial_date=today - timedelta(days=100 + number),
        )
        records.follow_up(trial, weeks=12, global_rating="markedly_improved")
        trials.append(trial)
    return trials


def ninety_days_ago() -> str:
    return (date.today() - timedelta(days=90)).isoformat()


def overall(client, **args) -> dict:
    response = client.get("/api/summary", query_string=args)
    assert response.status_code == 200
    return response.get_json()["overall"]


def page_trials(client) -> int:
    page = client.get("/dashboard/").text
    return int(re.search(r">(\d+)</a> trials from", page).group(1))


def test_the_same_view_of_the_same_data_is_computed_once(
    client, auth, clinic, computed
):
    auth.login("admin")
    assert page_trials(client) == page_trials(client) == 12
    assert overall(client) == overall(client)
    assert computed == {"page": 1, "summary": 1}
    overall(client, unit="trial")
    client.get("/dashboard/?intervention=brace")
    assert computed == {"page": 2, "summary": 2}


def test_saving_a_trial_is_seen_at_once(client, auth, records, clinic, computed):
    auth.login("admin")
    assert page_trials(client) == 12
    assert overall(client)["trials"] == 12
    response = client.post(
        f"/patients/{records.patient()}/trials/new",
        data=trial_form(trial_date=ninety_days_ago(), product="insole"),
    )
    assert response.status_code == 302
    assert page_trials(client) == 13
    assert overall(client)["trials"] == 13


def test_editing_a_trial_is_seen_at_once(client, auth, clinic, computed):
    auth.login("admin")
    before = overall(client)["immediate_relief"]["count"]
    page_trials(client)
    response = client.post(
        f"/trials/{clinic[0]}/edit",
        data=trial_form(
            trial_date=ninety_days_ago(),
            product="insole",
            pain_with="6",
            reason="misheard the score",
        ),
    )
    assert response.status_code == 302
    assert overall(client)["immediate_relief"]["count"] == before - 1
    page_trials(client)
    assert computed == {"page": 2, "summary": 2}


def test_voiding_a_trial_is_seen_at_once(client, auth, clinic, computed):
    auth.login("admin")
    assert page_trials(client) == 12
    assert overall(client)["trials"] == 12
    client.post(f"/trials/{clinic[0]}/void", data={"reason": "duplicate"})
    assert page_trials(client) == 11
    assert overall(client)["trials"] == 11


def test_a_follow_up_added_outside_the_app_is_seen(client, auth, records, clinic):
    auth.login("admin")
    assert overall(client)["long_term_benefit"]["n"] == 12
    records.follow_up(records.trial(), weeks=12)
    assert overall(client)["long_term_benefit"]["n"] == 13


def test_a_settings_change_is_seen_at_once(client, auth, clinic, computed):
    auth.login("admin")
    assert overall(client)["immediate_relief"]["count"] == 10  # all but 6 -> 6
    settings = settings_form(relief_criterion="mcid")
    response = client.post("/admin/settings", data=settings)
    assert response.status_code == 302
    # 6 -> 2, 3 or 4 is relief under "2 points or 30%"; 6 -> 5 and 6 -> 6 are not.
    assert overall(client)["immediate_relief"]["count"] == 8
    assert "2 points or 30%" in client.get("/dashboard/").text
    assert computed["summary"] == 2


def test_the_cache_can_be_switched_off(app, client, auth, clinic, computed):
    app.config["DASHBOARD_CACHE"] = False
    auth.login("admin")
    overall(client)
    overall(client)
    assert computed["summary"] == 2


def test_the_cache_keeps_the_most_recently_used_entries():
    cache = ComputedCache(size=2)
    cache.get_or_compute("a", lambda: 1)
    cache.get_or_compute("b", lambda: 2)
    assert cache.get_or_compute("a", lambda: "again") == 1
    cache.get_or_compute("c", lambda: 3)
    assert cache.get_or_compute("b", lambda: "recomputed") == "recomputed"
    assert cache.get_or_compute("a", lambda: "again") == "again"


def test_a_new_day_computes_the_follow_up_statuses_again(
    client, auth, records, clinic, computed, monkeypatch
):
    # Awaiting today (41 days), due from tomorrow (42 days).
    records.trial(trial_date=date.today() - timedelta(days=41))
    auth.login("admin")

    def completeness():
        response = client.get("/api/summary")
        return response.get_json()["completeness"]["overall"]

    today = completeness()
    assert completeness() == today
    assert computed["summary"] == 1

    class Tomorrow(date):
        @classmethod
        def today(cls):
            return date.today() + timedelta(days=1)

    monkeypatch.setattr(views, "date", Tomorrow)
    tomorrow = completeness()
    assert computed["summary"] == 2
    assert (tomorrow["awaiting"], tomorrow["due"]) == (
        today["awaiting"] - 1,
        today["due"] + 1,
    )
    page = client.get("/dashboard/").text
    assert (date.today() + timedelta(days=1)).isoformat() in page
