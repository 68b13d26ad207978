"""The main pages on a tablet (768 px) and a laptop (1366 px), with demo data."""

import random
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.test_journeys import log_in, tap
from tests.helpers import PASSWORD
from tracker import audit
from tracker.cli.demo import make_demo_patient
from tracker.extensions import db
from tracker.models import Patient, Trial

WIDTHS = (768, 1366)


@pytest.fixture
def demo(live_server, users):
    """Forty demo patients, as `flask demo` makes them."""
    rng = random.Random(7)
    with live_server.app_context():
        for number in range(1, 41):
            db.session.add(make_demo_patient(rng, number))
        db.session.commit()
        patient = db.session.scalar(sa.select(Patient).order_by(Patient.id))
        trial = db.session.scalar(sa.select(Trial).order_by(Trial.id))
        # A note without a single space must wrap, not widen the page.
        patient.notes = trial.notes = "x" * 2000
        trial.product = "insole-" * 28
        audit.give_reason("a long note for the layout test")
        db.session.commit()
        return {"patient": patient.id, "trial": trial.id}


def main_pages(demo) -> list[str]:
    patient, trial = demo["patient"], demo["trial"]
    return [
        "/patients/",
        f"/patients/{patient}",
        f"/patients/{patient}/trials/new",
        f"/trials/{trial}",
        f"/trials/{trial}/follow-ups/new",
        "/trials/",
        "/follow-ups/due",
        "/exports/",
        "/imports/trials",
        "/dashboard/",
        "/admin/audit",
        "/admin/users",
        "/admin/settings",
        "/auth/password",
    ]


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Log in at any width (at 768 px Log out is folded into the menu)."""
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_have_count(0)
    # The menu button works once Bootstrap's script has run, at the end of
    # the page: a tap before then does nothing.
    page.wait_for_load_state("load")


def open_menu_if_folded(page: Page) -> None:
    toggler = page.get_by_role("button", name="Menu")
    if toggler.is_visible():
        toggler.click()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_main_page_fits_the_width_and_has_no_accessibility_violation(
    live_server, demo, page, axe_check, width
):
    page.set_viewport_size({"width": width, "height": 1000})
    base = live_server.base_url
    page.goto(f"{base}/auth/login")
    axe_check()
    sign_in(page, base, "admin")
    for path in main_pages(demo):
        page.goto(base + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px too wide at {width} px"
        axe_check()
    open_menu_if_folded(page)
    expect(page.get_by_role("link", name="Settings")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_on_a_tablet_the_menu_opens_from_its_button(live_server, users, page):
    page.set_viewport_size({"width": 768, "height": 1000})
    base = live_server.base_url
    sign_in(page, base, "admin")
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(log_out).to_be_visible()
    # Bootstrap's "collapsing" gives way to "show" once the menu has opened:
    # a tap while it still slides open may miss on a busy machine.
    expect(page.locator("#main-menu")).to_have_class(re.compile(r"\bshow\b"))
    log_out.click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_a_double_tap_on_save_records_one_trial(live_server, demo, page):
    page.set_viewport_size({"width": 768, "height": 1000})
    base = live_server.base_url
    sign_in(page, base, "therapist")
    with live_server.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Trial))
    page.goto(f"{base}/patients/{demo['patient']}/trials/new")
    tap(page, "Provoking activity", "Stairs down")
    tap(page, "Pain without the aid", "7")
    tap(page, "Aid", "Taping")
    tap(page, "Pain with the aid", "2")
    page.get_by_role("button", name="Save and see the verdict").dblclick()
    expect(page.get_by_text("Trial saved: immediate relief.")).to_be_visible()
    with live_server.app_context():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(Trial))
    assert after == before + 1


def test_other_activity_appears_only_for_other(live_server, users, page, demo):
    base = live_server.base_url
    log_in(page, base, "therapist")
    page.goto(f"{base}/patients/{demo['patient']}/trials/new")
    other = page.get_by_label("Other activity")
    expect(other).to_be_hidden()
    tap(page, "Provoking activity", "Other")
    expect(other).to_be_visible()
    tap(page, "Provoking activity", "Running")
    expect(other).to_be_hidden()
    expect(page).to_have_title(re.compile("Record a trial"))
