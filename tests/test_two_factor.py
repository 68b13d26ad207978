"""Two-factor sign-in: enrolment, the code after the password, recovery, reset."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, settings_form
from tracker.auth import two_factor
from tracker.extensions import db
from tracker.models import AuditEvent, RecoveryCode, User


def secret_shown(page: bytes) -> str:
    return re.search(rb'id="totp-secret">([A-Z2-7]+)<', page).group(1).decode()


def code_at(secret: str, seconds_from_now: float = 0) -> str:
    return pyotp.TOTP(secret).at(
        datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    )


def wrong_code(secret: str) -> str:
    """A code no step near now has (any fixed code would be right one time in 10^6)."""
    near = {code_at(secret, seconds) for seconds in (-60, -30, 0, 30, 60)}
    return next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in near)


def enrol(client) -> tuple[str, list[str]]:
    """Set up the second factor as the logged-in user; the secret and codes."""
    secret = secret_shown(client.get("/auth/two-factor").data)
    page = client.post("/auth/two-factor", data={"code": code_at(secret)})
    assert page.status_code == 200
    codes = re.findall(
        r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", page.get_data(as_text=True)
    )
    return secret, codes


@pytest.fixture
def enrolled(client, auth):
    """The therapist, enrolled a while ago and logged out; secret and codes."""
    auth.login()
    secret, codes = enrol(client)
    auth.logout()
    with client.application.app_context():
        # Enrolment used this step's code, which is then refused as a replay.
        db.session.execute(sa.update(User).values(totp_last_step=None))
        db.session.commit()
    return secret, codes


def stored(app, username="therapist") -> User:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == username))


def is_logged_in(client) -> bool:
    return client.get("/patients/").status_code == 200


def test_enrolment_shows_a_local_qr_code_and_ten_codes_stored_hashed(app, client, auth):
    auth.login()
    page = client.get("/auth/two-factor").get_data(as_text=True)
    assert "<svg" in page and "QR code for your authenticator app" in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # drawn here, no image service
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert stored(app).totp_secret == secret
    with app.app_context():
        hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert len(hashes) == 10
    assert not {c.replace("-", "") for c in codes} & set(hashes)
    assert "two_factor_enrol" in actions
    # Shown once: the page afterwards gives the count, not the codes.
    again = client.get("/auth/two-factor").get_data(as_text=True)
    assert "<strong>10</strong> unused recovery codes" in again
    assert codes[0] not in again


def test_a_wrong_enrolment_code_is_refused_beside_the_field(app, client, auth):
    auth.login()
    secret = secret_shown(client.get("/auth/two-factor").data)
    page = client.post("/auth/two-factor", data={"code": wrong_code(secret)})
    assert "That code does not match" in page.get_data(as_text=True)
    assert 'aria-invalid="true"' in page.get_data(as_text=True)
    assert stored(app).totp_secret is None
    short = client.post("/auth/two-factor", data={"code": "12"})
    assert "The code is 6 digits." in short.get_data(as_text=True)


def test_login_asks_for_the_code_after_the_password(client, auth, enrolled):
    secret, _ = enrolled
    response = auth.login()
    assert response.headers["Location"].endswith("/auth/code")
    assert not is_logged_in(client)
    response = client.post("/auth/code", data={"code": code_at(secret)})
    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_code_cannot_be_used_twice(client, auth, enrolled):
    secret, _ = enrolled
    code = code_at(secret)
    auth.login()
    client.post("/auth/code", data={"code": code})
    auth.logout()
    auth.login()
    page = client.post("/auth/code", data={"code": code})
    assert "That code is wrong, or was used already." in page.get_data(as_text=True)
    assert not is_logged_in(client)


@pytest.mark.parametrize(
    ("seconds", "accepted"), [(-30, True), (30, True), (-90, False), (90, False)]
)
def test_one_step_of_clock_drift_is_accepted(
    client, auth, enrolled, seconds, accepted, monkeypatch
):
    secret, _ = enrolled
    moment = datetime.now(UTC)

    class Frozen(datetime):
        """The server's clock, still at the moment the phone's code was made."""

        @classmethod
        def now(cls, tz=None):
            return moment

    monkeypatch.setattr(two_factor, "datetime", Frozen)
    auth.login()
    client.post("/auth/code", data={"code": code_at(secret, seconds)})
    assert is_logged_in(client) is accepted


def test_wrong_codes_count_as_failed_logins(app, client, auth, enrolled):
    secret, _ = enrolled
    auth.login()  # a right password, but no code yet: a failure so far
    for _ in range(4):
        page = client.post("/auth/code", data={"code": wrong_code(secret)})
        assert page.status_code == 200
    refused = client.post("/auth/code", data={"code": code_at(secret)})
    assert refused.status_code == 429
    assert not is_logged_in(client)
    with app.app_context():
        failed = db.session.scalars(
            sa.select(AuditEvent.changes).where(AuditEvent.action == "login_failed")
        ).all()
    assert len(failed) == 4 and all(f["step"] == "code" for f in failed)


def test_a_recovery_code_works_once(client, auth, enrolled):
    _, codes = enrolled
    auth.login()
    client.post("/auth/code", data={"code": codes[3].upper()})
    assert is_logged_in(client)
    auth.logout()
    auth.login()
    page = client.post("/auth/code", data={"code": codes[3]})
    assert "wrong, or was used already" in page.get_data(as_text=True)


def test_the_code_step_expires_and_needs_the_password_first(client, auth, enrolled):
    response = client.post("/auth/code", data={"code": "123456"})
    assert response.headers["Location"].endswith("/auth/login")
    auth.login()
    with client.session_transaction() as session:
        pending = session["pending_login"]
        session["pending_login"] = pending | {"at": pending["at"] - 301}
    response = client.post("/auth/code", data={"code": code_at(enrolled[0])})
    assert response.headers["Location"].endswith("/auth/login")
    assert not is_logged_in(client)


def test_required_for_admins_sends_them_to_enrolment(app, client, auth):
    auth.login("admin")
    client.post("/admin/settings", data=settings_form(two_factor_required="admins"))
    response = client.get("/patients/")
    assert response.headers["Location"].endswith("/auth/two-factor")
    assert client.get("/auth/two-factor").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    auth.login("therapist")  # not required for therapists
    assert is_logged_in(client)


def test_required_for_reviewers_too(client, auth):
    auth.login("admin")
    client.post(
        "/admin/settings",
        data=settings_form(two_factor_required="admins_and_reviewers"),
    )
    auth.logout()
    auth.login("reviewer")
    assert client.get("/dashboard/").headers["Location"].endswith("/auth/two-factor")
    enrol(client)
    assert client.get("/dashboard/").status_code == 200


def test_an_admin_reset_removes_the_factor_ends_sessions_and_is_audited(
    app, client, auth, enrolled, make_app
):
    secret, _ = enrolled
    therapist = make_app().test_client()
    therapist.post("/auth/login", data={"username": "therapist", "password": PASSWORD})
    therapist.post("/auth/code", data={"code": code_at(secret)})
    assert is_logged_in(therapist)
    auth.login("admin")
    user_id = stored(app).id
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    client.post(f"/admin/users/{user_id}/two-factor/reset")
    assert not is_logged_in(therapist)
    assert stored(app).totp_secret is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "two_factor_reset")
        )
    assert event.changes == {"username": "therapist"}
    assert client.post("/admin/users/999/two-factor/reset").status_code == 404


def test_only_admins_may_reset(client, auth, enrolled, app):
    auth.login("reviewer")
    response = client.post(f"/admin/users/{stored(app).id}/two-factor/reset")
    assert response.status_code == 403
    assert stored(app).totp_secret is not None
