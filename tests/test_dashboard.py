"""The dashboard page, its charts, plotly.js served locally, the patient chart."""

import json
import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import plotly.graph_objects as go
import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Trial, User
from tracker.reporting.charts import rates_figure

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


@pytest.fixture
def clinic(records):
    """A few patients with trials of each aid, most followed up."""
    today = date.today()
    for number in range(24):
        patient = records.patient()
        trial = records.trial(
            patient,
            intervention=("insole", "taping", "brace")[number % 3],
            activity=("stairs_down", "running")[number % 2],
            product=("medial wedge", "sleeve")[number % 2],
            pain_without=5 + number % 4,
            pain_with=2 + number % 5,
            trial_date=today - timedelta(days=100 + 20 * number),
        )
        if number % 4:
            rating = "markedly_improved" if number % 3 == 1 else "same"
            records.follow_up(trial, weeks=12, global_rating=rating)
    return records


def figures(page: str) -> dict[str, dict]:
    """The figures on a page, by chart id, as charts.js will draw them."""
    return {
        name: json.loads(unescape(data))
        for name, data in re.findall(
            r'id="chart-([a-z_-]+)"[^>]*data-figure="([^"]*)"', page
        )
    }


def assert_valid_for_plotly(figure: dict) -> None:
    """Every property one plotly knows: the app writes figures as plain dicts."""
    go.Figure(figure)  # raises ValueError naming any unknown property or value


def assert_scripts_are_local_and_allowed(page: str) -> None:
    for attributes in SCRIPT.findall(page):
        source = re.search(r'src="([^"]*)"', attributes)
        if source:
            assert source.group(1).startswith("/"), source.group(1)
            assert not source.group(1).startswith("//"), source.group(1)
        else:
            assert "nonce=" in attributes, attributes
    assert "cdn" not in page.lower()
    assert not re.search(r'(src|href)="https?://', page)


def test_dashboard_shows_each_chart_with_plotly_served_by_the_app(client, auth, clinic):
    auth.login("reviewer")
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.text
    drawn = figures(page)
    assert set(drawn) == {
        "rates",
        "rule",
        "pain_change",
        "months",
        "roc",
        "funnel_product",
        "funnel_therapist",
    }
    for figure in drawn.values():
        assert_valid_for_plotly(figure)
    assert [trace["type"] for trace in drawn["rates"]["data"]] == ["bar", "bar"]
    assert drawn["rates"]["data"][0]["error_y"]["arrayminus"]
    assert drawn["rates"]["layout"]["shapes"][0]["y0"] == 0.25
    assert_scripts_are_local_and_allowed(page)
    plotly_url = re.search(r'<script src="(/[^"]*plotly[^"]*)"', page).group(1)
    library = client.get(plotly_url)
    assert library.status_code == 200
    assert library.mimetype == "text/javascript"
    assert library.cache_control.max_age >= 30 * 24 * 3600
    assert b"plotly" in library.data[:2000].lower()
    library.close()


def test_dashboard_states_the_counting_unit_and_its_counts(client, auth, clinic):
    auth.login("admin")
    page = client.get("/dashboard/").text
    assert (
        "per aid, each patient once per aid: their first assessable trial of that "
        "aid; all aids together, each patient once: their first assessable trial "
        "(of any aid)."
    ) in " ".join(page.split())
    assert re.search(r">24</a> trials from 24 patients", page)
    page = client.get("/dashboard/?unit=trial").text
    assert "every assessable trial; a patient may count more than once." in page
    assert 'value="trial" selected' in page or 'selected value="trial"' in page


