"""The export options and the upload of a trial file."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, Form, HiddenField
from wtforms.validators import InputRequired, Optional

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
    """A trial file to check, and then to import."""

    file = FileField(
        "Trial file (CSV)",
        validators=[
            FileRequired("Choose a CSV file."),
            FileAllowed(["csv"], "Choose a .csv file (save the sheet as CSV UTF-8)."),
        ],
        description="Columns as in the data dictionary; UTF-8, commas between "
        "columns. Up to 16 MB here; larger files with flask import-trials.",
    )


class ConfirmForm(FlaskForm):
    """Writing the file that the preview checked."""

    token = HiddenField(validators=[InputRequired()])
