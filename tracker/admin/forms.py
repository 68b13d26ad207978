"""Forms for managing users and the clinic's settings."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    StringField,
)
from wtforms.validators import (
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from analysis.rule import BENEFIT_DEFINITIONS

from ..auth.forms import (
    PASSWORD_HELP,
    PASSWORD_MIN,
    NewPassword,
    NewUsernameMixin,
    new_password_fields,
    username_field,
)
from ..labels import (
    RATING_LABELS,
    RELIEF_CRITERION_LABELS,
    ROLES,
    TWO_FACTOR_LABELS,
)
from ..models import User
from ..settings import CLINIC_NAME_MAX, MAX_REPORT_LINK_WEEKS, MAX_SESSION_HOURS
from ..sites.forms import UserSitesMixin
from ..web.forms import choice_field, clean_text
from ..web.once import OnceOnlyForm


def _role_field():
    return choice_field(
        "Role",
        ROLES,
        validators=[InputRequired("Choose a role.")],
        invalid_choice_message="Choose therapist, reviewer or administrator.",
    )


class UserCreateForm(NewUsernameMixin, UserSitesMixin, OnceOnlyForm):
    """A new clinic account."""

    username = username_field()
    role = _role_field()
    password, confirm = new_password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_site_choices(None)


class UserUpdateForm(UserSitesMixin, FlaskForm):
    """Role, sites, active state and, optionally, a new password."""

    role = _role_field()
    active = BooleanField("Active (may log in)")
    password = PasswordField(
        "New password (leave empty to keep)",
        validators=[
            # Spaces are a password (a weak one), not an empty field.
            Optional(strip_whitespace=False),
            Length(PASSWORD_MIN, 200, f"Use at least {PASSWORD_MIN} characters."),
            NewPassword(),
        ],
        description=PASSWORD_HELP,
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("password", "The two passwords differ.")],
    )

    def __init__(self, *args, account: User, **kwargs):
        super().__init__(*args, obj=account, **kwargs)
        self.set_site_choices(account)
        #: The user being changed.
        self.account = account

    def account_username(self) -> str:
        return self.account.username


class SettingsForm(FlaskForm):
    """The clinic settings an admin may change."""

    relief_criterion = choice_field(
        "Relief criterion",
        RELIEF_CRITERION_LABELS,
        validators=[InputRequired("Choose a relief criterion.")],
    )
    benefit_definition = choice_field(
        "Long-term benefit means",
        {
            value: f"{RATING_LABELS[value]}"
            + (" or better" if value != "markedly_improved" else "")
            for value in BENEFIT_DEFINITIONS
        },
        validators=[InputRequired("Choose a definition.")],
    )
    follow_up_minimum_weeks = IntegerField(
        "Minimum weeks before a follow-up counts as the outcome",
        validators=[
            InputRequired("Enter a whole number of weeks."),
            NumberRange(0, 104, "Between 0 and 104 weeks."),
        ],
    )
    follow_up_due_weeks = IntegerField(
        "Outcome follow-up due after (weeks)",
        validators=[
            InputRequired("Enter a whole number of weeks."),
            NumberRange(1, 104, "Between 1 and 104 weeks."),
        ],
    )
    band_low = DecimalField(
        "Reference band: lowest published response rate (%)",
        places=1,
        validators=[
            InputRequired("Enter a percentage."),
            NumberRange(0, 100, "0–100%."),
        ],
    )
    band_high = DecimalField(
        "Reference band: highest published response rate (%)",
        places=1,
        validators=[
            InputRequired("Enter a percentage."),
            NumberRange(0, 100, "0–100%."),
        ],
    )
    session_idle_minutes = IntegerField(
        "Log users out after this many idle minutes",
        validators=[
            InputRequired("Enter a whole number of minutes."),
            NumberRange(1, 1440, "Between 1 and 1440 minutes."),
        ],
    )
    session_absolute_hours = IntegerField(
        "Log users out this many hours after they log in, however active",
        validators=[
            InputRequired("Enter a whole number of hours."),
            NumberRange(
                1, MAX_SESSION_HOURS, f"Between 1 and {MAX_SESSION_HOURS} hours."
            ),
        ],
    )

    clinic_name = StringField(
        "Clinic name (heads the patient's result sheet)",
        validators=[Length(max=CLINIC_NAME_MAX)],
        filters=[clean_text],
        description="Leave empty to print no name.",
    )
    report_link_weeks = IntegerField(
        "Patients' report links stop working this many weeks after the trial",
        validators=[
            InputRequired("Enter a whole number of weeks."),
            NumberRange(
                1,
                MAX_REPORT_LINK_WEEKS,
                f"Between 1 and {MAX_REPORT_LINK_WEEKS} weeks.",
            ),
        ],
    )

    two_factor_required = choice_field(
        "Who must sign in with a code from their phone as well",
        TWO_FACTOR_LABELS,
        validators=[InputRequired("Choose who must use two-factor sign-in.")],
        description="Those without it are sent to set it up at once.",
    )

    def validate_report_link_weeks(self, field):
        due = self.follow_up_due_weeks.data
        if due is not None and field.data is not None and field.data < due:
            raise ValidationError(
                "Links must work until the follow-up is due: at least the due week."
            )

    def validate_follow_up_due_weeks(self, field):
        minimum = self.follow_up_minimum_weeks.data
        if minimum is not None and field.data is not None and field.data < minimum:
            raise ValidationError("The due week cannot come before the minimum.")

    def validate_band_high(self, field):
        low = self.band_low.data
        if low is not None and field.data is not None and field.data <= low:
            raise ValidationError("The highest rate must be above the lowest.")
