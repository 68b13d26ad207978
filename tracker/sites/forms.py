"""The site form, and the sites fields of the admin's user forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import Site, User
from ..web.forms import stripped
from ..web.once import OnceOnlyForm
from .membership import (
    default_sites,
    open_sites,
    site_name_problem,
    sites_with_ids,
)


class SiteForm(FlaskForm):
    """A site's name, unique in the group regardless of case."""

    name = StringField(
        "Name",
        validators=[InputRequired("Enter the site's name.")],
        filters=[stripped],
    )

    def __init__(self, *args, site: Site | None = None, **kwargs):
        super().__init__(*args, obj=site, **kwargs)
        self._site = site

    def validate_name(self, field):
        problem = site_name_problem(field.data, renaming=self._site)
        if problem:
            raise ValidationError(problem)


class NewSiteForm(SiteForm, OnceOnlyForm):
    """A new site, saved once however often the form is sent."""


class UserSitesMixin:
    """Where a user works: some sites, or every site (admins always)."""

    sites = SelectMultipleField(
        "Sites",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    all_sites = BooleanField("Sees every site (admins always do)")

    def set_site_choices(self, account: User | None) -> None:
        """Open sites to choose from (and any retired one the user keeps)."""
        sites = open_sites()
        if account is not None:
            sites += [site for site in account.sites if site.retired]
        self.sites.choices = [(site.id, site.name) for site in sites]
        if self.sites.raw_data is None and not self.is_submitted():
            chosen = account.sites if account is not None else default_sites()
            self.sites.data = [site.id for site in chosen]

    def validate_sites(self, field):
        offered = {value for value, _ in field.choices}
        if any(value not in offered for value in field.data or []):
            raise ValidationError("Choose from the sites listed.")
        if self.role.data != "admin" and not self.all_sites.data and not field.data:
            # A single clinic has one site to choose: it is the user's.
            only = default_sites()
            if not only:
                raise ValidationError("Choose at least one site, or every site.")
            field.data = [site.id for site in only]

    def chosen_sites(self) -> list[Site]:
        """The sites ticked, none for a user who sees every site."""
        if self.all_sites.data or self.role.data == "admin":
            return []
        return sites_with_ids(self.sites.data or [])
