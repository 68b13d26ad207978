"""Refusing repeated failed logins, counted in the database.

The count lives in the database so that it holds across every server
worker process; an in-process counter would let each worker be tried anew.

An attempt is counted and recorded, as a failure, in one short transaction
before its password is checked, and marked as succeeded afterwards if it was:
the check runs outside any transaction (Argon2 is slow), so guesses sent at
once would otherwise all see the same count. Those transactions are
serialised per account and per address: on SQLite a write transaction
begins ``IMMEDIATE``, taking the database's write lock before the count; on
PostgreSQL transaction-level advisory locks on the name and the address.
"""

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import USERNAME_MAX, LoginAttempt
from ..storage import database

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


#: The first key of PostgreSQL's two-key advisory locks: which kind of name.
ACCOUNT_LOCKS, ADDRESS_LOCKS = 0x6C6F6731, 0x6C6F6732


def _lock_key(value: str) -> int:
    """A 32-bit key for ``value``, the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b(value.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def _serialise(username: str, address: str) -> None:
    """Make other attempts on this name or from this address wait for ours."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already holds the write lock
    # Always the account first, then the address: no two attempts deadlock.
    for kind, value in ((ACCOUNT_LOCKS, username), (ADDRESS_LOCKS, address)):
        db.session.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(
                    sa.cast(kind, sa.Integer), sa.cast(_lock_key(value), sa.Integer)
                )
            )
        )


def start_attempt(username: str, address: str) -> int | None:
    """Record an attempt as failed, unless refused; its id, or None if refused.

    Attempts still being checked count as failures, so however many arrive
    at once, at most the limit are let through to the password check.
    Commits; the rollback first discards changes not yet committed, so call
    it before making any.
    """
    username = username[:USERNAME_MAX]  # the column's width; typed names vary
    db.session.rollback()
    intent = database.write_intent.set(True)
    try:
        _serialise(username, address)
        if is_refused(username, address):
            db.session.rollback()
            return None
        attempt = LoginAttempt(username=username, address=address, succeeded=False)
        db.session.add(attempt)
        db.session.flush()
        attempt_id = attempt.id
        db.session.commit()
    finally:
        database.write_intent.reset(intent)
    return attempt_id


def mark_succeeded(attempt_id: int) -> None:
    """The attempt's password was right (committed by the caller)."""
    db.session.execute(
        sa.update(LoginAttempt)
        .where(LoginAttempt.id == attempt_id)
        .values(succeeded=True)
    )
