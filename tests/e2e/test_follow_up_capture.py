"""The follow-up from home, in a real browser: the sheet, its link, the report.

The therapist prints the result sheet; the patient, in a browser of their own
with no account, opens the link printed on it on a phone and reports; the
therapist then finds the outcome on the trial, marked as the patient's.
"""

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_journeys import log_in
from tracker.extensions import db
from tracker.models import FollowUp, Patient, Trial

PHONE = {"width": 390, "height": 844}
#: WCAG 2.5.5 (AAA): a target at least 44 by 44 CSS pixels.
TAP_TARGET_PX = 44


def long_date(day: date) -> str:
    """A date as the sheet prints it: 3 March 2026."""
    return f"{day.day} {day:%B %Y}"


def keep_to_localhost(context: BrowserContext) -> list[str]:
    """Abort, and list, any request of ``context`` for a host but this one."""
    strays = []

    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:")):
            route.continue_()
        else:
            strays.append(url)
            route.abort()

    context.route("**/*", guard)
    return strays


def assert_no_axe_violations(page: Page) -> None:
    """Fail on any accessibility violation axe-core finds, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}"
        for v in violations
    ]
    assert found == [], f"{page.url}: {found}"


def assert_fits_the_width(page: Page) -> None:
    """Nothing wider than the viewport: no sideways scrolling, nothing cut off."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the screen"


def assert_large_tap_targets(page: Page) -> None:
    """Every answer and the send button at least 44 by 44 CSS pixels."""
    targets = page.locator(".choice label, button[type=submit]")
    assert targets.count() == 11 + 2 + 5 + 1
    for index in range(targets.count()):
        box = targets.nth(index).bounding_box()
        name = targets.nth(index).inner_text()
        assert box["width"] >= TAP_TARGET_PX, f"{name!r} is {box['width']} px wide"
        assert box["height"] >= TAP_TARGET_PX, f"{name!r} is {box['height']} px high"


