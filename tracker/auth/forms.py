"""Login, first-admin and password forms."""

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from ..extensions import db
from ..models import USERNAME_MAX, User

PASSWORD_MIN = 12


class LoginForm(FlaskForm):
    """Field names ``username`` and ``password``: password managers rely on them."""

    username = StringField(
        "User name", validators=[InputRequired("Enter your user name.")]
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password.")]
    )


def new_password_fields():
    """A new password and its confirmation."""
    password = PasswordField(
        "New password",
        validators=[
            InputRequired("Choose a password."),
            Length(PASSWORD_MIN, 200, f"Use at least {PASSWORD_MIN} characters."),
        ],
        description=f"At least {PASSWORD_MIN} characters; a short sentence works well.",
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
