"""The forms as a tablet uses them: one tap per score, plausible dates, clear pages."""

import re
from datetime import date

import pytest

from tests.helpers import follow_up_form, trial_form
from tracker.models import FollowUp, Trial


@pytest.fixture
def patient(records):
    return records.patient()


def test_pain_scores_are_eleven_buttons_posting_the_number(client, auth, patient):
    auth.login()
    page = client.get(f"/patients/{patient}/trials/new").text
    for field in ("pain_without", "pain_with"):
        scores = re.findall(
            rf'type="radio" name="{field}" id="[^"]+" value="(\d+)"', page
        )
        assert scores == [str(score) for score in range(11)]
    # The activity and the aid are one tap each too.
    assert 'type="radio" name="activity" id="activity" value="single_leg_squat"' in page
    assert 'type="radio" name="intervention" id="intervention" value="insole"' in page


def test_a_refused_form_keeps_the_chosen_scores(client, auth, patient):
    auth.login()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(trial_date="1999-12-31", pain_without="7", pain_with="2"),
    )
    assert 'id="pain_without-7" value="7" autocomplete="off" checked' in response.text
    assert 'id="pain_with-2" value="2" autocomplete="off" checked' in response.text


def test_other_activity_is_hidden_until_other_is_chosen(client, auth, patient):
    auth.login()
    url = f"/patients/{patient}/trials/new"
    hidden = '<div data-shown-when="activity=other" hidden>'
    assert hidden in client.get(url).text
    refused = client.post(url, data=trial_form(activity="other", activity_other=""))
    assert "Describe the activity when you choose Other." in refused.text
    assert hidden not in refused.text


@pytest.mark.parametrize("day", ["1900-01-01", "1999-12-31"])
def test_a_trial_date_before_2000_is_refused_beside_the_field(
    client, auth, records, patient, day
):
    auth.login()
    response = client.post(
        f"/patients/{patient}/trials/new", data=trial_form(trial_date=day)
    )
    assert 'id="trial_date-error"' in response.text
    assert "Enter a date from 2000 on." in response.text
    assert records.count(Trial) == 0


def test_a_trial_on_the_first_day_of_2000_is_taken(client, auth, records, patient):
    auth.login()
    client.post(
        f"/patients/{patient}/trials/new", data=trial_form(trial_date="2000-01-01")
    )
    assert records.count(Trial) == 1


def test_a_follow_up_date_before_2000_is_refused(client, auth, records):
    trial = records.trial(trial_date=date(2000, 1, 1))
    auth.login()
    response = client.post(
        f"/trials/{trial}/follow-ups/new",
        data=follow_up_form(follow_up_date="1900-01-01"),
    )
    assert "Enter a date from 2000 on." in response.text
    assert records.count(FollowUp) == 0


def test_the_first_run_page_shows_no_login_banner(client):
    response = client.get("/", follow_redirects=True)
    assert "Create the first administrator" in response.text
    assert "Please log in" not in response.text


def test_csv_downloads_name_one_charset(client, auth, records):
    records.trial()
    auth.login("admin")
    for url in ("/exports/trials.csv", "/exports/followups.csv", "/exports/audit.csv"):
        assert client.get(url).headers["Content-Type"] == "text/csv; charset=utf-8"


def test_the_menu_collapses_behind_a_button_on_a_tablet(client, auth):
    auth.login("admin")
    page = client.get("/patients/").text
    assert 'class="navbar navbar-expand-lg' in page
    assert 'data-bs-target="#main-menu"' in page
    menu = page[page.index('id="main-menu"') :]
    assert menu.index("Settings") < menu.index("Log out") < menu.index("</nav>")


def test_a_product_named_like_the_no_product_filter_is_refused(
    client, auth, records, patient
):
    auth.login()
    response = client.post(
        f"/patients/{patient}/trials/new",
        data=trial_form(product=" (Not recorded) "),
    )
    assert "stands for trials without a product: leave it blank." in response.text
    assert records.count(Trial) == 0
