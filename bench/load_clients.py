"""The load's clients: therapists and reviewers through the forms, patients by link."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

import requests

from analysis.rule import GLOBAL_RATINGS

PASSWORD = "load test password 2026"
DASHBOARD_URL = "/dashboard/"
EXPORT_URL = "/exports/trials.csv"
REPORT_PATH = "/r/"
THANKS_PATH = "/r/thanks"
#: The p95 each request type must stay under (ms), where there is a target.
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_SAVED_TRIAL = re.compile(r"/trials/(\d+)")
_SHEET_URL = re.compile(r'id="sheet-url">([^<]+)<')
_LINK_TOKEN = re.compile(rf"({REPORT_PATH})\d+-[\w-]+")


@dataclass(frozen=True)
class ReportLinkOut:
    """A report link printed on a trial's sheet: the trial, the link's path."""

    trial_id: int
    path: str

    @property
    def link_id(self) -> int:
        """The link's id, the token's first part."""
        return int(self.path.removeprefix(REPORT_PATH).split("-", 1)[0])


@dataclass
class Tally:
    """What every client saw: latencies per request type, failures, saves."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: Requests started before this (monotonic) time are the warm-up's.
    measure_from: float = 0.0
    warm_up_latencies: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    failures: list[str] = field(default_factory=list)
    saved_trials: set[int] = field(default_factory=set)
    saved_follow_ups: int = 0
    #: The links whose report the patient was thanked for.
    reported: list[ReportLinkOut] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, call, *args, expect=(200,), **kwargs):
        started, started_at = time.perf_counter(), time.monotonic()
        try:
            response = call(*args, timeout=30, allow_redirects=False, **kwargs)
            if kind == "export":
                for _ in response.iter_content(65536):
                    pass
        except requests.RequestException as error:
            self.fail(f"{kind}: {error}")
            return None
        elapsed = time.perf_counter() - started
        measured = started_at >= self.measure_from
        with self.lock:
            (self.latencies if measured else self.warm_up_latencies)[kind].append(
                elapsed
            )
        if response.status_code not in expect:
            self.fail(f"{kind}: HTTP {response.status_code} {response.url}")
            return None
        return response

    def fail(self, message: str) -> None:
        # As in the servers' logs, a report link's token is not printed.
        message = _LINK_TOKEN.sub(r"\1[token hidden]", message)
        with self.lock:
            self.failures.append(message)


def _token(response) -> str:
    match = _TOKEN.search(response.text)
    if not match:
        raise RuntimeError(f"no CSRF token on {response.url}")
    return match.group(1)


def _log_in(base: str, username: str, tally: Tally) -> requests.Session | None:
    session = requests.Session()
    page = tally.timed("login_page", session.get, f"{base}/auth/login")
    if page is None:
        return None
    response = tally.timed(
        "login",
        session.post,
        f"{base}/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _token(page)},
        expect=(302,),
    )
    return session if response is not None else None


def _add_patient(base, session, number, tally) -> str | None:
    """Add a new patient through the form; the patient page's URL."""
    form = tally.timed("form_page", session.get, f"{base}/patients/new")
    if form is None:
        return None
    code = f"LOAD-{number:02d}-{time.time_ns() % 10**12}"
    created = tally.timed(
        "patient_save",
        session.post,
        f"{base}/patients/new",
        data={"code": code, "csrf_token": _token(form)},
        expect=(302,),
    )
    return base + created.headers["Location"] if created is not None else None


def _record_trial(session, patient_url, rng, tally) -> int | None:
    """Record a trial of today through the form; the saved trial's id."""
    form = tally.timed("form_page", session.get, f"{patient_url}/trials/new")
    if form is None:
        return None
    pain_without = rng.randint(0, 9)
    saved = tally.timed(
        "trial_save",
        session.post,
        f"{patient_url}/trials/new",
        data={
            "csrf_token": _token(form),
            "trial_date": date.today().isoformat(),
            "activity": rng.choice(["single_leg_squat", "stairs_down", "running"]),
            "intervention": rng.choice(["insole", "taping", "brace"]),
            "pain_without": str(pain_without),
            "pain_with": str(max(0, pain_without - rng.randint(-1, 3))),
        },
        expect=(302,),
    )
    if saved is None:
        return None
    return int(_SAVED_TRIAL.search(saved.headers["Location"]).group(1))


def _pause(rng: random.Random, think: float, deadline: float) -> None:
    """A clinician's pause between actions, shortened at the deadline."""
    time.sleep(
        max(0.0, min(rng.uniform(0.5, 1.5) * think, deadline - time.monotonic()))
    )


def therapist(
    base: str, number: int, deadline: float, tally: Tally, think: float = 0.0
) -> None:
    """Record trials and follow-ups until the deadline, a new patient every few.

    ``think`` is the mean pause in seconds between one save and the next.
    """
    rng = random.Random(number)
    session = _log_in(base, f"load-therapist-{number:02d}", tally)
    if session is None:
        return
    patient_url = None
    trials_of_patient = 0
    today = date.today().isoformat()
    while time.monotonic() < deadline:
        if patient_url is None or trials_of_patient == 3:
            patient_url, trials_of_patient = (
                _add_patient(base, session, number, tally),
                0,
            )
            if patient_url is None:
                return
        trials_of_patient += 1
        _pause(rng, think, deadline)
        trial_id = _record_trial(session, patient_url, rng, tally)
        if trial_id is None:
            continue
        with tally.lock:
            tally.saved_trials.add(trial_id)
        if rng.random() < 0.3:
            url = f"{base}/trials/{trial_id}/follow-ups/new"
            form = tally.timed("form_page", session.get, url)
            if form is None:
                continue
            recorded = tally.timed(
                "follow_up_save",
                session.post,
                url,
                data={
                    "csrf_token": _token(form),
                    "follow_up_date": today,
                    "pain": "2",
                    "still_using": "yes",
                    "global_rating": "moderately_improved",
                },
                expect=(302,),
            )
            if recorded is not None:
                with tally.lock:
                    tally.saved_follow_ups += 1


