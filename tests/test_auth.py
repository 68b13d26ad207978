"""Logging in: the first admin, passwords, throttling, sessions, web security."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from tests.helpers import PASSWORD
from tracker.extensions import db
from tracker.models import AuditEvent, Patient, User


def user(app, username) -> User:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == username))


def test_first_start_offers_to_create_the_first_admin(app, client):
    response = client.get("/patients/", follow_redirects=True)
    assert "Create the first administrator" in response.text
    response = client.post(
        "/auth/setup",
        data={"username": "ada", "password": PASSWORD, "confirm": PASSWORD},
        follow_redirects=True,
    )
    assert "first administrator" in response.text
    assert user(app, "ada").role == "admin"
    assert client.get("/admin/users").status_code == 200
    # Once a user exists the page is gone, even for a stranger.
    assert app.test_client().get("/auth/setup").status_code == 404


def test_setup_refuses_a_short_or_mismatched_password(app, client):
    response = client.post(
        "/auth/setup", data={"username": "ada", "password": "short", "confirm": "x"}
    )
    assert "Use at least 12 characters." in response.text
    assert "The two passwords differ." in response.text
    assert user(app, "ada") is None


def test_login_form_uses_standard_field_names(client, users):
    page = client.get("/auth/login").text
    assert 'name="username"' in page
    assert 'name="password"' in page


@pytest.mark.parametrize("username", ["therapist", "nobody"])
def test_wrong_login_gets_one_generic_message(auth, client, username):
    response = auth.login(username, "not the password")
    assert "Wrong user name or password." in response.text
    assert client.get("/patients/").status_code == 302


class WatchedHasher:
    """The password hasher, noting whether a transaction is open at each use."""

    def __init__(self, hasher):
        self.hasher, self.in_transaction = hasher, []

    def __getattr__(self, name):
        def watched(*args, **kwargs):
            self.in_transaction.append(db.session().in_transaction())
            return getattr(self.hasher, name)(*args, **kwargs)

        return watched if name in ("hash", "verify") else getattr(self.hasher, name)


def test_the_password_is_checked_outside_any_transaction(auth, monkeypatch):
    """Hashing takes a while; meanwhile no database lock may be held."""
    from tracker.auth import passwords

    watched = WatchedHasher(passwords.hasher)
    monkeypatch.setattr(passwords, "hasher", watched)
    assert auth.login("therapist").status_code == 302
    assert auth.login("nobody", "not the password").status_code == 200
    checked = watched.in_transaction
    assert checked == [False, False]


@pytest.mark.parametrize(
    "who, url, data",
    [
        (
            "therapist",
            "/auth/password",
            {"current": PASSWORD, "password": "a new long password", "confirm": ""},
        ),
        (
            "admin",
            "/admin/users/new",
            {"username": "bea", "role": "reviewer", "password": PASSWORD},
        ),
        (
            "admin",
            "/admin/users/1",
            {"role": "reviewer", "password": "a reset long password"},
        ),
    ],
)
def test_passwords_are_hashed_and_checked_outside_any_transaction(
    app, auth, client, monkeypatch, who, url, data
):
    """Password changes and resets take no database lock while Argon2 works."""
    from tracker.auth import passwords

    auth.login(who)
    watched = WatchedHasher(passwords.hasher)
    monkeypatch.setattr(passwords, "hasher", watched)
    data = data | {"confirm": data["password"]}
    assert client.post(url, data=data).status_code == 302
    assert watched.in_transaction and not any(watched.in_transaction)


def test_passwords_are_stored_as_argon2id_only(app, users):
    stored = user(app, "therapist").password_hash
    assert stored.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in stored
    assert PASSWORD not in stored


def test_an_outdated_hash_is_renewed_at_login(app, auth, users):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.execute(
            sa.update(User)
            .where(User.username == "reviewer")
            .values(password_hash=weak)
        )
        db.session.commit()
    assert auth.login("reviewer").status_code == 302
    assert "m=19456,t=2,p=1" in user(app, "reviewer").password_hash


def test_repeated_failures_lock_the_account_across_processes(app, auth, make_app):
    for _ in range(3):
        auth.login("therapist", "wrong")
    # A second app on the same database stands for another server worker.
    other_worker = make_app().test_client()
    for _ in range(2):
        other_worker.post(
            "/auth/login", data={"username": "therapist", "password": "wrong"}
        )
    response = auth.login("therapist", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    # Another account from elsewhere is unaffected.
    assert auth.login("reviewer").status_code == 302


def test_logout_ends_a_copied_session(app, auth, client):
    auth.login("therapist")
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/patients/").status_code == 200
    auth.logout()
    assert thief.get("/patients/").status_code == 302


def test_password_change_ends_other_sessions(app, auth, client):
    auth.login("therapist")
    laptop = app.test_client()
    laptop.post("/auth/login", data={"username": "therapist", "password": PASSWORD})
    new = "a brand new long password"
    response = client.post(
        "/auth/password",
        data={"current": PASSWORD, "password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200
    assert laptop.get("/patients/").status_code == 302
    assert auth.login("therapist", new).status_code == 302


def test_an_idle_session_expires(auth, client):
    auth.login("therapist")
    with client.session_transaction() as session:
        session["last_seen"] = (datetime.now(UTC) - timedelta(minutes=31)).timestamp()
    response = client.get("/patients/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    assert client.get("/patients/").status_code == 302


def test_session_cookie_is_httponly_and_lax(auth, client):
    response = auth.login("therapist")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_deactivated_user_is_refused_but_their_records_stay(app, auth, client):
    auth.login("therapist")
    client.post("/patients/new", data={"code": "PF-0042"})
    therapist_client = client
    admin = app.test_client()
    admin.post("/auth/login", data={"username": "admin", "password": PASSWORD})
    therapist_id = user(app, "therapist").id
    admin.post(f"/admin/users/{therapist_id}", data={"role": "therapist"})
    assert user(app, "therapist").active is False
    assert therapist_client.get("/patients/").status_code == 302
    assert "Wrong user name or password." in auth.login("therapist").text
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient))
        assert patient.recorded_by.username == "therapist"


def test_admin_adds_a_user_who_can_log_in(app, auth, client):
    auth.login("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "bea",
            "role": "reviewer",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 302
    other = app.test_client()
    response = other.post("/auth/login", data={"username": "bea", "password": PASSWORD})
    assert response.status_code == 302
    assert other.get("/admin/audit").status_code == 200


def test_create_user_command_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["create-user", "cara", "--role", "therapist"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert user(app, "cara").role == "therapist"
    short = runner.invoke(args=["create-user", "dan", "--role", "admin"], input="x\n")
    assert short.exit_code != 0
    assert user(app, "dan") is None


def test_login_and_failures_are_audited_without_passwords(app, auth):
    auth.login("therapist", "wrong guess")
    auth.login("therapist")
    auth.logout()
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [event.action for event in events]
        assert actions[-3:] == ["login_failed", "login", "logout"]
        assert not any("wrong guess" in str(event.changes) for event in events)


def test_post_without_csrf_token_is_refused_and_saves_nothing(make_app, users):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/auth/login").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/auth/login",
        data={"username": "therapist", "password": PASSWORD, "csrf_token": token},
    )
    response = client.post("/patients/new", data={"code": "PF-0042"})
    assert response.status_code == 400
    assert "nothing was saved" in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Patient.id))) == 0


def test_security_headers_on_every_page(auth, client):
    for response in (client.get("/auth/login"), client.get("/no/such/page")):
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self' 'nonce-" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"]


def test_every_script_carries_the_pages_nonce(auth, client):
    auth.login("therapist")
    response = client.get("/patients/")
    nonce = (
        response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    )
    scripts = response.text.count("<script")
    assert scripts >= 1
    assert response.text.count(f'nonce="{nonce}"') == scripts


def test_a_script_in_a_note_is_shown_as_text(auth, client, records):
    patient = records.patient(notes="<script>alert('x')</script>")
    auth.login("therapist")
    page = client.get(f"/patients/{patient}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_a_server_error_is_a_plain_page_and_logs_no_clinical_data(
    app, auth, client, caplog
):
    code = "-".join(["PF", "0042"])

    def explode():
        raise RuntimeError(f"secret detail {code}")

    explode.required_permission = "read"
    app.add_url_rule("/explode", view_func=explode)
    auth.login("therapist")
    response = client.get("/explode")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert app.debug is False
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Unhandled RuntimeError in GET explode" in logged
    assert "PF-0042" not in logged
