"""Every page, JSON and CSV walked by users of one site: no other site's record shows.

Two sites, each with a patient, a trial and a follow-up marked with words of
its own. A therapist of each site and a reviewer of one site open every URL
rule of the app: the pages without a record id show nothing of the other
site, and every id of the other site's records answers 404, by GET and POST,
exactly like an id that does not exist.
"""

import re

import pytest

from tests.helpers import PASSWORD
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import DEFAULT_SITE_ID, Site, User

#: Records each site holds, marked with words found nowhere else.
MARKS = {
    "main": {"code": "PF-MAIN-0001", "product": "Mainsole Comfort", "note": "mainjot"},
    "north": {"code": "PF-NORTH-0007", "product": "Northbrace Pro", "note": "northjot"},
}
#: Rules that name no clinical record, or are not pages of one.
NOT_RECORDS = {
    "static",
    "bootstrap.static",
    "dashboard.plotly_js",
    "patient_reports.report",
}
ID_ARGUMENTS = {"patient_id", "trial_id", "follow_up_id"}


@pytest.fixture
def two_sites(app, records):
    """Main clinic and North, each with its users and one marked patient."""
    with app.app_context():
        north = Site(name="North")
        db.session.add(north)
        db.session.flush()
        main = db.session.get(Site, DEFAULT_SITE_ID)
        password_hash = hash_password(PASSWORD)
        for username, role, site in (
            ("main-therapist", "therapist", main),
            ("north-therapist", "therapist", north),
            ("main-reviewer", "reviewer", main),
        ):
            db.session.add(
                User(
                    username=username,
                    role=role,
                    password_hash=password_hash,
                    sites=[site],
                )
            )
        db.session.commit()
        site_ids = {"main": main.id, "north": north.id}
    ids = {}
    for name, marks in MARKS.items():
        patient = records.patient(
            code=marks["code"], site_id=site_ids[name], notes=marks["note"]
        )
        trial = records.trial(patient, product=marks["product"], notes=marks["note"])
        follow_up = records.follow_up(trial)
        ids[name] = dict(patient_id=patient, trial_id=trial, follow_up_id=follow_up)
    return ids


def example_url(rule, ids: dict[str, int]) -> str:
    """The rule's URL with the given record ids (1 for any other argument)."""
    return re.sub(
        r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule
    )


@pytest.mark.parametrize(
    ("username", "own", "other"),
    [
        ("main-therapist", "main", "north"),
        ("north-therapist", "north", "main"),
        ("main-reviewer", "main", "north"),
    ],
)
def test_no_page_shows_the_other_sites_records_and_their_ids_are_404(
    app, client, two_sites, username, own, other
):
    response = client.post(
        "/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302
    hidden = MARKS[other]
    pages = ids_tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_RECORDS or rule.endpoint == "auth.logout":
            continue
        names = set(rule.arguments)
        if names & ID_ARGUMENTS:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                url = example_url(rule, two_sites[other])
                status = client.open(url, method=method).status_code
                # 403 only where the role may not use the page at all.
                assert status in (404, 403), (url, method, status)
                if status == 403:
                    own_url = example_url(rule, two_sites[own])
                    assert client.open(own_url, method=method).status_code == 403
                ids_tried += 1
        elif "GET" in rule.methods:
            response = client.get(example_url(rule, {}), follow_redirects=True)
            body = response.get_data(as_text=True)
            for word in hidden.values():
                assert word not in body, (rule.rule, word)
            pages += 1
    assert pages > 15 and ids_tried > 20
    # The user's own site's records are there to be seen.
    own_page = client.get(f"/patients/{two_sites[own]['patient_id']}")
    assert MARKS[own]["code"] in own_page.get_data(as_text=True)


def test_the_reviewers_numbers_count_their_site_only(client, two_sites):
    client.post("/auth/login", data={"username": "main-reviewer", "password": PASSWORD})
    summary = client.get("/api/summary").get_json()
    assert summary["overall"]["trials"] == 1
    trials_csv = client.get("/exports/trials.csv").get_data(as_text=True)
    # De-identified for a reviewer: one row, their site's one trial.
    assert len(trials_csv.strip().splitlines()) == 2


def test_a_code_taken_at_another_site_is_refused_without_showing_it(client, two_sites):
    client.post(
        "/auth/login", data={"username": "main-therapist", "password": PASSWORD}
    )
    response = client.post("/patients/new", data={"code": "pf-north-0007"})
    body = response.get_data(as_text=True)
    assert "already in use at another site" in body
    assert "PF-NORTH-0007" not in body
