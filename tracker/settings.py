"""The clinic's settings: how relief, benefit and the outcome follow-up are judged."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g

from analysis.rule import BENEFIT_DEFINITIONS, CLINIC_RELIEF_CRITERIA

#: Initial values; the instance config may override any of them.
DEFAULTS = {
    "RELIEF_CRITERION": "any",
    "BENEFIT_DEFINITION": "markedly_improved",
    "FOLLOW_UP_MINIMUM_WEEKS": 6,
    "FOLLOW_UP_DUE_WEEKS": 12,
    "REFERENCE_BAND": (0.25, 0.50),
}


RELIEF_CRITERION_LABELS = {
    "any": "any reduction in pain (at least 1 point)",
    "mcid": "a reduction of at least 2 points or 30% (Farrar et al. 2001)",
}


@dataclass(frozen=True)
class ClinicSettings:
    """One clinic's choices, passed as plain values to the analysis functions."""

    relief_criterion: str = "any"
    benefit_definition: str = "markedly_improved"
    follow_up_minimum_weeks: int = 6
    follow_up_due_weeks: int = 12
    band_low: float = 0.25
    band_high: float = 0.50

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

    @classmethod
    def from_config(cls, config) -> ClinicSettings:
        """Settings from a Flask config mapping."""
        low, high = config["REFERENCE_BAND"]
        return cls(
            relief_criterion=config["RELIEF_CRITERION"],
            benefit_definition=config["BENEFIT_DEFINITION"],
            follow_up_minimum_weeks=int(config["FOLLOW_UP_MINIMUM_WEEKS"]),
            follow_up_due_weeks=int(config["FOLLOW_UP_DUE_WEEKS"]),
            band_low=float(low),
            band_high=float(high),
        )


def clinic_settings() -> ClinicSettings:
    """The settings in force for this request, read once."""
    if "clinic_settings" not in g:
        g.clinic_settings = ClinicSettings.from_config(current_app.config)
    return g.clinic_settings
