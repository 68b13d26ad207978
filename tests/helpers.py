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


def follow_up_form(**overrides) -> dict:
    """The follow-up form's fields (seen today), with ``overrides``."""
    return {
        "follow_up_date": date.today().isoformat(),
        "pain": "2",
        "still_using": "yes",
        "global_rating": "markedly_improved",
    } | overrides


def settings_form(**overrides) -> dict:
    """The clinic settings form at its defaults, with ``overrides``."""
    return {
        "relief_criterion": "any",
        "benefit_definition": "markedly_improved",
        "follow_up_minimum_weeks": "6",
        "follow_up_due_weeks": "12",
        "band_low": "25",
        "band_high": "50",
        "session_idle_minutes": "30",
        "session_absolute_hours": "12",
        "clinic_name": "",
        "report_link_weeks": "26",
        "two_factor_required": "nobody",
    } | overrides
