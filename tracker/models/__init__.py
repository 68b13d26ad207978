"""The tables, by concern: accounts, clinical records, and the tracker's own records.

Everything is importable from here, as ``from tracker.models import Trial``.
"""

from .accounts import LoginAttempt, RecoveryCode, User
from .clinical import FollowUp, Patient, Trial
from .common import (
    CODE_MAX,
    NOTES_MAX,
    PRODUCT_MAX,
    REASON_MAX,
    SUBMISSION_KEY_LENGTH,
    USERNAME_MAX,
    ClinicalRecord,
    utcnow,
)
from .records import (
    AuditEvent,
    ClinicSetting,
    FormSubmission,
    ReportLink,
    ReportLinkRefusal,
)
from .sites import DEFAULT_SITE_ID, SITE_NAME_MAX, Site, user_site

__all__ = [
    "CODE_MAX",
    "DEFAULT_SITE_ID",
    "SITE_NAME_MAX",
    "NOTES_MAX",
    "PRODUCT_MAX",
    "REASON_MAX",
    "SUBMISSION_KEY_LENGTH",
    "USERNAME_MAX",
    "AuditEvent",
    "ClinicSetting",
    "ClinicalRecord",
    "FollowUp",
    "FormSubmission",
    "LoginAttempt",
    "Patient",
    "RecoveryCode",
    "ReportLink",
    "ReportLinkRefusal",
    "Site",
    "Trial",
    "User",
    "user_site",
    "utcnow",
]
