"""Smaller holes in accounts: the last admin, user names, session age, the trail."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, settings_form
from tracker import audit
from tracker.extensions import db
from tracker.models import AuditEvent, User
from tracker.settings import DEFAULTS, ClinicSettings

LAST_ADMIN = "the last active administrator"
SETTINGS = settings_form()


def account(app, username) -> User | None:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.username == username))


# The last active administrator


@pytest.mark.parametrize(
    "change",
    [
        {"role": "therapist", "active": "y"},  # demoted
        {"role": "reviewer", "active": "y"},
        {"role": "admin"},  # deactivated: the box left unticked
        {"role": "therapist"},
    ],
)
def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(
    app, auth, client, change
):
    auth.login("admin")
    admin = account(app, "admin")
    response = client.post(f"/admin/users/{admin.id}", data=change)
    assert response.status_code == 200
    assert LAST_ADMIN in response.text
    assert 'id="role-error"' in response.text or 'id="active-error"' in response.text
    after = account(app, "admin")
    assert (after.role, after.active, after.session_token) == (
        "admin",
        True,
        admin.session_token,
    )
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_with_another_active_admin_one_may_step_down(app, auth, client):
    auth.login("admin")
    reviewer = account(app, "reviewer")
    admin = account(app, "admin")
    # A deactivated admin is no admin to fall back on.
    client.post(f"/admin/users/{reviewer.id}", data={"role": "admin"})
    assert (
        LAST_ADMIN
        in client.post(
            f"/admin/users/{admin.id}", data={"role": "therapist", "active": "y"}
        ).text
    )
    client.post(f"/admin/users/{reviewer.id}", data={"role": "admin", "active": "y"})
    response = client.post(
        f"/admin/users/{admin.id}", data={"role": "therapist", "active": "y"}
    )
    assert response.status_code == 302
    assert account(app, "admin").role == "therapist"


def test_an_admin_may_still_change_their_own_password(app, auth, client):
    auth.login("admin")
    admin = account(app, "admin")
    new = "a brand new passphrase here"
    response = client.post(
        f"/admin/users/{admin.id}",
        data={"role": "admin", "active": "y", "password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert auth.login("admin", new).status_code == 302


# User names


@pytest.mark.parametrize(
    "username", ["admin\n", "ada\n", "ada\r\n", "\nada", "ada\t", "ad a", "ádám"]
)
def test_setup_refuses_a_user_name_with_a_line_break_or_other_character(
    app, client, username
):
    response = client.post(
        "/auth/setup",
        data={"username": username, "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 200
    assert "Use letters, digits, dots, dashes or underscores only." in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


@pytest.mark.parametrize("username", ["admin\n", "bea\n", "bea\x00", "bea bea"])
def test_an_admin_cannot_add_such_a_user_name(app, auth, client, username):
    auth.login("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": username,
            "role": "admin",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert "Use letters, digits, dots, dashes or underscores only." in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3


@pytest.mark.parametrize("username", ["admin\n", "cara\n", "ca ra", "c" * 81, ""])
def test_create_user_refuses_such_a_user_name(app, runner, username):
    result = runner.invoke(
        args=["create-user", username, "--role", "admin"], input=PASSWORD + "\n"
    )
    assert result.exit_code != 0
    assert "user name" in result.output.lower()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_user_still_takes_a_plain_name(app, runner):
    result = runner.invoke(
        args=["create-user", "cara.b-c_1", "--role", "admin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert account(app, "cara.b-c_1").role == "admin"


# How long a session lasts


def test_a_busy_session_still_ends_after_the_absolute_lifetime(auth, client):
    auth.login("therapist")
    with client.session_transaction() as session:
        logged_in_at = session["logged_in_at"]
        assert abs(logged_in_at - datetime.now(UTC).timestamp()) < 60
        session["logged_in_at"] = logged_in_at - 11.9 * 3600
    assert client.get("/patients/").status_code == 200  # active all the while
    with client.session_transaction() as session:
        session["logged_in_at"] = logged_in_at - 12.1 * 3600
    response = client.get("/patients/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).text
    assert "Please log in again" in page
    assert client.get("/patients/").status_code == 302


def test_a_session_without_a_login_time_is_ended(auth, client):
    auth.login("therapist")
    with client.session_transaction() as session:
        del session["logged_in_at"]
    assert client.get("/patients/").status_code == 302


def test_the_absolute_lifetime_is_a_clinic_setting(app, auth, client):
    assert DEFAULTS["SESSION_ABSOLUTE_HOURS"] == 12
    assert ClinicSettings().session_absolute_hours == 12
    with pytest.raises(ValueError, match="SESSION_ABSOLUTE_HOURS"):
        ClinicSettings(session_absolute_hours=0)
    auth.login("admin")
    page = client.get("/admin/settings").text
    field = page.split('name="session_absolute_hours"')[1].split(">")[0]
    assert 'value="12"' in field
    response = client.post(
        "/admin/settings", data=SETTINGS | {"session_absolute_hours": "2"}
    )
    assert response.status_code == 302
    refused = client.post(
        "/admin/settings", data=SETTINGS | {"session_absolute_hours": "0"}
    )
    assert "Between 1 and 168 hours." in refused.text
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "settings_change")
        )
    assert event.changes == {"SESSION_ABSOLUTE_HOURS": [12, 2]}
    with client.session_transaction() as session:
        session["logged_in_at"] -= 2.1 * 3600
    assert client.get("/admin/settings").status_code == 302


# Failed logins in the audit trail


def failed_login_names(app) -> list[str]:
    with app.app_context():
        return [
            event.changes["username"]
            for event in db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action == "login_failed")
                .order_by(AuditEvent.id)
            )
        ]


def test_a_failed_login_names_only_an_existing_account(app, auth, client):
    auth.login("my secret password", "wrong")  # a password typed as the name
    auth.login("therapist", "wrong")
    auth.login(" reviewer ", "wrong")
    assert failed_login_names(app) == [audit.UNKNOWN_USER, "therapist", "reviewer"]
    with app.app_context():
        trail = db.session.scalars(sa.select(AuditEvent)).all()
    assert not any("my secret password" in str(event.changes) for event in trail)


def test_a_login_name_with_a_nul_character_is_just_wrong(app, auth, client):
    """PostgreSQL's text holds no NUL: the name must not reach a query."""
    response = auth.login("ther\x00apist", PASSWORD)
    assert response.status_code == 200
    assert "Wrong user name or password." in response.text
    assert client.get("/patients/").status_code == 302
