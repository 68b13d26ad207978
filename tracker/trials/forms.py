"""The trial and follow-up forms."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from ..labels import ACTIVITIES, INTERVENTIONS, RATING_LABELS
from ..models import NOTES_MAX, PRODUCT_MAX, FollowUp, Trial
from ..reporting.filters import NOT_RECORDED, not_recorded
from ..web.forms import (
    REASON_LETTERS,
    choice_field,
    clean_text,
    letters,
    not_before_earliest,
    not_in_future,
    options_from,
    pain_score_field,
    reason_field,
)
from ..web.once import OnceOnlyForm


def _date_field(label: str) -> DateField:
    return DateField(
        label,
        validators=[
            InputRequired("Enter the date as YYYY-MM-DD."),
            not_before_earliest,
            not_in_future,
        ],
        default=date.today,
    )


class TrialForm(FlaskForm):
    """One trial, fields in the order they are measured."""

    trial_date = _date_field("Date of trial")
    activity = choice_field(
        "Provoking activity",
        ACTIVITIES,
        blank="Choose the activity",
        validators=[InputRequired("Choose the activity that provokes pain.")],
        invalid_choice_message="Choose one of the listed activities.",
    )
    activity_other = StringField(
        "Other activity",
        validators=[Length(max=PRODUCT_MAX)],
        filters=[clean_text],
        description="Describe the activity when it is not in the list.",
    )
    pain_without = pain_score_field("Pain without the aid")
    intervention = choice_field(
        "Aid",
        INTERVENTIONS,
        blank="Choose the aid",
        validators=[InputRequired("Choose the aid that was tried.")],
        invalid_choice_message="Choose insoles, taping or a knee brace.",
    )
    product = StringField(
        "Product / description",
        validators=[Length(max=PRODUCT_MAX)],
        filters=[clean_text],
        description='e.g. "prefabricated full-length insole, medial wedge"',
    )
    pain_with = pain_score_field("Pain with the aid")
    notes = TextAreaField("Notes", validators=[Length(max=NOTES_MAX)])

    def validate_product(self, field):
        """The filters' name for "no product" cannot also be a product's."""
        if not_recorded(field.data) == NOT_RECORDED:
            raise ValidationError(
                f"{NOT_RECORDED} stands for trials without a product: leave it blank."
            )

    def validate_activity_other(self, field):
        """'Other' says nothing on its own: it needs a description in words."""
        if self.activity.data == "other" and letters(field.data) < REASON_LETTERS:
            raise ValidationError("Describe the activity when you choose Other.")

    def fill(self, trial: Trial) -> None:
        """Copy the form onto a trial."""
        trial.trial_date = self.trial_date.data
        trial.activity = self.activity.data
        trial.activity_other = (
            self.activity_other.data.strip() if self.activity.data == "other" else ""
        )
        trial.pain_without = self.pain_without.data
        trial.intervention = self.intervention.data
        trial.product = (self.product.data or "").strip()
        trial.pain_with = self.pain_with.data
        trial.notes = self.notes.data or ""


class FollowUpForm(FlaskForm):
    """The patient seen again: pain in the same activity and their rating of change."""

    follow_up_date = _date_field("Date of follow-up")
    pain = pain_score_field("Pain during the same activity")
    still_using = RadioField(
        "Still using the aid?",
        choices=options_from({"yes": "Yes", "no": "No"}),
        invalid_choice_message="Say whether the patient still uses the aid.",
    )
    global_rating = RadioField(
        "Patient's global rating of change",
        choices=options_from(dict(reversed(RATING_LABELS.items()))),
        invalid_choice_message="Choose the patient's rating of change.",
    )

    def __init__(
        self, *args, trial: Trial, follow_up: FollowUp | None = None, **kwargs
    ):
        super().__init__(*args, obj=follow_up, **kwargs)
        if follow_up is not None and not self.is_submitted():
            self.still_using.data = "yes" if follow_up.still_using else "no"
        #: The trial followed up; the CSV import checks against one not yet saved.
        self.trial = trial

    def validate_follow_up_date(self, field):
        """A follow-up comes after the trial it follows."""
        trial_date = self.trial.trial_date
        if field.data and trial_date and field.data < trial_date:
            raise ValidationError(
                f"The follow-up cannot be before the trial ({trial_date:%Y-%m-%d})."
            )

    def fill(self, follow_up: FollowUp) -> None:
        """Copy the form onto a follow-up."""
        follow_up.follow_up_date = self.follow_up_date.data
        follow_up.pain = self.pain.data
        follow_up.still_using = self.still_using.data == "yes"
        follow_up.global_rating = self.global_rating.data


class NewTrialForm(TrialForm, OnceOnlyForm):
    """A new trial, saved once however often the form is sent."""


class NewFollowUpForm(FollowUpForm, OnceOnlyForm):
    """A new follow-up, saved once however often the form is sent."""


class TrialUpdateForm(TrialForm):
    """A correction to a saved trial, with its reason."""

    reason = reason_field()


class FollowUpUpdateForm(FollowUpForm):
    """A correction to a saved follow-up, with its reason."""

    reason = reason_field()


class LostForm(FlaskForm):
    """Giving up on a trial's outcome (or taking that back), with the reason.

    ``mark`` says which was meant ("lost" or "found"), so a form sent twice
    does not undo itself.
    """

    mark = HiddenField()
    reason = reason_field("Reason")
