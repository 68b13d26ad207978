"""Each row of a trial file checked with the screens' forms; no database.

The forms' rules and messages are the screens', so a file is held to what
the pages would accept.
"""

from __future__ import annotations

from datetime import date

from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ..labels import FOLLOW_UP_SOURCES
from ..models import REASON_MAX, FollowUp, Trial
from ..patients.forms import PatientForm
from ..trials.forms import FollowUpForm, TrialForm
from ..web.forms import REASON_LETTERS, HasLetters, choice_field, clean_text
from .columns import _FOLLOW_UP_FIELDS, _PATIENT_FIELDS, _TRIAL_FIELDS
from .formcheck import FormCheck
from .report import Problem


class _ImportPatientForm(PatientForm):
    """On import a known code names that patient: it is reused, not refused."""

    def code_in_use(self, code: str) -> str | None:
        return None


class _ImportTrialForm(TrialForm):
    """A trial, and the reason it was marked lost to follow-up, if it was.

    The reason is held to the lost page's rules; blank means not lost.
    """

    lost_reason = TextAreaField(
        "Reason lost to follow-up",
        validators=[
            Optional(),
            HasLetters(
                REASON_LETTERS,
                f"Write the reason in words (at least {REASON_LETTERS} letters).",
            ),
            Length(max=REASON_MAX, message=f"At most {REASON_MAX} characters."),
        ],
        filters=[clean_text],
    )

    def fill(self, trial: Trial) -> None:
        """Copy the form onto a trial; the importer sets ``lost_at``."""
        super().fill(trial)
        trial.lost_reason = self.lost_reason.data or None


class _ImportFollowUpForm(FollowUpForm):
    """A follow-up, and who reported it: the clinic (when blank) or the patient."""

    source = choice_field(
        "Reported by",
        FOLLOW_UP_SOURCES,
        blank="",
        invalid_choice_message=(
            "Write clinic or patient (who reported the follow-up), "
            "or leave it blank for clinic."
        ),
    )

    def fill(self, follow_up: FollowUp) -> None:
        """Copy the form onto a follow-up."""
        super().fill(follow_up)
        follow_up.source = self.source.data or "clinic"


def _plain_form(form_class, **kwargs):
    # One instance re-processed per row: the rules are the screen's, the cost
    # of building a form (and its CSRF token) is paid once.
    return form_class(formdata=None, meta={"csrf": False}, **kwargs)


class _Values:
    """What a form's ``fill`` copies onto a record, read back as a plain dict."""


class _TrialDate:
    """The trial a follow-up row follows, as the follow-up form looks at it."""

    trial_date: date | None = None


class _RowChecker:
    """Validates one CSV row with the patient, trial and follow-up forms.

    Each form is checked through :class:`~tracker.formcheck.FormCheck`: the
    forms' own rules and messages, each distinct cell value checked once.
    """

    def __init__(self):
        self.followed_trial = _TrialDate()
        self.patient, self.trial, self.follow_up = (
            FormCheck(_plain_form(form_class, **kwargs), _field_columns(fields))
            for form_class, kwargs, fields in (
                (_ImportPatientForm, {}, _PATIENT_FIELDS),
                (_ImportTrialForm, {}, _TRIAL_FIELDS),
                (
                    _ImportFollowUpForm,
                    {"trial": self.followed_trial},
                    _FOLLOW_UP_FIELDS,
                ),
            )
        )

    def check(self, line: int, values: dict[str, str], problems: list[Problem]):
        """The row's patient, trial and follow-up as column values, or None."""
        patient, patient_ok = self._check(self.patient, values, line, problems)
        trial, trial_ok = self._check(self.trial, values, line, problems)
        follow_up = None
        if any(values.get(column, "").strip() for column in _FOLLOW_UP_FIELDS):
            # Checked against the trial date as read, even if the trial is refused.
            self.followed_trial.trial_date = trial["trial_date"]
            follow_up, follow_up_ok = self._check(
                self.follow_up, values, line, problems
            )
            trial_ok = trial_ok and follow_up_ok
        if values.get("voided", "").strip().lower() == "yes":
            problems.append(
                Problem(
                    line, "voided", "voided trials are not imported; remove the row"
                )
            )
            trial_ok = False
        if not (patient_ok and trial_ok):
            return None
        return (
            self._fill(self.patient, patient),
            self._fill(self.trial, trial),
            follow_up and self._fill(self.follow_up, follow_up),
        )

    @staticmethod
    def _check(check: FormCheck, values, line, problems) -> tuple[dict, bool]:
        data, errors = check.check(values)
        if not errors:
            return data, True
        for name, messages in errors.items():
            problems.append(Problem(line, check.columns.get(name), messages[0]))
        return data, False

    @staticmethod
    def _fill(check: FormCheck, data: dict) -> dict:
        record = _Values()
        check.fill(data, record)
        return vars(record)


def _field_columns(fields: dict[str, str]) -> dict[str, str]:
    """Form field names -> the file's columns, from columns -> field names."""
    return {name: column for column, name in fields.items()}
