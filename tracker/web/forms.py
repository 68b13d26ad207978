"""Field helpers shared by the forms of several areas."""

import unicodedata
from datetime import date

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from ..models import REASON_MAX

PAIN_SCALE = "0 = no pain, 10 = worst pain imaginable"
#: The fewest letters a reason, or other required free text, may hold.
REASON_LETTERS = 3


#: Letters that show nothing (Hangul fillers) and the blank Braille pattern.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: Unicode categories that show nothing: separators, controls, format characters.
_INVISIBLE = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf"))


def _dropped(character: str) -> bool:
    """Gone from anywhere in a text: controls but tab and newline, format ones."""
    if character in _BLANK_LETTERS:
        return True
    category = unicodedata.category(character)
    return category == "Cf" or (category == "Cc" and character not in "\n\t")


def _invisible(character: str) -> bool:
    return unicodedata.category(character) in _INVISIBLE


def clean_text(value):
    """Typed text as kept: what a reader cannot see taken out; other values as given.

    Line breaks become ``\\n``; format characters (zero-width spaces, joiners,
    byte order marks, direction overrides) and control characters other than
    tab and newline go from anywhere; whitespace, controls and format
    characters (Unicode categories Z*, Cc, Cf) go from both ends.
    """
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(character for character in value if not _dropped(character))
    start, end = 0, len(kept)
    while start < end and _invisible(kept[start]):
        start += 1
    while end > start and _invisible(kept[end - 1]):
        end -= 1
    return kept[start:end]


def stripped(value):
    """A field filter: text without the blanks around it; other values as given.

    Blanks here are any :func:`clean_text` removes, not only ASCII spaces.
    """
    return clean_text(value)


def letters(text: str | None) -> int:
    """How many letters ``text`` holds (Unicode category L*)."""
    return sum(character.isalpha() for character in text or "")


class HasLetters:
    """A validator: the field's text holds at least ``count`` letters.

    Put :func:`clean_text` among the field's filters, so that invisible
    characters neither count nor get stored.
    """

    def __init__(self, count: int, message: str):
        self.count, self.message = count, message

    def __call__(self, form, field):
        if letters(field.data) < self.count:
            raise ValidationError(self.message)


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


#: No trial or follow-up of this tracker is older: an earlier date is a typo.
EARLIEST_DATE = date(2000, 1, 1)


def not_before_earliest(form, field) -> None:
    """A date like 1900-01-01 is a slip of the keyboard, not a clinic visit."""
    if field.data and field.data < EARLIEST_DATE:
        raise ValidationError(f"Enter a date from {EARLIEST_DATE.year} on.")


def reason_field(label: str = "Reason for the change") -> TextAreaField:
    """Why a saved record is changed; kept in the audit trail."""
    return TextAreaField(
        label,
        validators=[
            InputRequired("Say why: the reason is kept in the audit trail."),
            HasLetters(
                REASON_LETTERS,
                f"Write the reason in words (at least {REASON_LETTERS} letters).",
            ),
            Length(max=REASON_MAX, message=f"At most {REASON_MAX} characters."),
        ],
        filters=[clean_text],
        description="Kept in the audit trail beside the old and new values.",
    )


class VoidForm(FlaskForm):
    """Voiding a record: it leaves lists and rates but stays on file."""

    reason = reason_field("Reason for voiding")
