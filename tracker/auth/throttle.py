"""Refusing repeated failed logins, counted in the database.

The count lives in the database so that it holds across every server
worker process; an in-process counter would let each worker be tried anew.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import LoginAttempt

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


def _recent_failures(column, value) -> int:
    since = datetime.now(UTC) - WINDOW
    return db.session.scalar(
        sa.select(sa.func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.at >= since, ~LoginAttempt.succeeded
        )
    )


def is_refused(username: str, address: str) -> bool:
    """Whether this name or address has failed too often of late."""
    return (
        _recent_failures(LoginAttempt.username, username) >= MAX_FAILURES_PER_ACCOUNT
        or _recent_failures(LoginAttempt.address, address) >= MAX_FAILURES_PER_ADDRESS
    )


def record_attempt(username: str, address: str, succeeded: bool) -> None:
    """Count one attempt (committed by the caller)."""
    db.session.add(
        LoginAttempt(username=username, address=address, succeeded=succeeded)
    )
