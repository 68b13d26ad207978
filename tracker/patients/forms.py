"""The patient form."""

from datetime import date

import sqlalchemy as sa
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
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
from ..sites import scope
from ..sites.membership import sites_for_new_patients
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
        """Codes identify patients across the group, so no two may share one."""
        if not field.data:
            raise ValidationError("Enter the patient's clinic code.")
        taken = self.code_in_use(field.data)
        if taken is None:
            return
        code, site_id = taken
        sites = scope.visible_sites()
        if sites is not None and site_id not in sites:
            raise ValidationError(
                f"Clinic code {field.data} is already in use at another site "
                "of the group."
            )
        spelt = "" if code == field.data else f" (as {code})"
        raise ValidationError(f"Clinic code {field.data} is already in use{spelt}.")

    def code_in_use(self, code: str) -> tuple[str, int] | None:
        """Another patient's code equal to ``code`` regardless of case, and site.

        PF-0001 and pf-0001 would name one patient to a reader. Every site
        is searched: the database keeps codes unique across the group.
        """
        query = sa.select(Patient.code, Patient.site_id).where(
            sa.func.lower(Patient.code) == sa.func.lower(code)
        )
        if self._patient is not None:
            query = query.where(Patient.id != self._patient.id)
        return db.session.execute(scope.every_site(query)).first()

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


class PatientSiteForm(PatientForm):
    """The patient form of the screens: with the site, among the user's own."""

    site_id = SelectField("Site", coerce=int, validate_choice=False)

    def __init__(self, *args, patient: Patient | None = None, **kwargs):
        super().__init__(*args, patient=patient, **kwargs)
        sites = sites_for_new_patients(current_user)
        if patient is not None and patient.site not in sites:
            sites.insert(0, patient.site)  # retired since, or not the user's
        self.site_id.choices = [(site.id, site.name) for site in sites]
        if len(sites) == 1 and not self.site_id.raw_data:
            self.site_id.data = sites[0].id

    def validate_site_id(self, field):
        """A patient belongs to one of the user's open sites."""
        if not field.choices:
            raise ValidationError(
                "You work at no open site: ask an administrator to add you to one."
            )
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose one of your sites.")

    def fill(self, patient: Patient) -> None:
        super().fill(patient)
        patient.site_id = self.site_id.data


class NewPatientForm(PatientSiteForm, OnceOnlyForm):
    """A new patient, saved once however often the form is sent."""


class PatientUpdateForm(PatientSiteForm):
    """A correction to a patient's details, with its reason."""

    reason = reason_field()
