"""Two-factor sign-in in a real browser: enrolment, then a login with a code."""

import re
import time

import pyotp
from playwright.sync_api import expect

from tests.e2e.test_journeys import log_in
from tests.helpers import PASSWORD


def test_a_reviewer_enrols_from_their_account_page_and_logs_in_with_a_code(
    live_server, users, page, screenshot, axe_check
):
    log_in(page, live_server.base_url, "reviewer")
    page.get_by_role("link", name="reviewer (reviewer)").click()
    page.get_by_role("link", name="Set up a code from your phone").click()
    expect(page.locator("main svg")).to_be_visible()
    axe_check()
    screenshot("two-factor-enrol")
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.get_by_label("The 6-digit code the app now shows").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("shown only now")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    axe_check()
    page.get_by_role("button", name="Log out").click()

    page.goto(f"{live_server.base_url}/auth/login")
    page.get_by_label("User name").fill("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_title(re.compile("Enter your code"))
    axe_check()
    # The enrolment used this step's code; the next step's is one step of drift.
    next_code = totp.at(time.time() + totp.interval)
    page.get_by_label("Code from your authenticator app").fill(next_code)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
