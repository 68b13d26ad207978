"""The filters a reviewer sets on trials: one set for lists, dashboard and exports.

They travel in the query string, so a filtered view can be bookmarked and
shared, and the dashboard, its CSV download and the trials behind a number
all read the same parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, StringField
from wtforms.validators import Optional, ValidationError

from ..labels import ACTIVITIES, INTERVENTIONS
from ..models import (
    PRODUCT_MAX,
    SITE_NAME_MAX,
    USERNAME_MAX,
    Patient,
    Site,
    Trial,
    User,
)
from ..sites import scope
from ..sites.membership import same_name, site_named
from ..web.forms import choice_field, stripped

#: The product or therapist filter's value for trials without one: the
#: dashboard's "(not recorded)" rows link with it.
NOT_RECORDED = "(not recorded)"

COUNTING_UNITS = {
    "patient": "Each patient once per aid (first assessable trial)",
    "trial": "Every trial",
}


@dataclass(frozen=True)
class TrialFilters:
    """Which trials a list, the dashboard, a report or an export covers."""

    since: date | None = None
    until: date | None = None
    intervention: str | None = None
    activity: str | None = None
    #: A user name, or :data:`NOT_RECORDED` for trials nobody is named on.
    therapist: str | None = None
    #: A product, or :data:`NOT_RECORDED` for trials without one.
    product: str | None = None
    #: A site's name: its patients' trials only (within the user's sites).
    site: str | None = None
    unit: str = "patient"

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as query-string values, for links that keep them."""
        args = {
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "intervention": self.intervention or "",
            "activity": self.activity or "",
            "therapist": self.therapist or "",
            "product": self.product or "",
            "site": self.site or "",
            "unit": self.unit if self.unit != "patient" else "",
        }
        return {key: value for key, value in args.items() if value}

    def spans_sites(self) -> bool:
        """Whether the trials may come from several sites: none is chosen and
        the user sees more than one (tables by site are then worth showing)."""
        return not self.site and scope.several_sites_seen()

    def apply(
        self,
        query: sa.Select,
        *,
        include_voided: bool = False,
        patient_joined: bool = True,
    ) -> sa.Select:
        """Narrow a query over :class:`Trial` (joined to its patient) to the filters.

        Voided trials and trials of voided patients are left out unless a full
        export asks for them. A query that does not join the patient says
        so (``patient_joined=False``): the voided patients, a handful, are
        then left out with ``NOT EXISTS``.
        """
        sites = scope.visible_sites()
        if sites is not None:
            query = query.where(scope.trials_at(sorted(sites), patient_joined))
        if not include_voided:
            query = query.where(Trial.voided_at.is_(None))
            if patient_joined:
                query = query.where(Patient.voided_at.is_(None))
            else:
                voided_patient = sa.exists().where(
                    Patient.id == Trial.patient_id, Patient.voided_at.is_not(None)
                )
                query = query.where(~voided_patient)
        if self.since:
            query = query.where(Trial.trial_date >= self.since)
        if self.until:
            query = query.where(Trial.trial_date <= self.until)
        if self.intervention:
            query = query.where(Trial.intervention == self.intervention)
        if self.activity:
            query = query.where(Trial.activity == self.activity)
        if self.therapist == NOT_RECORDED:
            query = query.where(Trial.recorded_by_id.is_(None))
        elif self.therapist:
            query = query.where(
                Trial.recorded_by_id.in_(
                    sa.select(User.id).where(User.username == self.therapist)
                )
            )
        if self.product == NOT_RECORDED:
            query = query.where(sa.func.coalesce(Trial.product, "") == "")
        elif self.product:
            query = query.where(Trial.product == self.product)
        if self.site:
            named = sa.select(Site.id).where(same_name(self.site))
            query = query.where(scope.trials_at(named, patient_joined))
        return query


def not_recorded(value):
    """A field filter: "(Not recorded)" and the like read as :data:`NOT_RECORDED`."""
    if isinstance(value, str) and " ".join(value.lower().split()) == NOT_RECORDED:
        return NOT_RECORDED
    return value


class TrialFilterForm(Form):
    """The filters in a query string, parsed into :class:`TrialFilters`.

    No CSRF token: filters change nothing.
    """

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
        "Therapist (user name)",
        validators=[Optional()],
        filters=[stripped, not_recorded],
        description=f"{NOT_RECORDED} for trials nobody is named on.",
    )
    product = StringField(
        "Product",
        validators=[Optional()],
        filters=[stripped, not_recorded],
        description=f"{NOT_RECORDED} for trials without one.",
    )
    site = StringField(
        "Site",
        validators=[Optional()],
        filters=[stripped],
        description="A site's name; empty for all your sites.",
    )
    unit = choice_field(
        "Counting unit",
        COUNTING_UNITS,
        default="patient",
        validators=[Optional()],
        invalid_choice_message="Choose patients or trials.",
    )

    def validate_therapist(self, field):
        if field.data and len(field.data) > USERNAME_MAX:
            raise ValidationError(
                f"A user name has at most {USERNAME_MAX} characters; "
                f"type {NOT_RECORDED} for trials nobody is named on."
            )

    def validate_product(self, field):
        if field.data and len(field.data) > PRODUCT_MAX:
            raise ValidationError(
                f"A product name has at most {PRODUCT_MAX} characters; "
                f"type {NOT_RECORDED} for trials without one."
            )

    def validate_site(self, field):
        if not field.data:
            return
        site = site_named(field.data) if len(field.data) <= SITE_NAME_MAX else None
        sites = scope.visible_sites()
        if site is None or (sites is not None and site.id not in sites):
            raise ValidationError(f"None of your sites is called {field.data}.")

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
    def filters(self) -> TrialFilters | None:
        """The filters the form holds, or None while any of them is invalid."""
        if self.errors:
            return None
        return TrialFilters(
            since=self.since.data,
            until=self.until.data,
            intervention=self.intervention.data or None,
            activity=self.activity.data or None,
            therapist=self.therapist.data or None,
            product=self.product.data or None,
            site=self.site.data or None,
            unit=self.unit.data or "patient",
        )

    def as_args(self) -> dict[str, str]:
        """The valid, non-empty filters, for links that keep them."""
        return self.filters.as_args() if self.filters else {}


class InvalidFilters(ValueError):
    """Filters that do not parse; ``errors`` maps each filter to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def parse_filters(values: Mapping[str, str | None]) -> TrialFilters:
    """Filters from plain text values (a command's options), by the form's rules."""
    given = MultiDict({name: value for name, value in values.items() if value})
    form = TrialFilterForm.from_args(given)
    if form.filters is None:
        raise InvalidFilters(form.errors)
    return form.filters