def phone_screenshot(page: Page, name: str) -> None:
    """Save the page, whole, as a phone shows it."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-phone.png", full_page=True)


def answer(page: Page, question: str, choice: str) -> None:
    """Choose an answer to the question whose words include ``question``."""
    group = page.get_by_role("group", name=re.compile(question))
    group.get_by_role("radio", name=choice, exact=True).check()


def record_trial(page: Page, trial_date: date) -> None:
    """Add a patient and record an insole trial that eased the pain, 6 to 3."""
    page.get_by_role("link", name="Add a patient").click()
    page.get_by_label("Clinic code").fill("PF-0101")
    page.get_by_label("Clinic code").press("Enter")
    expect(page.get_by_text("Patient PF-0101 added.")).to_be_visible()
    page.get_by_role("link", name="Record a trial").click()
    page.get_by_label("Date of trial").fill(trial_date.isoformat())
    for group, choice in (
        ("Provoking activity", "Single-leg squat"),
        ("Pain without the aid", "6"),
        ("Aid", "Insoles (foot orthoses)"),
        ("Pain with the aid", "3"),
    ):
        group_buttons = page.get_by_role("group", name=group, exact=True)
        group_buttons.get_by_text(choice, exact=True).click()
    page.get_by_role("button", name="Save and see the verdict").click()
    expect(page.locator("#verdict")).to_contain_text(
        "likely to help in the longer term"
    )


def test_patient_reports_by_the_sheets_link_and_the_therapist_sees_it_as_theirs(
    live_server,
    users,
    page: Page,
    browser: Browser,
    browser_context_args,
    screenshot,
):
    base = live_server.base_url
    # Twelve weeks after the trial its follow-up is due: the patient reports
    # then, and the report counts as the trial's outcome.
    trial_date = date.today() - timedelta(weeks=12)
    log_in(page, base, "therapist")
    record_trial(page, trial_date)
    trial_page = page.url

    page.get_by_role("link", name="Print for the patient").click()
    expect(page).to_have_title(re.compile("^Result sheet for the patient"))
    expect(page.locator("#sheet-verdict")).to_contain_text(
        "likely to help over the next weeks"
    )
    expect(page.locator("#sheet-due")).to_contain_text(long_date(date.today()))
    link = page.locator("#sheet-url").inner_text()
    assert re.fullmatch(rf"{re.escape(base)}/r/\d+-[\w-]{{22}}", link)
    expect(page.locator(".sheet-qr svg")).to_be_visible()
    screenshot("sheet")
    page.set_viewport_size(PHONE)
    assert_fits_the_width(page)
    phone_screenshot(page, "sheet")
    assert_no_axe_violations(page)

    patient = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    strays = keep_to_localhost(patient)
    phone = patient.new_page()
    try:
        phone.goto(link)
        expect(
            phone.get_by_role("heading", name="How is your knee now?")
        ).to_be_visible()
        expect(phone.get_by_text("Log out")).to_have_count(0)
        assert_fits_the_width(phone)
        assert_large_tap_targets(phone)
        phone_screenshot(phone, "report")
        assert_no_axe_violations(phone)

        phone.get_by_role("button", name="Send my answers").click()
        expect(phone.locator("#error-summary")).to_be_visible()
        assert_no_axe_violations(phone)

        answer(phone, "How painful", "2")
        answer(phone, "still using", "Yes")
        answer(phone, "how is your knee now", "Much better")
        phone_screenshot(phone, "report-answered")
        phone.get_by_role("button", name="Send my answers").click()
        expect(phone).to_have_url(f"{base}/r/thanks")
        expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
        assert_fits_the_width(phone)

        phone.goto(link)
        expect(
            phone.get_by_role("heading", name="This link can no longer be used")
        ).to_be_visible()
    finally:
        patient.close()
    assert strays == []

    page.goto(trial_page)
    outcome = page.get_by_role("row").filter(has_text="Reported by the patient")
    expect(outcome).to_have_count(1)
    expect(outcome).to_contain_text("2 / 10")
    expect(outcome).to_contain_text("Markedly improved")
    expect(outcome.get_by_role("cell", name="Outcome", exact=True)).to_be_visible()
    screenshot("trial-with-patients-report")
    with live_server.app_context():
        reported = db.session.execute(
            sa.select(FollowUp.source, FollowUp.pain, FollowUp.follow_up_date)
        ).all()
    assert reported == [("patient", 2, date.today())]


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_longest_sheet_prints_on_one_page_with_the_verdict_due_date_and_link(
    live_server, users, page: Page, paper
):
    base = live_server.base_url
    # The most a sheet can hold: the longest clinic name and typed activity,
    # the longest verdict's words and an address under a path prefix.
    live_server.config["CLINIC_NAME"] = "Riverside " * 12
    live_server.config["PUBLIC_URL"] = "https://physio.example.org/tracker"
    trial_date = date.today() - timedelta(weeks=1)
    with live_server.app_context():
        db.session.add(
            Trial(
                patient=Patient(code="PF-0102"),
                trial_date=trial_date,
                intervention="brace",
                product="patellar stabilising sleeve",
                activity="other",
                activity_other="kneeling " * 22,
                pain_without=7,
                pain_with=7,
            )
        )
        db.session.commit()
        trial_id = db.session.scalar(sa.select(Trial.id))
    log_in(page, base, "therapist")
    page.goto(f"{base}/trials/{trial_id}/sheet")
    verdict = page.locator("#sheet-verdict").inner_text()
    link = page.locator("#sheet-url").inner_text()
    assert link.startswith("https://physio.example.org/tracker/r/")

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(format=paper, path=ARTIFACTS / f"sheet-{paper}.pdf")

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert link in text.splitlines(), "the address wraps on paper"
    # The words wrap anywhere in the PDF's text: compare them without spaces.
    printed = re.sub(r"\s+", "", text)
    for expected in (verdict, long_date(trial_date + timedelta(weeks=12))):
        assert re.sub(r"\s+", "", expected) in printed, (expected, text)
    for app_only in ("Log out", "Back to the trial", "Orthotic trial tracker"):
        assert app_only not in text
