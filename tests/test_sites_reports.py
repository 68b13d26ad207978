"""Users of several sites see each site in the funnel: dashboard, report, API."""

import csv
import io
import json

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import DEFAULT_SITE_ID, Site, User

#: Each site's trials: the outcome of each, markedly improved or the same.
OUTCOMES = {
    "Main clinic": ["markedly_improved"] * 3 + ["same"],
    "North": ["markedly_improved", "same"],
}


@pytest.fixture
def two_sites(app, records, users):
    """Main clinic and North with their trials; "both" reviews the two."""
    with app.app_context():
        north = Site(name="North")
        db.session.add(north)
        main = db.session.get(Site, DEFAULT_SITE_ID)
        db.session.add(
            User(
                username="both",
                role="reviewer",
                password_hash=hash_password(PASSWORD),
                sites=[main, north],
            )
        )
        db.session.commit()
        site_ids = {"Main clinic": main.id, "North": north.id}
    for site, outcomes in OUTCOMES.items():
        for rating in outcomes:
            trial = records.trial(records.patient(site_id=site_ids[site]))
            records.follow_up(trial, global_rating=rating)


def summary_of(client, **args) -> dict:
    response = client.get("/api/summary", query_string=args)
    assert response.status_code == 200, response.text
    return response.get_json()


def test_a_user_of_two_sites_gets_each_site_in_the_summary(client, auth, two_sites):
    auth.login("both")
    by_site = summary_of(client)["by_site"]
    assert by_site["unit"] == "trial"
    assert by_site["pooled_rate"] == pytest.approx(4 / 6)
    rows = {row["site"]: row for row in by_site["sites"]}
    assert list(rows) == ["Main clinic", "North"]
    benefit = rows["Main clinic"]["long_term_benefit"]
    assert (benefit["count"], benefit["n"]) == (3, 4)
    assert rows["North"]["trials"] == 2
    assert rows["North"]["funnel"]["position"] == "inside"
    low, high = rows["North"]["funnel"]["limits_95"]
    assert 0 <= low < 4 / 6 < high <= 1


def test_a_user_of_one_site_or_one_chosen_site_gets_no_table_by_site(
    client, auth, two_sites
):
    auth.login("reviewer")  # Main clinic only
    assert summary_of(client)["by_site"] is None
    auth.logout()
    auth.login("both")
    assert summary_of(client, site="North")["by_site"] is None


def test_the_report_shows_each_site_to_an_admin(runner, two_sites):
    result = runner.invoke(args=["report", "--json"])
    assert result.exit_code == 0, result.output
    sites = json.loads(result.output)["by_site"]["sites"]
    assert [row["site"] for row in sites] == ["Main clinic", "North"]
    text = runner.invoke(args=["report"]).output
    by_site = text[text.index("By site") :]
    assert "pooled rate of 67%" in by_site
    assert "North" in by_site and "within the 95% limits" in by_site


def test_the_dashboard_shows_sites_in_a_funnel_to_a_user_of_two_sites(
    client, auth, two_sites
):
    auth.login("both")
    page = client.get("/dashboard/").text
    by_site = page[page.index(">By site<") : page.index(">By activity<")]
    assert "North" in by_site and "Main clinic" in by_site
    assert 'id="chart-funnel_site"' in by_site
    auth.logout()
    auth.login("reviewer")
    assert ">By site<" not in client.get("/dashboard/").text


def test_a_second_site_brings_the_table_by_site_to_a_kept_dashboard(
    client, auth, records, runner
):
    auth.login("admin")
    records.follow_up(records.trial())
    assert ">By site<" not in client.get("/dashboard/").text
    assert runner.invoke(args=["create-site", "North"]).exit_code == 0
    page = client.get("/dashboard/").text
    # North has no trials yet, so no row: the sites with trials are listed.
    by_site = page[page.index(">By site<") : page.index(">By activity<")]
    assert "Main clinic" in by_site and "North" not in by_site


def test_both_exports_name_each_patients_site(client, auth, two_sites):
    auth.login("admin")
    for kind in ("trials", "followups"):
        text = client.get(f"/exports/{kind}.csv").text
        rows = list(csv.DictReader(io.StringIO(text[1:], newline="")))
        sites = sorted(row["site"] for row in rows)
        assert sites == ["Main clinic"] * 4 + ["North"] * 2


def test_a_site_named_with_a_non_ascii_capital_is_found_by_its_name(
    client, auth, records, runner
):
    # The database folds the case of names (its unique index is on lower());
    # SQLite's lower() leaves Ö alone, so Python's must not be compared to it.
    assert runner.invoke(args=["create-site", "Örebro"]).exit_code == 0
    assert runner.invoke(args=["create-site", "ÅRE"]).exit_code == 0
    auth.login("admin")
    for typed, site in (("Örebro", "Örebro"), ("ÅRE", "ÅRE")):
        records.follow_up(records.trial(records.patient(site_id=site_id(client, site))))
        body = summary_of(client, site=typed)
        assert body["overall"]["trials"] >= 1, typed
    assert runner.invoke(args=["report", "--site", "Örebro"]).exit_code == 0


def site_id(client, name: str) -> int:
    with client.application.app_context():
        return db.session.scalar(sa.select(Site.id).where(Site.name == name))
