"""The filters a reviewer sets on trials: one set for lists, dashboard and exports.

They travel in the query string, so a filtered view can be bookmarked and
shared, and the dashboard, its CSV download and the trials behind a number
all read the same parameters.
"""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, StringField
from wtforms.validators import Optional, ValidationError

from ..models import ACTIVITIES, INTERVENTIONS, Patient, Trial, User
from ..web.forms import choice_field, stripped

COUNTING_UNITS = {
    "patient": "Each patient once per aid (first assessable trial)",
    "trial": "Every trial",
}


class TrialFilterForm(Form):
    """Query-string filters; no CSRF token, as they change nothing."""

    since = DateField("From", validators=[Optional()])
    until = DateField("Until", validators=[Optional()])
    intervention = choice_field(
        "Aid",
        INTERVENTIONS,
        blank="All aids",
        validators=[Optional()],
        invalid_choice_message="Choose insoles, taping or a knee brace.",
    )
    activity = choice_field(
        "Activity",
        ACTIVITIES,
        blank="All activities",
        validators=[Optional()],
        invalid_choice_message="Choose one of the listed activities.",
    )
    therapist = StringField(
        "Therapist (user name)", validators=[Optional()], filters=[stripped]
    )
    product = StringField("Product", validators=[Optional()], filters=[stripped])
    unit = choice_field(
        "Counting unit",
        COUNTING_UNITS,
        default="patient",
        validators=[Optional()],
        invalid_choice_message="Choose patients or trials.",
    )

    def validate_until(self, field):
        if self.since.data and field.data and field.data < self.since.data:
            raise ValidationError("The end date cannot come before the start date.")

    @classmethod
    def from_args(cls, args: MultiDict) -> TrialFilterForm:
        """The filters in a request's query string, validated."""
        form = cls(args)
        form.validate()
        return form

    @property
    def unit_value(self) -> str:
        """The counting unit in force ("patient" unless chosen otherwise)."""
        return self.unit.data if self.unit.data in COUNTING_UNITS else "patient"

    def as_args(self) -> dict[str, str]:
        """The valid, non-empty filters, for links that keep them."""
        if self.errors:
            return {}
        args = {
            "since": self.since.data.isoformat() if self.since.data else "",
            "until": self.until.data.isoformat() if self.until.data else "",
            "intervention": self.intervention.data or "",
            "activity": self.activity.data or "",
            "therapist": self.therapist.data or "",
            "product": self.product.data or "",
            "unit": self.unit_value if self.unit_value != "patient" else "",
        }
        return {key: value for key, value in args.items() if value}

    def apply(
        self,
        query: sa.Select,
        *,
        include_voided: bool = False,
        patient_joined: bool = True,
    ) -> sa.Select:
        """Narrow a query over :class:`Trial` (joined to its patient) to the filters.

        Voided trials and trials of voided patients are left out unless a full
        export asks for them. With invalid filters the query matches nothing,
        rather than everything. A query that does not join the patient says
        so (``patient_joined=False``): the voided patients, a handful, are
        then left out with ``NOT EXISTS``.
        """
        if not include_voided:
            query = query.where(Trial.voided_at.is_(None))
            if patient_joined:
                query = query.where(Patient.voided_at.is_(None))
            else:
                voided_patient = sa.exists().where(
                    Patient.id == Trial.patient_id, Patient.voided_at.is_not(None)
                )
                query = query.where(~voided_patient)
        if self.errors:
            return query.where(sa.false())
        if self.since.data:
            query = query.where(Trial.trial_date >= self.since.data)
        if self.until.data:
            query = query.where(Trial.trial_date <= self.until.data)
        if self.intervention.data:
            query = query.where(Trial.intervention == self.intervention.data)
        if self.activity.data:
            query = query.where(Trial.activity == self.activity.data)
        if self.therapist.data:
            query = query.where(
                Trial.recorded_by_id.in_(
                    sa.select(User.id).where(User.username == self.therapist.data)
                )
            )
        if self.product.data:
            query = query.where(Trial.product == self.product.data)
        return query
