"""The export options and the upload of a trial file."""

from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, Form, HiddenField, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError

from ..sites.membership import sites_for_new_patients
from ..web.forms import choice_field

LEVEL_LABELS = {
    "full": "Full: everything, notes included (administrators)",
    "deidentified": "De-identified: no free text, no dates, age bands",
}


class ExportOptionsForm(Form):
    """Query-string options of a trials or follow-ups download, beside the filters."""

    level = choice_field(
        "Level",
        LEVEL_LABELS,
        blank="The fullest my role allows",
        validators=[Optional()],
        invalid_choice_message="Choose full or de-identified.",
    )
    include_voided = BooleanField("Include voided records (full level only)")

    def chosen_level(self, full_allowed: bool) -> str:
        """The level asked for, or the fullest the user may have."""
        if self.level.data:
            return self.level.data
        return "full" if full_allowed else "deidentified"


class UploadForm(FlaskForm):
    """A trial file to check, and then to import, for one of the user's sites.

    The site is offered only to users of several open sites; a user of one
    imports into it (see :mod:`tracker.csvio.site_choice`).
    """

    site = SelectField(
        "Site",
        validate_choice=False,
        description="Where the file's new patients go; rows of another site are "
        "refused. Or leave it to each row's site column.",
    )
    file = FileField(
        "Trial file (CSV)",
        validators=[
            FileRequired("Choose a CSV file."),
            FileAllowed(["csv"], "Choose a .csv file (save the sheet as CSV UTF-8)."),
        ],
        description="Columns as in the data dictionary; UTF-8, commas between "
        "columns. Up to 16 MB here; larger files with flask import-trials.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sites = sites_for_new_patients(current_user)
        self.site.choices = [("", "As each row's site column says")] + [
            (site.name, site.name) for site in sites
        ]
        #: Whether to show the choice: a user of one site has none to make.
        self.site_offered = len(sites) > 1

    def validate_site(self, field):
        if self.site_offered and field.data not in dict(field.choices):
            raise ValidationError("Choose one of your sites.")

    def chosen_site(self) -> str | None:
        """The site the import is for, if the user chose one."""
        return (self.site.data or None) if self.site_offered else None


class ConfirmForm(FlaskForm):
    """Writing the file that the preview checked."""

    token = HiddenField(validators=[InputRequired()])
