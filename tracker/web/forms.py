"""Field helpers shared by the forms of several areas."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from ..models import REASON_MAX

PAIN_SCALE = "0 = no pain, 10 = worst pain imaginable"


def stripped(value):
    """A field filter: text without the blanks around it; other values as given."""
    return value.strip() if isinstance(value, str) else value


class PainScoreField(IntegerField):
    """An integer field whose parse error speaks of the pain scale."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Pain scores are whole numbers from 0 to 10.") from error


def pain_score_field(label: str) -> PainScoreField:
    """A 0-10 numeric rating scale score: a whole number, required."""
    return PainScoreField(
        label,
        validators=[
            InputRequired("Enter a pain score from 0 to 10."),
            NumberRange(
                0, 10, "Pain scores run from 0 (no pain) to 10 (worst imaginable)."
            ),
        ],
        description=PAIN_SCALE,
    )


def choice_field(
    label: str, choices: dict[str, str], *, blank: str | None = None, **kwargs
) -> SelectField:
    """A select of the codes the app stores, shown with their labels."""
    options = options_from(choices)
    if blank is not None:
        # A missing optional choice arrives as blank, not as an invalid one.
        options.insert(0, SelectChoice("", blank))
        kwargs.setdefault("default", "")
        return BlankableSelectField(label, choices=options, **kwargs)
    return SelectField(label, choices=options, **kwargs)


class BlankableSelectField(SelectField):
    """A select with a blank first option, which a missing stored value selects."""

    def process_data(self, value):
        super().process_data("" if value is None else value)


def options_from(choices: dict[str, str]) -> list[SelectChoice]:
    """Choices for a select or radio field from a code -> label mapping."""
    return [SelectChoice(value, label) for value, label in choices.items()]


def not_in_future(form, field) -> None:
    """Dates of things that have happened cannot lie ahead."""
    if field.data and field.data > date.today():
        raise ValidationError("The date cannot be in the future.")


def reason_field(label: str = "Reason for the change") -> TextAreaField:
    """Why a saved record is changed; kept in the audit trail."""
    return TextAreaField(
        label,
        validators=[
            InputRequired("Say why: the reason is kept in the audit trail."),
            Length(max=REASON_MAX, message=f"At most {REASON_MAX} characters."),
        ],
        description="Kept in the audit trail beside the old and new values.",
    )


class VoidForm(FlaskForm):
    """Voiding a record: it leaves lists and rates but stays on file."""

    reason = reason_field("Reason for voiding")
