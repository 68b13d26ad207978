"""The main journeys, in a real browser, as clinic users take them."""

import csv
import io
import random
import re
from datetime import date, timedelta

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.helpers import PASSWORD
from tracker.cli.demo import make_demo_patient
from tracker.extensions import db
from tracker.models import FollowUp, Patient, Trial, User


def log_in(page: Page, base_url: str, username: str, password: str = PASSWORD):
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_first_start_creates_the_admin_who_adds_colleagues(
    live_server, page, screenshot, axe_check
):
    page.goto(live_server.base_url)
    expect(page).to_have_title(re.compile("Create the first administrator"))
    axe_check()
    page.get_by_label("User name").fill("ada")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    expect(page).to_have_title(re.compile("^Users"))
    for name, role in (("tom", "therapist"), ("rita", "reviewer")):
        page.get_by_role("link", name="Add a user").click()
        page.get_by_label("User name").fill(name)
        page.get_by_label("Role").select_option(role)
        page.get_by_label("New password").fill(PASSWORD)
        page.get_by_label("Repeat the password").fill(PASSWORD)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"User {name} added.")).to_be_visible()
    screenshot("users")
    axe_check()
    with live_server.app_context():
        roles = dict(db.session.execute(sa.select(User.username, User.role)).all())
    assert roles == {"ada": "admin", "tom": "therapist", "rita": "reviewer"}


def tap(page: Page, group: str, choice: str) -> None:
    """Tap one of a row of buttons (radio buttons), as a finger would."""
    page.get_by_role("group", name=group, exact=True).get_by_text(
        choice, exact=True
    ).click()


def record_trial_by_taps(page: Page, pain_without: str, pain_with: str) -> int:
    """Record a trial from the patient page by taps alone; the taps it took."""
    # The date defaults to today.
    taps = [
        lambda: page.get_by_role("link", name="Record a trial").click(),
        lambda: tap(page, "Provoking activity", "Single-leg squat"),
        lambda: tap(page, "Pain without the aid", pain_without),
        lambda: tap(page, "Aid", "Insoles (foot orthoses)"),
        lambda: tap(page, "Pain with the aid", pain_with),
        lambda: page.get_by_role("button", name="Save and see the verdict").click(),
    ]
    for step in taps:
        step()
    return len(taps)


def record_trial_by_keyboard(page: Page, pain_without: int, pain_with: int):
    """Fill the trial form from the keyboard alone, in the order measured."""
    # The date defaults to today; the therapist starts at the activity.
    page.locator("#activity").focus()
    page.keyboard.press("Space")  # the first activity: single-leg squat
    for field, score in (("#pain_without", pain_without), ("#pain_with", pain_with)):
        if field == "#pain_with":
            page.locator("#intervention").focus()
            page.keyboard.press("Space")  # the first aid: insoles
        page.locator(field).focus()
        page.keyboard.press("Space")  # 0, then one step right per point
        for _ in range(score):
            page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")


def test_therapist_records_trials_and_a_follow_up(
    live_server, users, page, screenshot, axe_check
):
    base = live_server.base_url
    log_in(page, base, "therapist")
    page.get_by_role("link", name="Add a patient").click()
    page.get_by_label("Clinic code").fill("PF-0042")
    page.get_by_label("Clinic code").press("Enter")
    expect(page.get_by_text("Patient PF-0042 added.")).to_be_visible()

    assert record_trial_by_taps(page, "6", "3") <= 6
    expect(page.locator("#verdict")).to_contain_text(
        "likely to help in the longer term"
    )
    expect(page.get_by_text("Trial saved: immediate relief.")).to_be_visible()
    screenshot("verdict")
    axe_check()

    page.get_by_role("link", name="Patient PF-0042").click()
    screenshot("patient")
    axe_check()
    page.get_by_role("link", name="Record a trial").click()
    expect(page).to_have_title(re.compile("Record a trial for PF-0042"))
    axe_check()
    screenshot("trial-form")
    record_trial_by_keyboard(page, 5, 5)
    expect(page.locator("#verdict")).to_contain_text(
        "unlikely to help in the longer term"
    )
    assert count(live_server, Trial) == 2

    # A trial from 13 weeks ago now waits in the follow-ups due list.
    with live_server.app_context():
        patient = db.session.scalar(sa.select(Patient))
        db.session.add(
            Trial(
                patient=patient,
                trial_date=date.today() - timedelta(weeks=13),
                intervention="taping",
                activity="stairs_down",
                pain_without=7,
                pain_with=4,
            )
        )
        db.session.commit()
    page.get_by_role("link", name="Follow-ups due").click()
    screenshot("due")
    axe_check()
    page.get_by_role("link", name=re.compile("Record follow-up for PF-0042")).click()
    tap(page, "Pain during the same activity", "2")
    page.get_by_label("Yes").check()
    page.get_by_label("Markedly improved").check()
    page.get_by_role("button", name="Save follow-up").click()
    expect(page.get_by_text("Follow-up recorded.")).to_be_visible()
    expect(page.get_by_text("Outcome", exact=True)).to_be_visible()
    page.get_by_role("link", name="Patients", exact=True).click()
    screenshot("patients")
    axe_check()
    assert count(live_server, FollowUp) == 1


