"""The trial file's columns: the data dictionary in code, and the export levels.

The names and order here are the file format (docs/csv-format.md, "Data
dictionary"): an export writes them, an import checks a header against them.
"""

from __future__ import annotations

from typing import Literal

Level = Literal["full", "deidentified"]
LEVELS: tuple[Level, ...] = ("full", "deidentified")
KINDS = ("trials", "followups", "audit")

REQUIRED_COLUMNS = (
    "patient_code",
    "trial_date",
    "intervention",
    "activity",
    "pain_without",
    "pain_with",
)
OPTIONAL_COLUMNS = (
    "product",
    "activity_other",
    "notes",
    "patient_birth_year",
    "patient_sex",
    "affected_side",
    "followup_date",
    "followup_pain",
    "followup_rating",
    "still_using",
    "followup_source",
    "lost_reason",
)
#: The columns an import reads and an export reproduces byte for byte.
CLINICAL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Computed or bookkeeping columns: exported, accepted on import and ignored.
DERIVED_COLUMNS = (
    "trial_id",
    "followup_count",
    "relief_criterion",
    "immediate_relief",
    "prediction",
    "outcome_weeks",
    "long_term_benefit",
    "benefit_definition",
    "follow_up_status",
    "recorded_by",
    "recorded_at",
    "voided",
    "void_reason",
)
#: The patient's site by name: exported, and read on import to place new
#: patients and check each row's (see :mod:`.site_choice`).
SITE_COLUMN = "site"
TRIAL_COLUMNS = CLINICAL_COLUMNS + DERIVED_COLUMNS + (SITE_COLUMN,)
DEIDENTIFIED_TRIAL_COLUMNS = (
    "patient_number",
    "age_band",
    "patient_sex",
    "affected_side",
    "trial_day",
    "intervention",
    "activity",
    "pain_without",
    "pain_with",
    "followup_day",
    "followup_pain",
    "followup_rating",
    "still_using",
    "followup_source",
    "followup_count",
    "relief_criterion",
    "immediate_relief",
    "prediction",
    "outcome_weeks",
    "long_term_benefit",
    "benefit_definition",
)
FOLLOW_UP_COLUMNS = (
    "followup_id",
    "trial_id",
    "patient_code",
    "trial_date",
    "intervention",
    "activity",
    "followup_date",
    "weeks_after_trial",
    "followup_pain",
    "still_using",
    "followup_rating",
    "source",
    "is_outcome",
    "long_term_benefit",
    "benefit_definition",
    "recorded_by",
    "recorded_at",
    "voided",
    "void_reason",
    "site",
)
DEIDENTIFIED_FOLLOW_UP_COLUMNS = (
    "patient_number",
    "trial_day",
    "intervention",
    "activity",
    "followup_day",
    "weeks_after_trial",
    "followup_pain",
    "still_using",
    "followup_rating",
    "source",
    "is_outcome",
    "long_term_benefit",
    "benefit_definition",
)
AUDIT_COLUMNS = (
    "event_id",
    "at",
    "username",
    "action",
    "table_name",
    "record_id",
    "changes",
    "reason",
)

#: The file's columns -> the fields of the form that checks them.
_PATIENT_FIELDS = {
    "patient_code": "code",
    "patient_birth_year": "birth_year",
    "patient_sex": "sex",
    "affected_side": "affected_side",
}
_TRIAL_FIELDS = {
    "trial_date": "trial_date",
    "intervention": "intervention",
    "product": "product",
    "activity": "activity",
    "activity_other": "activity_other",
    "pain_without": "pain_without",
    "pain_with": "pain_with",
    "notes": "notes",
    "lost_reason": "lost_reason",
}
_FOLLOW_UP_FIELDS = {
    "followup_date": "follow_up_date",
    "followup_pain": "pain",
    "followup_rating": "global_rating",
    "still_using": "still_using",
    "followup_source": "source",
}


def _check_level(level: str, include_voided: bool) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown export level {level!r}")
    if include_voided and level != "full":
        raise ValueError("voided records are only in full exports")
