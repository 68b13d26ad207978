"""What the app-side tests share: the accounts' password and form builders."""

from datetime import date

#: The password every test account shares.
PASSWORD = "correct horse battery"


def trial_form(**overrides) -> dict:
    """The trial form's fields as a browser posts them, with ``overrides``."""
    return {
        "trial_date": date.today().isoformat(),
        "activity": "single_leg_squat",
        "activity_other": "",
        "pain_without": "6",
        "intervention": "insole",
        "product": "prefabricated full-length insole, medial wedge",
        "pain_with": "3",
        "notes": "",
    } | overrides
