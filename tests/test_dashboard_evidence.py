"""The dashboard's evidence for issue 17: the cut-off curve, funnels, small groups."""

import re
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest

import analysis
from tests.analysis.builders import make_trials
from tests.helpers import settings_form
from tests.test_dashboard import figures
from tracker.reporting import charts


def scored_trials(rows: int = 60):
    """Trials whose bigger drops in pain go with benefit more often than not."""
    return make_trials(
        {
            "pain_without": 7,
            "pain_with": 7 - number % 6,
            "product": ("Formthotics", "Vasyli", "Sleeve")[number % 3],
            "outcome_rating": (
                "markedly_improved" if (number % 6) + (number % 4) >= 5 else "same"
            ),
        }
        for number in range(rows)
    )


@pytest.fixture
def clinic(records):
    """Patients with trials of each aid and two products, most followed up."""
    today = date.today()
    for number in range(36):
        patient = records.patient()
        trial = records.trial(
            patient,
            intervention=("insole", "taping", "brace")[number % 3],
            product=("medial wedge", "sleeve", "")[number % 3],
            pain_without=5 + number % 4,
            pain_with=1 + number % 6,
            trial_date=today - timedelta(days=100 + 10 * number),
        )
        if number % 5:
            rating = "markedly_improved" if number % 6 < 3 else "same"
            records.follow_up(trial, weeks=12, global_rating=rating)
    return records


def test_roc_figure_draws_both_scales_the_best_cut_offs_and_the_clinic_criterion():
    trials = scored_trials()
    check = analysis.cut_off_check(trials)
    figure = charts.roc_figure(check, analysis.rule_check(trials), "any drop")
    go.Figure(figure)
    names = [trace["name"] for trace in figure["data"]]
    assert names[0] == "Chance (area 0.5)"
    assert names[1] == f"Drop in points (area {check.points.auc.value:.2f})"
    assert names[2].startswith("Drop in percent (area ")
    assert "Best cut-off (Youden)" in names
    assert "Clinic's criterion (any drop)" in names
    points = figure["data"][1]
    assert points["x"] == list(check.points.fpr)
    assert points["text"][0] == "no trial counted as relieved"
    best = figure["data"][names.index("Best cut-off (Youden)")]
    assert best["y"][0] == check.points.best.sensitivity.value
    assert figure["layout"]["xaxis"]["tickformat"] == ".0%"


def test_roc_figure_without_outcomes_shows_only_the_chance_line():
    trials = make_trials([{}, {}])
    check = analysis.cut_off_check(trials)
    figure = charts.roc_figure(check, analysis.rule_check(trials), "any drop")
    go.Figure(figure)
    assert [trace["name"] for trace in figure["data"]] == ["Chance (area 0.5)"]


@pytest.mark.parametrize(
    ("scale", "threshold", "words"),
    [
        ("points", 1, "relief = a drop of at least 1 point"),
        ("points", 3, "relief = a drop of at least 3 points"),
        ("points", 0, "relief = no rise in pain"),
        ("points", -2, "relief = a rise of at most 2"),
        ("percent", 33.333, "relief = a drop of at least 33%"),
    ],
)
def test_each_point_of_the_curve_says_what_counts_as_relief(scale, threshold, words):
    assert charts.drop_in_words(scale, threshold) == words


def funnel_of(groups: dict[str, tuple[int, int]]):
    """A funnel of ``{product: (benefit, outcomes)}`` and the rows the page shows."""
    rates = {
        "product": list(groups),
        "long_term_benefit_count": [count for count, _ in groups.values()],
        "long_term_benefit_n": [n for _, n in groups.values()],
    }
    funnel = analysis.funnel_plot_data(pd.DataFrame(rates))
    rows = [
        {
            "label": group["product"],
            "count": group["long_term_benefit_count"],
            "n": group["long_term_benefit_n"],
            "rate": group["rate"],
            "position": group["position"],
        }
        for group in funnel.groups.to_dict("records")
    ]
    return funnel, rows


def test_funnel_figure_draws_the_limits_the_pooled_rate_and_each_group():
    funnel, rows = funnel_of({"A": (2, 40), "B": (30, 60), "C": (9, 20), "D": (0, 0)})
    figure = charts.funnel_figure(funnel, rows, "Long-term benefit by product")
    go.Figure(figure)
    names = [trace["name"] for trace in figure["data"] if trace.get("showlegend", 1)]
    assert names[:3] == ["99.8% limits", "95% limits", "Pooled rate (34%)"]
    dots = {
        trace["name"]: trace["text"]
        for trace in figure["data"]
        if trace["mode"] == "markers"
    }
    assert dots == {
        "Within the 95% limits": ["C"],
        "Beyond the 95% limits": ["B"],
        "Beyond the 99.8% limits": ["A"],
    }
    lines = [trace for trace in figure["data"] if trace["mode"] == "lines"]
    assert lines[0]["x"] == funnel.limits["n"].tolist()


def test_funnel_figure_without_outcomes_is_empty_but_valid():
    funnel, rows = funnel_of({"A": (0, 0)})
    figure = charts.funnel_figure(funnel, rows, "Long-term benefit by product")
    go.Figure(figure)
    assert figure["data"] == []


