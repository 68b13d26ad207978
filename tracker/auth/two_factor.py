"""Two-factor sign-in: RFC 6238 codes from an authenticator app, and recovery codes.

The codes come from pyotp; this module only decides which are accepted: a
code of the current 30-second step or the one either side (a phone's clock
drifts), never a step at or before the last one accepted, so a code seen
over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

import pyotp
import sqlalchemy as sa

from ..extensions import db
from ..models import RecoveryCode, User
from ..settings import TWO_FACTOR_CHOICES

ISSUER = "Orthotic trial tracker"
RECOVERY_CODES = 10
#: Who must use a second factor, by the admin setting's value.
REQUIRED_ROLES = dict(
    zip(TWO_FACTOR_CHOICES, (set(), {"admin"}, {"admin", "reviewer"}), strict=True)
)


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_uri(secret: str, username: str) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def _digits(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


def accepted_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is accepted now; else None."""
    code = _digits(code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    for step in (now, now - 1, now + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(user: User, code: str) -> bool:
    """Accept a current code or an unused recovery code, using it up."""
    step = accepted_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    return _use_recovery_code(user, code)


def _hash(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the new ones, to show once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    if not re.fullmatch(r"[0-9a-f]{12}", _digits(code).lower()):
        return False
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
    )
    return used.rowcount == 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def required_for(user: User, required: str) -> bool:
    """Whether the clinic's setting makes ``user`` sign in with a second factor."""
    return user.role in REQUIRED_ROLES[required]


def reset(user: User) -> None:
    """Remove the user's second factor and codes, ending their sessions."""
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
