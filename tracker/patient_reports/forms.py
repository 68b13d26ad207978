"""The patient's own follow-up, as the clinic's follow-up form asks it."""

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from ..web.forms import options_from
from .words import RATINGS


class SelfReportForm(FlaskForm):
    """Pain in the same activity, still using the aid, and the rating of change.

    The fields are named ``pain``, ``still_using`` and ``global_rating``, with
    the codes the clinic's form stores, so other tools can fill it in too.
    """

    pain = RadioField(
        "How painful is it now, from 0 (no pain) to 10 (worst pain imaginable)?",
        choices=options_from({str(score): str(score) for score in range(11)}),
        validators=[InputRequired("Choose a number from 0 to 10.")],
        invalid_choice_message="Choose a number from 0 to 10.",
    )
    still_using = RadioField(
        "Are you still using it?",
        choices=options_from({"yes": "Yes", "no": "No"}),
        validators=[InputRequired("Say whether you still use it.")],
        invalid_choice_message="Answer yes or no.",
    )
    global_rating = RadioField(
        "Compared with before you started, how is your knee now?",
        choices=options_from(RATINGS),
        validators=[InputRequired("Choose how your knee is now.")],
        invalid_choice_message="Choose one of the five answers.",
    )
