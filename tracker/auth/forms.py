"""Login, first-admin and password forms."""

import sqlalchemy as sa
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from ..extensions import db
from ..models import USERNAME_MAX, User
from . import password_rules

PASSWORD_MIN = 12
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
            Regexp(
                r"^[A-Za-z0-9._-]+$",
                message="Use letters, digits, dots, dashes or underscores only.",
            ),
        ],
    )


class NewUsernameMixin:
    """Refuses a user name that is taken."""

    def account_username(self) -> str | None:
        """The name the new password must not contain: the one being chosen."""
        return self.username.data

    def validate_username(self, field):
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
