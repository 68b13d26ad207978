"""Parallel guesses are throttled as serial ones, against gunicorn's workers.

Each guess's password is checked outside any transaction (Argon2 is slow), so
the throttle must count and record an attempt in one step before the check;
otherwise guesses sent together all see the same, low count.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from bench import load
from tracker.auth import throttle
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import AuditEvent, LoginAttempt, User

PASSWORD = "a throttled account's password"
WRONG = "not the password at all"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def logins_at_once(base: str, credentials: list[tuple[str, str]]) -> list[int]:
    """POST the login form once per (name, password), all released together."""
    barrier = threading.Barrier(len(credentials))

    def log_in(username: str, password: str) -> int:
        browser = requests.Session()
        page = browser.get(f"{base}/auth/login", timeout=60)
        token = _TOKEN.search(page.text).group(1)
        barrier.wait(timeout=120)
        response = browser.post(
            f"{base}/auth/login",
            data={"username": username, "password": password, "csrf_token": token},
            timeout=120,
            allow_redirects=False,
        )
        return response.status_code

    with ThreadPoolExecutor(len(credentials)) as pool:
        futures = [pool.submit(log_in, *pair) for pair in credentials]
        return [future.result() for future in futures]


@pytest.fixture
def accounts(app):
    """A therapist and a reviewer, both with :data:`PASSWORD`."""
    with app.app_context():
        for role in ("therapist", "reviewer"):
            db.session.add(
                User(username=role, role=role, password_hash=hash_password(PASSWORD))
            )
        db.session.commit()


def checked_and_recorded(app) -> tuple[int, int]:
    """Attempts on record, and failed logins in the audit trail."""
    with app.app_context():
        attempts = db.session.scalar(sa.select(sa.func.count(LoginAttempt.id)))
        failures = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "login_failed"
            )
        )
        return attempts, failures


def test_parallel_guesses_at_one_account_check_at_most_the_limit(
    app, database_url, accounts
):
    limit = throttle.MAX_FAILURES_PER_ACCOUNT
    with load.served(database_url, workers=2, threads=8) as base:
        statuses = logins_at_once(base, [("therapist", WRONG)] * (limit + 7))
        right_password = logins_at_once(base, [("therapist", PASSWORD)])
        other_account = logins_at_once(base, [("reviewer", PASSWORD)])
    assert sorted(statuses) == [200] * limit + [429] * 7, load.served.errors[-2000:]
    assert checked_and_recorded(app) == (limit + 1, limit)
    assert right_password == [429]  # refused unchecked while throttled
    assert other_account == [302]


def test_parallel_guesses_from_one_address_check_at_most_the_limit(
    app, database_url, accounts
):
    limit = throttle.MAX_FAILURES_PER_ADDRESS
    names = [(f"guess-{number:02d}", WRONG) for number in range(limit + 5)]
    with load.served(database_url, workers=2, threads=8) as base:
        statuses = logins_at_once(base, names)
        right_password = logins_at_once(base, [("reviewer", PASSWORD)])
    assert sorted(statuses) == [200] * limit + [429] * 5, load.served.errors[-2000:]
    assert checked_and_recorded(app) == (limit, limit)
    assert right_password == [429]
