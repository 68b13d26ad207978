"""A group's dashboard in the browser: each site in its funnel, nothing for axe."""

import random

from playwright.sync_api import expect

from tests.e2e.test_journeys import log_in
from tracker.cli.demo import make_demo_patient
from tracker.extensions import db
from tracker.models import Site


def test_an_admin_of_two_sites_sees_them_in_a_funnel(
    live_server, users, page, screenshot, axe_check
):
    with live_server.app_context():
        north = Site(name="North")
        db.session.add(north)
        db.session.flush()
        rng = random.Random(3)
        for number in range(40):
            patient = make_demo_patient(rng, number)
            patient.site_id = north.id if number % 2 else 1
            db.session.add(patient)
        db.session.commit()
    log_in(page, live_server.base_url, "admin")
    page.goto(f"{live_server.base_url}/dashboard/")
    expect(page.get_by_role("heading", name="By site", exact=True)).to_be_visible()
    funnel = page.locator("#chart-funnel_site")
    expect(funnel.locator("svg.main-svg").first).to_be_attached()
    table = page.get_by_role("table", name="By site")
    expect(table.get_by_role("row", name="North")).to_have_count(1)
    expect(table.get_by_role("row", name="Main clinic")).to_have_count(1)
    screenshot("dashboard-sites")
    axe_check()
