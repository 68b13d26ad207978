"""The patient form."""

from datetime import date

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..extensions import db
from ..labels import SEXES, SIDES
from ..models import CODE_MAX, NOTES_MAX, Patient
from ..web.forms import choice_field, reason_field, stripped
from ..web.once import OnceOnlyForm


class PatientForm(FlaskForm):
    """A pseudonymous patient: a clinic code, never a name."""

    code = StringField(
        "Clinic code",
        validators=[
            InputRequired("Enter the patient's clinic code."),
            Length(max=CODE_MAX),
        ],
        filters=[stripped],
        description="Pseudonymous, e.g. PF-0042. Never a name.",
    )
    birth_year = IntegerField(
        "Year of birth",
        validators=[
            Optional(),
            NumberRange(1900, message="Enter a year from 1900 to this year."),
        ],
    )
    sex = choice_field(
        "Sex",
        SEXES,
        blank="Not recorded",
        invalid_choice_message="Choose from the list.",
    )
    affected_side = choice_field(
        "Affected side",
        SIDES,
        blank="Not recorded",
        invalid_choice_message="Choose left, right or both.",
    )
    notes = TextAreaField("Notes", validators=[Length(max=NOTES_MAX)])

    def __init__(self, *args, patient: Patient | None = None, **kwargs):
        super().__init__(*args, obj=patient, **kwargs)
        self._patient = patient

    def validate_code(self, field):
        """Codes identify patients, so no two may share one."""
        if not field.data:
            raise ValidationError("Enter the patient's clinic code.")
        if (taken := self.code_in_use(field.data)) is not None:
            spelt = "" if taken == field.data else f" (as {taken})"
            raise ValidationError(f"Clinic code {field.data} is already in use{spelt}.")

    def code_in_use(self, code: str) -> str | None:
        """Another patient's code equal to ``code`` regardless of case, if any.

        PF-0001 and pf-0001 would name one patient to a reader.
        """
        query = sa.select(Patient.code).where(
            sa.func.lower(Patient.code) == sa.func.lower(code)
        )
        if self._patient is not None:
            query = query.where(Patient.id != self._patient.id)
        return db.session.scalar(query)

    def validate_birth_year(self, field):
        """A birth year cannot lie ahead."""
        if field.data is not None and field.data > date.today().year:
            raise ValidationError("Enter a year from 1900 to this year.")

    def fill(self, patient: Patient) -> None:
        """Copy the form onto a patient; blank choices are stored as missing."""
        patient.code = self.code.data
        patient.birth_year = self.birth_year.data
        patient.sex = self.sex.data or None
        patient.affected_side = self.affected_side.data or None
        patient.notes = self.notes.data or ""


class NewPatientForm(PatientForm, OnceOnlyForm):
    """A new patient, saved once however often the form is sent."""


class PatientUpdateForm(PatientForm):
    """A correction to a patient's details, with its reason."""

    reason = reason_field()
