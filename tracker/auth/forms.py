"""Login, first-admin and password forms."""

import re

import sqlalchemy as sa
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from ..extensions import db
from ..models import USERNAME_MAX, User
from . import password_rules

PASSWORD_MIN = 12
#: A whole user name: ``\Z``, since ``$`` also matches before a final line break.
USERNAME_PATTERN = re.compile(r"\A[A-Za-z0-9._-]+\Z")
USERNAME_CHARACTERS = "Use letters, digits, dots, dashes or underscores only."
PASSWORD_HELP = (
    f"At least {PASSWORD_MIN} characters; a few unrelated words work well. "
    "Common or breached passwords, and ones containing the user name, are refused."
)


class LoginForm(FlaskForm):
    """Field names ``username`` and ``password``: password managers rely on them."""

    username = StringField(
        "User name", validators=[InputRequired("Enter your user name.")]
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password.")]
    )

    def validate_username(self, field):
        """No account's name holds NUL, which PostgreSQL's text cannot hold."""
        if "\x00" in field.data:
            raise ValidationError("Wrong user name or password.")


class NewPassword:
    """A validator: the password obeys :mod:`.password_rules` for its account.

    The account's name is the form's ``account_username()``; a form with a
    ``current`` field gives the password being replaced. Empty and short
    passwords are left to the required and length checks.
    """

    def __call__(self, form, field):
        if not field.data or len(field.data) < PASSWORD_MIN:
            return
        account_username = getattr(form, "account_username", None)
        problem = password_rules.problem(
            field.data,
            username=account_username() if account_username else None,
            current=form.current.data if "current" in form else None,
        )
        if problem:
            raise ValidationError(problem)


def new_password_fields():
    """A new password and its confirmation."""
    password = PasswordField(
        "New password",
        validators=[
            InputRequired("Choose a password."),
            Length(PASSWORD_MIN, 200, f"Use at least {PASSWORD_MIN} characters."),
            NewPassword(),
        ],
        description=PASSWORD_HELP,
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            InputRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
    )
    return password, confirm


def username_field():
    """A user name: letters, digits, dots, dashes and underscores."""
    return StringField(
        "User name",
        validators=[
            InputRequired("Choose a user name."),
            Length(max=USERNAME_MAX, message=f"At most {USERNAME_MAX} characters."),
            Regexp(USERNAME_PATTERN, message=USERNAME_CHARACTERS),
        ],
    )


def username_problem(username: str) -> str | None:
    """Why ``username`` may not name an account, or None (for commands)."""
    if not USERNAME_PATTERN.match(username):
        return f"Not a valid user name. {USERNAME_CHARACTERS}"
    if len(username) > USERNAME_MAX:
        return f"A user name has at most {USERNAME_MAX} characters."
    return None


class NewUsernameMixin:
    """Refuses a user name that is taken."""

    def account_username(self) -> str | None:
        """The name the new password must not contain: the one being chosen."""
        return self.username.data

    def validate_username(self, field):
        if field.errors:
            return  # not a valid name (and a NUL would fail the query)
        taken = db.session.scalar(sa.select(User.id).where(User.username == field.data))
        if taken is not None:
            raise ValidationError("That user name is taken.")


class SetupForm(NewUsernameMixin, FlaskForm):
    """The first administrator."""

    username = username_field()
    password, confirm = new_password_fields()


class PasswordChangeForm(FlaskForm):
    """A user changing their own password."""

    current = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    password, confirm = new_password_fields()

    def account_username(self) -> str:
        return current_user.username


class CodeForm(FlaskForm):
    """The code from the authenticator app, or a recovery code, after the password."""

    code = StringField(
        "Code from your authenticator app",
        validators=[
            InputRequired("Enter the 6-digit code, or one of your recovery codes."),
            Length(max=20, message="A code is 6 digits; a recovery code 13."),
        ],
        description="Lost your phone? Enter one of your recovery codes instead.",
        render_kw={"autocomplete": "one-time-code", "autofocus": True},
    )


class EnrolForm(FlaskForm):
    """The first code from the app, proving it holds the secret."""

    code = StringField(
        "The 6-digit code the app now shows",
        validators=[
            InputRequired("Enter the 6-digit code the app shows."),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="The code is 6 digits."),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
        },
    )