def test_products_and_therapists_get_a_funnel_not_a_verdict_each(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    drawn = figures(page)
    for name in ("funnel_product", "funnel_therapist"):
        go.Figure(drawn[name])
    groups = page[page.index('id="tables-heading"') :]
    by_product = groups[groups.index(">By product<") : groups.index("</section>")]
    assert "Against the band" not in by_product
    assert "too few to judge" not in by_product
    assert "badge" not in by_product
    assert "Table of the funnel plot" in by_product
    assert "within the 95% limits" in by_product
    by_activity = groups[groups.index(">By activity<") : groups.index(">By product<")]
    assert "Against the band" in by_activity
    assert "Products and therapists do not" in groups


def test_funnel_counts_every_trial_whatever_the_counting_unit(client, auth, clinic):
    patient = clinic.patient()
    for weeks in (30, 20):
        trial = clinic.trial(
            patient,
            intervention="taping",
            product="sleeve",
            trial_date=date.today() - timedelta(weeks=weeks),
        )
        clinic.follow_up(trial, weeks=12)
    auth.login("reviewer")
    for unit in ("patient", "trial"):
        page = client.get(f"/dashboard/?unit={unit}").text
        (sleeve,) = [
            trace
            for trace in figures(page)["funnel_product"]["data"]
            if "sleeve" in trace.get("text", [])
        ]
        # 12 + 2 sleeve trials, of which those numbered 10 and 25 lack an outcome.
        assert sleeve["x"][sleeve["text"].index("sleeve")] == 14 - 2
        table = page[page.index(">By product<") : page.index(">By therapist<")]
        assert re.search(r'<th scope="row">sleeve</th>\s*<td><a [^>]*>14</a>', table)
        assert "every trial counts, whatever the counting unit" in table


def test_dashboard_renders_with_the_band_at_its_edges(client, auth, clinic):
    auth.login("admin")
    response = client.post(
        "/admin/settings", data=settings_form(band_low="0", band_high="100")
    )
    assert response.status_code == 302
    page = client.get("/dashboard/")
    assert page.status_code == 200
    drawn = figures(page.text)
    band = drawn["rates"]["layout"]["shapes"][0]
    assert (band["y0"], band["y1"]) == (0, 1)
    for figure in drawn.values():
        go.Figure(figure)


def test_the_evidence_sections_read_aloud(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    for heading in (
        "The aids compared",
        "How large is the difference?",
        "Which cut-off predicts best here?",
        "Pain at the follow-up and still using the aid",
    ):
        assert heading in page
    effect = re.search(r'<p id="effect-words"[^>]*>([^<]+)</p>', page).group(1)
    assert "patients who felt relief at once" in effect
    assert "after Holm&#39;s adjustment" in page
    assert "Holm-adjusted p" in page
    readings = page[page.index('id="band-readings"') :]
    readings = readings[: readings.index("</ul>")]
    assert readings.count("<li>") == 4
    assert "Bayesian, starting from a uniform prior" in readings
    assert "still using the aid" in page
    assert "Best drop in points: at least" in page
    assert "Clinic&#39;s criterion: any drop in pain" in page


def test_immediate_relief_gets_no_band_verdict(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    readings = page[page.index('id="band-readings"') :]
    readings = readings[: readings.index("</ul>")]
    assert "Long-term benefit" in readings
    assert "relief" not in readings.lower()
    assert "only that rate gets a verdict" in page


def test_notes_say_what_ppv_npv_lr_and_auc_mean(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    notes = re.findall(
        r'<details class="small mb-3 what-this-means">(.*?)</details>', page, re.S
    )
    assert len(notes) == 2
    accuracy, cut_off = notes
    assert "<summary>What this means</summary>" in accuracy
    for term in ("PPV (positive predictive value)", "NPV", "Likelihood ratios"):
        assert term in accuracy
    assert "AUC (area under the ROC curve)" in cut_off


def test_the_cut_off_check_warns_below_30_outcomes(client, auth, clinic):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    warning = re.search(r'id="cut-off-warning">([^<]+)<', page).group(1)
    assert warning.startswith("Only 28 trials with an outcome (fewer than 30)")
    go.Figure(figures(page)["roc"])
    for _ in range(2):
        trial = clinic.trial(trial_date=date.today() - timedelta(weeks=14))
        clinic.follow_up(trial, weeks=12)
    page = client.get("/dashboard/").text
    assert 'id="cut-off-warning"' not in page
    assert "over 30 trials with an outcome" in page


def test_the_roc_curve_marks_the_clinics_criterion_and_the_best_cut_off(
    client, auth, clinic
):
    auth.login("reviewer")
    page = client.get("/dashboard/").text
    names = [trace["name"] for trace in figures(page)["roc"]["data"]]
    assert names[0] == "Chance (area 0.5)"
    assert names[1].startswith("Drop in points (area 0.")
    assert "Best cut-off (Youden)" in names
    assert "Clinic's criterion (any drop in pain)" in names
    table = page[page.index("Every whole-point cut-off") :]
    assert "at least 1 point (clinic's criterion)" in table
    assert table.count("(best)") == 2


def test_each_section_says_which_trials_it_counts(client, auth, clinic):
    auth.login("reviewer")
    page = " ".join(client.get("/dashboard/").text.split())
    pooled = (
        "each patient once: their first assessable trial with an outcome (of any aid)"
    )
    per_aid = (
        "each patient once per aid: their first assessable trial with an outcome "
        "of that aid"
    )
    assert f"counted: {pooled}</caption>" in page  # the rule check
    assert f"Counted: for all aids, {pooled}; for each aid, {per_aid}." in page
    assert f"counted: {pooled}.</caption>" in page  # the cut-off check
    page = " ".join(client.get("/dashboard/?unit=trial").text.split())
    assert "counted: every assessable trial with an outcome; a patient may" in page