def test_missing_scores_and_future_dates_are_refused_beside_the_fields(
    live_server, users, page, axe_check
):
    base = live_server.base_url
    with live_server.app_context():
        db.session.add(Patient(code="PF-0007"))
        db.session.commit()
    log_in(page, base, "therapist")
    page.goto(f"{base}/patients/1/trials/new")
    page.get_by_label("Date of trial").fill(
        (date.today() + timedelta(days=3)).isoformat()
    )
    tap(page, "Provoking activity", "Stairs up")
    # No score without the aid: the buttons cannot give one outside 0-10.
    tap(page, "Aid", "Knee brace")
    tap(page, "Pain with the aid", "4")
    page.get_by_role("button", name="Save and see the verdict").click()
    expect(page.locator("#trial_date-error")).to_have_text(
        "The date cannot be in the future."
    )
    expect(page.locator("#pain_without-error")).to_contain_text(
        "Enter a pain score from 0 to 10."
    )
    # What was chosen is still chosen.
    expect(page.locator("#pain_with-4")).to_be_checked()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_label("Date of trial")).to_be_focused()
    axe_check()
    assert count(live_server, Trial) == 0


def test_reviewer_cannot_reach_the_trial_form(live_server, users, page):
    base = live_server.base_url
    with live_server.app_context():
        db.session.add(Patient(code="PF-0008"))
        db.session.commit()
    log_in(page, base, "reviewer")
    page.goto(f"{base}/patients/1")
    expect(page.get_by_role("heading", name="Patient PF-0008")).to_be_visible()
    expect(page.get_by_role("link", name="Record a trial")).to_have_count(0)
    response = page.goto(f"{base}/patients/1/trials/new")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def seed_demo_patients(app, patients: int = 40) -> None:
    """Made-up patients with trials and follow-ups, as demo-data adds them."""
    with app.app_context():
        rng = random.Random(11)
        db.session.add_all(make_demo_patient(rng, n) for n in range(patients))
        db.session.commit()


def test_reviewer_reads_the_dashboard_and_filters_it(
    live_server, users, page, screenshot, axe_check
):
    seed_demo_patients(live_server)
    log_in(page, live_server.base_url, "reviewer")
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_title(re.compile("^Dashboard"))
    charts = page.locator(".dashboard-chart")
    assert charts.count() >= 4
    for index in range(charts.count()):
        expect(charts.nth(index).locator("svg.main-svg").first).to_be_attached()
    everything = page.locator("#counting-unit").inner_text()
    screenshot("dashboard")
    axe_check()

    page.get_by_label("Aid", exact=True).select_option("brace")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile("intervention=brace"))
    braces = page.locator("#counting-unit").inner_text()
    assert braces != everything
    with live_server.app_context():
        brace_trials = db.session.scalar(
            sa.select(sa.func.count(Trial.id)).where(Trial.intervention == "brace")
        )
    assert f"{brace_trials} trials from" in braces

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these trials (CSV)").click()
    rows = list(
        csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig")))
    )
    assert len(rows) == brace_trials
    assert {row["intervention"] for row in rows} == {"brace"}
