"""New passwords follow NIST SP 800-63B wherever one is set.

Not blank, not a common or breached password, not a repeat or a sequence,
not the user name or containing it, not the current password; the minimum
length stays. First-admin setup, one's own change, an admin adding or
resetting a user, and ``create-user`` all apply the same rules.
"""

import html

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD
from tracker.auth import password_rules
from tracker.extensions import db
from tracker.models import User

#: (password, the start of the message it gets) for an account named ``name``.
WEAK = {
    "12 spaces": (" " * 12, password_rules.BLANK),
    "12 zero-width spaces": ("\u200b" * 12, password_rules.BLANK),
    "repeated letter": ("a" * 12, password_rules.GUESSABLE),
    "common": ("password1234", password_rules.COMMON),
    "common, other case and spaced": ("PassWord 1234", password_rules.COMMON),
    "sequence": ("123456789012", password_rules.GUESSABLE),
    "keyboard": ("asdfghjkl;asdf", password_rules.GUESSABLE),
}


def weak_for(name: str) -> dict[str, tuple[str, str]]:
    """:data:`WEAK`, with passwords that are or contain ``name``."""
    return WEAK | {
        "the user name": (name + "1" * (12 - len(name)), password_rules.HAS_USERNAME),
        "containing it": (f"my name is {name.upper()}", password_rules.HAS_USERNAME),
    }


def refused(response, message: str) -> bool:
    """Whether the page refused the password, with the message beside the field."""
    text = html.unescape(response.text)
    return (
        response.status_code == 200
        and 'id="password-error"' in response.text
        and message in text.split('id="password-error"')[1].split("</div>")[0]
    )


def password_hash(app, username):
    with app.app_context():
        return db.session.scalar(
            sa.select(User.password_hash).where(User.username == username)
        )


def test_setup_refuses_weak_first_passwords(app, client):
    for case, (password, message) in weak_for("margaret").items():
        response = client.post(
            "/auth/setup",
            data={"username": "margaret", "password": password, "confirm": password},
        )
        assert refused(response, message), case
    assert password_hash(app, "margaret") is None


def test_a_change_refuses_weak_passwords_and_the_current_one(app, auth, client):
    auth.login("therapist")
    before = password_hash(app, "therapist")
    cases = weak_for("therapist") | {
        "the current one": (PASSWORD, password_rules.IS_CURRENT)
    }
    for case, (password, message) in cases.items():
        response = client.post(
            "/auth/password",
            data={"current": PASSWORD, "password": password, "confirm": password},
        )
        assert refused(response, message), case
    assert password_hash(app, "therapist") == before


def test_an_admin_cannot_give_a_new_user_a_weak_password(app, auth, client):
    auth.login("admin")
    for case, (password, message) in weak_for("beatrice").items():
        response = client.post(
            "/admin/users/new",
            data={
                "username": "beatrice",
                "role": "reviewer",
                "password": password,
                "confirm": password,
            },
        )
        assert refused(response, message), case
    assert password_hash(app, "beatrice") is None


def test_an_admin_reset_refuses_weak_passwords_and_the_current_one(app, auth, client):
    auth.login("admin")
    with app.app_context():
        therapist = db.session.scalar(
            sa.select(User.id).where(User.username == "therapist")
        )
    before = password_hash(app, "therapist")
    cases = weak_for("therapist") | {
        "the current one": (PASSWORD, password_rules.IS_CURRENT)
    }
    for case, (password, message) in cases.items():
        response = client.post(
            f"/admin/users/{therapist}",
            data={
                "role": "therapist",
                "active": "y",
                "password": password,
                "confirm": password,
            },
        )
        assert refused(response, message), case
    assert password_hash(app, "therapist") == before


def test_create_user_refuses_weak_passwords(app, runner):
    for case, (password, message) in weak_for("carla").items():
        result = runner.invoke(
            args=["create-user", "carla", "--role", "therapist"],
            input=password + "\n",
        )
        assert result.exit_code != 0, case
        assert message in result.output, case
    assert password_hash(app, "carla") is None


def test_strong_passwords_pass_everywhere(app, auth, client, runner):
    strong = "blue insoles fit well"
    result = runner.invoke(
        args=["create-user", "carla", "--role", "therapist"], input=strong + "\n"
    )
    assert result.exit_code == 0, result.output
    auth.login("therapist")
    response = client.post(
        "/auth/password",
        data={"current": PASSWORD, "password": strong, "confirm": strong},
    )
    assert response.status_code == 302
    assert auth.login("therapist", strong).status_code == 302


@pytest.mark.parametrize(
    "password, username, problem",
    [
        ("correct horse battery", "therapist", None),
        ("al is my friend forever", "al", None),  # too short a name to forbid
        ("alice is my friend", "alice", password_rules.HAS_USERNAME),
        ("iloveyou", None, password_rules.COMMON),
        ("p@ssw0rd1234", None, password_rules.GUESSABLE),  # l33t of a common one
        ("a" * 100, None, password_rules.GUESSABLE),  # longer than zxcvbn takes
        ("\u00a0" * 12, None, password_rules.BLANK),
    ],
)
def test_problem(password, username, problem):
    found = password_rules.problem(password, username=username)
    if problem is None:
        assert found is None
    else:
        assert found and found.startswith(problem)
