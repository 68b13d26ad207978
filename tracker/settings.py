"""The clinic's settings: how relief, benefit and the outcome follow-up are judged."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g

from analysis.rule import BENEFIT_DEFINITIONS, CLINIC_RELIEF_CRITERIA

#: Initial values; the instance config may override any of them.
DEFAULTS = {
    "RELIEF_CRITERION": "any",
    "BENEFIT_DEFINITION": "markedly_improved",
    "FOLLOW_UP_MINIMUM_WEEKS": 6,
    "FOLLOW_UP_DUE_WEEKS": 12,
    "REFERENCE_BAND": (0.25, 0.50),
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "CLINIC_NAME": "",
    "REPORT_LINK_WEEKS": 26,
    "TWO_FACTOR_REQUIRED": "nobody",
}
#: Who must sign in with a second factor (see tracker.auth.two_factor).
TWO_FACTOR_CHOICES = ("nobody", "admins", "admins_and_reviewers")
#: The longest absolute session lifetime an admin may choose: a week.
MAX_SESSION_HOURS = 7 * 24
#: The longest a clinic name may be: it heads the patient's sheet.
CLINIC_NAME_MAX = 120
#: The longest a report link may stay open after its trial: two years.
MAX_REPORT_LINK_WEEKS = 104


@dataclass(frozen=True)
class ClinicSettings:
    """One clinic's choices, passed as plain values to the analysis functions."""

    relief_criterion: str = "any"
    benefit_definition: str = "markedly_improved"
    follow_up_minimum_weeks: int = 6
    follow_up_due_weeks: int = 12
    band_low: float = 0.25
    band_high: float = 0.50
    session_idle_minutes: int = 30
    #: However busy, a session ends this long after its login.
    session_absolute_hours: int = 12
    #: Heads the patient's result sheet and report page; empty: no name shown.
    clinic_name: str = ""
    #: A patient's report link stops working this many weeks after the trial.
    report_link_weeks: int = 26
    #: Which roles must sign in with a second factor: one of TWO_FACTOR_CHOICES.
    two_factor_required: str = "nobody"

    def __post_init__(self):
        if self.relief_criterion not in CLINIC_RELIEF_CRITERIA:
            raise ValueError(
                f"RELIEF_CRITERION must be one of {CLINIC_RELIEF_CRITERIA}"
            )
        if self.benefit_definition not in BENEFIT_DEFINITIONS:
            raise ValueError(f"BENEFIT_DEFINITION must be one of {BENEFIT_DEFINITIONS}")
        if not 0 <= self.follow_up_minimum_weeks <= self.follow_up_due_weeks:
            raise ValueError(
                "FOLLOW_UP_MINIMUM_WEEKS must be between 0 and the due week"
            )
        if not 0 <= self.band_low < self.band_high <= 1:
            raise ValueError(
                "REFERENCE_BAND must be (low, high) with 0 <= low < high <= 1"
            )
        if not 1 <= self.session_idle_minutes <= 24 * 60:
            raise ValueError("SESSION_IDLE_MINUTES must be between 1 and 1440")
        if not 1 <= self.session_absolute_hours <= MAX_SESSION_HOURS:
            raise ValueError(
                f"SESSION_ABSOLUTE_HOURS must be between 1 and {MAX_SESSION_HOURS}"
            )
        if not isinstance(self.clinic_name, str) or len(self.clinic_name) > (
            CLINIC_NAME_MAX
        ):
            raise ValueError(
                f"CLINIC_NAME must be text of at most {CLINIC_NAME_MAX} characters"
            )
        if not 1 <= self.report_link_weeks <= MAX_REPORT_LINK_WEEKS:
            raise ValueError(
                f"REPORT_LINK_WEEKS must be between 1 and {MAX_REPORT_LINK_WEEKS}"
            )
        if self.two_factor_required not in TWO_FACTOR_CHOICES:
            raise ValueError(f"TWO_FACTOR_REQUIRED must be one of {TWO_FACTOR_CHOICES}")

    @classmethod
    def from_config(cls, config) -> ClinicSettings:
        """Settings from a Flask config mapping (or the config with admin edits)."""
        low, high = config["REFERENCE_BAND"]
        return cls(
            relief_criterion=config["RELIEF_CRITERION"],
            benefit_definition=config["BENEFIT_DEFINITION"],
            follow_up_minimum_weeks=int(config["FOLLOW_UP_MINIMUM_WEEKS"]),
            follow_up_due_weeks=int(config["FOLLOW_UP_DUE_WEEKS"]),
            band_low=float(low),
            band_high=float(high),
            session_idle_minutes=int(config["SESSION_IDLE_MINUTES"]),
            session_absolute_hours=int(config["SESSION_ABSOLUTE_HOURS"]),
            clinic_name=config["CLINIC_NAME"],
            report_link_weeks=int(config["REPORT_LINK_WEEKS"]),
            two_factor_required=config["TWO_FACTOR_REQUIRED"],
        )

    def as_config(self) -> dict:
        """The settings under their config names, as the instance config spells them."""
        return {
            "RELIEF_CRITERION": self.relief_criterion,
            "BENEFIT_DEFINITION": self.benefit_definition,
            "FOLLOW_UP_MINIMUM_WEEKS": self.follow_up_minimum_weeks,
            "FOLLOW_UP_DUE_WEEKS": self.follow_up_due_weeks,
            "REFERENCE_BAND": [self.band_low, self.band_high],
            "SESSION_IDLE_MINUTES": self.session_idle_minutes,
            "SESSION_ABSOLUTE_HOURS": self.session_absolute_hours,
            "CLINIC_NAME": self.clinic_name,
            "REPORT_LINK_WEEKS": self.report_link_weeks,
            "TWO_FACTOR_REQUIRED": self.two_factor_required,
        }


def clinic_settings() -> ClinicSettings:
    """The settings in force: the instance config, then admins' edits; read once."""
    if "clinic_settings" not in g:
        from .extensions import db
        from .models import ClinicSetting

        edits = {
            row.name: row.value for row in db.session.scalars(sa.select(ClinicSetting))
        }
        g.clinic_settings = ClinicSettings.from_config(
            {name: current_app.config[name] for name in DEFAULTS} | edits
        )
    return g.clinic_settings