def test_every_number_links_to_the_trials_behind_it(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/?activity=running").text
    numbers = page[page.index('id="counting-unit"') :]
    links = re.findall(r'href="(/trials/[^"]*)"', numbers)
    queries = [parse_qs(urlsplit(unescape(link)).query) for link in links]
    assert all(query.get("activity") == ["running"] for query in queries), links
    assert {"intervention": ["insole"], "activity": ["running"]} in queries
    taping = client.get("/trials/?intervention=taping&activity=running").text
    assert taping.count("<tr>") - 1 == 4


def test_product_rows_link_to_that_products_trials(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    table = page[page.index("By product") :]
    link = unescape(re.search(r'href="(/trials/[^"]*product=[^"]*)"', table).group(1))
    assert parse_qs(urlsplit(link).query)["product"] in (["medial wedge"], ["sleeve"])
    assert client.get(link).text.count("<tr>") - 1 == 12
    exported = client.get("/exports/trials.csv?product=sleeve").text
    assert len(exported.splitlines()) == 1 + 12


def listed_trials(page: str) -> set[int]:
    """The ids of the trials a trial list shows."""
    return {int(number) for number in re.findall(r'href="/trials/(\d+)"', page)}


def not_recorded_links(table: str) -> set[str]:
    """The links of a table's "(not recorded)" rows, as the browser reads them."""
    rows = re.findall(
        r'<th scope="row">\(not recorded\)</th>\s*<td>(?:\d+</td>\s*<td>)?'
        r'<a href="([^"]*)"',
        table,
    )
    return {unescape(link) for link in rows}


def test_a_blank_product_reads_not_recorded_and_links_to_the_trials_without_one(
    app, client, auth, clinic
):
    today = date.today()
    blank = {
        clinic.trial(product="", trial_date=today - timedelta(days=100 + n))
        for n in range(3)
    }
    clinic.follow_up(min(blank), weeks=12)
    auth.login("reviewer")
    page = client.get("/dashboard/?intervention=insole").text
    table = page[page.index(">By product<") : page.index(">By therapist<")]
    assert ">Not recorded<" not in table
    # The rates row and the funnel table's row both link to the same list.
    (link,) = not_recorded_links(table)
    assert len(re.findall(r"\(not recorded\)</th>", table)) == 2
    assert parse_qs(urlsplit(link).query) == {
        "intervention": ["insole"],
        "product": ["(not recorded)"],
    }
    assert listed_trials(client.get(link).text) == blank
    with app.app_context():
        without = set(db.session.scalars(sa.select(Trial.id).filter_by(product="")))
    assert without == blank


def test_trials_nobody_is_named_on_link_to_exactly_those_trials(
    app, client, auth, clinic
):
    with app.app_context():
        admin = db.session.scalar(sa.select(User.id).filter_by(username="admin"))
        everyone = set(db.session.scalars(sa.select(Trial.id)))
    named = clinic.trial(recorded_by_id=admin, product="sleeve")
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    start = page.index(">By therapist<")
    table = page[start : page.index("</section>", start)]
    (link,) = not_recorded_links(table)
    assert parse_qs(urlsplit(link).query) == {"therapist": ["(not recorded)"]}
    unnamed = client.get(link).text
    assert f"{len(everyone)} trials match." in unnamed
    assert named not in listed_trials(unnamed)


def test_relief_criteria_read_as_words_on_every_page_that_names_them(
    app, client, auth, clinic
):
    app.config["RELIEF_CRITERION"] = "mcid"
    auth.login("reviewer")
    page = unescape(client.get("/dashboard/").text)
    accuracy = page[page.index("Accuracy of the rule") : page.index("effect-heading")]
    names = re.findall(r'<th scope="row">([^<]*)</th>', accuracy)
    assert names == [
        "at least 1 point (any drop)",
        "at least 2 points",
        "at least 30%",
        "at least 2 points or 30% (MCID) (clinic setting)",
    ]
    assert "(relief criterion: at least 2 points or 30% (MCID))" in page
    for raw in ("two points", "thirty percent", ">mcid", "two_points"):
        assert raw not in page
    auth.login("admin")
    settings = client.get("/admin/settings").text
    assert ">at least 1 point (any drop)</option>" in settings
    assert ">at least 2 points or 30% (MCID)</option>" in settings
    assert 'value="mcid"' in settings  # the stored code is unchanged
    trial = client.get(f"/patients/{clinic.patient()}/trials/new").text
    assert "Relief criterion: at least 2 points or 30% (MCID)." in trial


def test_statistical_terms_are_explained_in_plain_words_on_the_page(
    client, auth, clinic
):
    auth.login("reviewer")
    page = unescape(client.get("/dashboard/").text)
    start = page.index('id="glossary"')
    glossary = page[start : page.index("</section>", start)]
    explained = dict(re.findall(r"<dt[^>]*>([^<]+)</dt><dd[^>]*>([^<]+)<", glossary))
    for name in (
        "Sensitivity",
        "Specificity",
        "PPV",
        "NPV",
        "LR+",
        "LR−",
        "AUC",
        "95% CI",
        "Wilson interval",
        "Cluster interval (‡)",
        "Funnel plot limits",
    ):
        assert len(explained[name]) > 40, name
    assert explained["PPV"].startswith("Positive predictive value: ")
    abbreviations = re.findall(r'<abbr title="([^"]+)">([^<]+)</abbr>', page)
    titles = {text: title for title, text in abbreviations}
    for shown in ("PPV", "NPV", "LR+", "LR−", "AUC", "Sensitivity", "Specificity"):
        assert titles[shown].startswith(f"{shown}: "), shown
    assert titles["95% CI"].startswith("95% CI: confidence interval")
    assert titles["Wilson intervals"].startswith("Wilson interval: ")
    assert titles["99.8% limits"].startswith("Funnel plot limits: ")
    assert '<a href="#glossary">' in page


def test_every_chart_has_a_text_or_table_equivalent(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    charts = re.findall(r'<div class="dashboard-chart" id="chart-([a-z_]+)"', page)
    assert len(charts) >= 4
    for name in charts:
        assert f'<figure class="mb-2" aria-describedby="chart-{name}-text">' in page
        caption = re.search(rf'<figcaption id="chart-{name}-text"[^>]*>([^<]+)<', page)
        assert caption and len(caption.group(1)) > 20
    assert "Of patients who felt relief at once" in page
    assert page.count("<table") >= 7


def test_dashboard_with_no_trials_is_a_friendly_page(client, auth):
    auth.login("reviewer")
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert "No trials to count yet" in response.text
    assert "data-figure" not in response.text


def test_dashboard_explains_bad_filters(client, auth, clinic):
    auth.login("reviewer")
    response = client.get("/dashboard/?since=2025-02-30&intervention=crutches")
    assert response.status_code == 200
    assert "need correcting" in response.text
    assert "Not a valid date value" in response.text
    assert "data-figure" not in response.text


@pytest.mark.parametrize(
    ("role", "status"), [("therapist", 403), ("reviewer", 200), ("admin", 200)]
)
def test_dashboard_is_for_reviewers_and_admins(client, auth, role, status):
    auth.login(role)
    assert client.get("/dashboard/").status_code == status
    nav = client.get("/patients/").text
    assert ('href="/dashboard/"' in nav) is (status == 200)


def test_patient_page_charts_pain_per_trial_and_follow_up(client, auth, records):
    patient = records.patient()
    trial = records.trial(patient, pain_without=7, pain_with=3)
    records.follow_up(trial, weeks=6, pain=4)
    records.follow_up(trial, weeks=12, pain=2)
    auth.login("therapist")
    page = client.get(f"/patients/{patient}").text
    assert_valid_for_plotly(figures(page)["patient-pain"])
    (trace,) = figures(page)["patient-pain"]["data"]
    assert trace["y"] == [7, 3, 4, 2]
    assert_scripts_are_local_and_allowed(page)


def test_rates_figure_bars_carry_the_wilson_interval(app, clinic):

    from tracker.reporting.filters import TrialFilters
    from tracker.reporting.summary import summary

    with app.test_request_context():
        result = summary(TrialFilters())
    benefit = rates_figure(result)["data"][0]
    group = result.groups[0]["long_term_benefit"]
    rate, error_bars = benefit["y"][0], benefit["error_y"]
    assert rate == pytest.approx(group["rate"])
    assert rate + error_bars["array"][0] == pytest.approx(group["wilson"][1])
    assert rate - error_bars["arrayminus"][0] == pytest.approx(group["wilson"][0])
    assert clinic.count(Trial) == 24


def test_sections_are_numbered_in_order_with_completeness_after_the_rule(
    client, auth, clinic
):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    headings = re.findall(r'<h2 id="[a-z-]+">(\d+)\. ([^<]+)</h2>', page)
    assert [int(number) for number, _ in headings] == list(range(1, 10))
    assert headings[2][1] == "Does immediate relief predict long-term benefit?"
    assert headings[3][1] == "Follow-up completeness"
    assert "Outcomes are recorded for" in page