def reviewer(
    base: str, number: int, deadline: float, tally: Tally, think: float = 0.0
) -> None:
    """Reload the dashboard, downloading the export every third time.

    Each reviewer starts at another point of that cycle: five reviewers do not
    all ask for an export in the same second.
    """
    rng = random.Random(1000 + number)
    session = _log_in(base, f"load-reviewer-{number:02d}", tally)
    if session is None:
        return
    visits = 0
    while time.monotonic() < deadline:
        tally.timed("dashboard", session.get, base + DASHBOARD_URL)
        if visits % 3 == number % 3:
            tally.timed("export", session.get, base + EXPORT_URL, stream=True)
        visits += 1
        _pause(rng, think, deadline)


#: How often a sheet that answers "busy" is asked for again, and the first pause
#: (doubled each time, with jitter, so two therapists do not collide again).
SHEET_TRIES, SHEET_RETRY_SECONDS = 10, 0.05


@dataclass(frozen=True)
class ReportLinks:
    """The report links made before the load, and what making them took."""

    links: list[ReportLinkOut]
    #: Sheets answered 423 "Busy, try again" and asked for again: on SQLite
    #: the sheet makes its link in a transaction begun for reading, which
    #: SQLite refuses to turn into a write once another worker has written.
    busy: int
    seconds: float


def _printed_link(
    base, session, trial_id, rng, tally
) -> tuple[ReportLinkOut | None, int]:
    """The link on the trial's sheet, asking again while it is busy; and how often."""
    url = f"{base}/trials/{trial_id}/sheet"
    for busy in range(SHEET_TRIES):
        sheet = tally.timed("sheet", session.get, url, expect=(200, 423))
        if sheet is None:
            return None, busy
        if sheet.status_code == 423:
            time.sleep(SHEET_RETRY_SECONDS * 2**busy * rng.uniform(0.5, 1.5))
            continue
        printed = _SHEET_URL.search(sheet.text)
        if printed is None:
            tally.fail(f"sheet of trial {trial_id}: no report link printed")
            return None, busy
        token = printed[1].rsplit(REPORT_PATH, 1)[1]
        return ReportLinkOut(trial_id, REPORT_PATH + token), busy
    tally.fail(f"sheet of trial {trial_id}: busy {SHEET_TRIES} times")
    return None, SHEET_TRIES


def prepare_report_links(base: str, count: int, therapists: int) -> ReportLinks:
    """``count`` trials of today, recorded through the form, each with its link.

    Each link is read from its trial's sheet (``GET /trials/<id>/sheet``), as
    the therapist prints it, before the load starts; by the first of the
    ``therapists`` load accounts, two at most at once (more only collide
    more often on SQLite's write lock, see :attr:`ReportLinks.busy`).
    """
    started = time.perf_counter()
    tally = Tally()
    accounts = max(1, min(2, therapists, count))

    def make(number: int, links: int) -> tuple[list[ReportLinkOut], int]:
        rng = random.Random(3000 + number)
        session = (
            _log_in(base, f"load-therapist-{number:02d}", tally) if links else None
        )
        made, busy = [], 0
        for index in range(links if session else 0):
            if index % 3 == 0:
                patient_url = _add_patient(base, session, number, tally)
                if patient_url is None:
                    break
            trial_id = _record_trial(session, patient_url, rng, tally)
            if trial_id is None:
                break
            link, tries = _printed_link(base, session, trial_id, rng, tally)
            busy += tries
            if link is None:
                break
            made.append(link)
        return made, busy

    shares = [count // accounts + (n < count % accounts) for n in range(accounts)]
    with ThreadPoolExecutor(accounts) as pool:
        made = list(pool.map(make, range(accounts), shares))
    if tally.failures:
        raise RuntimeError(f"report links not made: {tally.failures[:5]}")
    return ReportLinks(
        [link for links, _ in made for link in links],
        sum(busy for _, busy in made),
        round(time.perf_counter() - started, 1),
    )


def patient(
    base: str,
    number: int,
    links: list[ReportLinkOut],
    deadline: float,
    tally: Tally,
    think: float = 0.0,
) -> None:
    """Report follow-ups through ``links`` until the deadline or the last link.

    No login: the link page, its form sent with the page's CSRF token, then
    the thank-you page the answer redirects to. ``think`` is the mean pause
    in seconds before each report.
    """
    rng = random.Random(2000 + number)
    session = requests.Session()
    for link in links:
        if time.monotonic() >= deadline:
            return
        _pause(rng, think, deadline)
        url = base + link.path
        page = tally.timed("report_page", session.get, url)
        if page is None:
            continue
        sent = tally.timed(
            "report_submit",
            session.post,
            url,
            data={
                "csrf_token": _token(page),
                "pain": str(rng.randint(0, 10)),
                "still_using": rng.choice(["yes", "no"]),
                "global_rating": rng.choice(GLOBAL_RATINGS),
            },
            expect=(302,),
        )
        if sent is None:
            continue
        thanks = urljoin(url, sent.headers["Location"])
        if urlsplit(thanks).path != THANKS_PATH:
            tally.fail(f"report_submit: redirected to {urlsplit(thanks).path}")
            continue
        with tally.lock:
            tally.reported.append(link)
        tally.timed("report_thanks", session.get, thanks)
