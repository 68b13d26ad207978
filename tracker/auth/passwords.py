"""Password hashing with Argon2id at OWASP's minimum parameters or above."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..extensions import db

# OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _unknown_user_hash() -> str:
    """Verified against when the name is unknown, so timing does not reveal names.

    Made on the first sign-in, not at import: commands need no hash.
    """
    return hasher.hash("no such user")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``; the password itself is never stored."""
    return hasher.hash(password)


def hash_outside_transaction(password: str) -> str:
    """:func:`hash_password`, once the session's transaction has ended.

    Argon2 is slow on purpose, and a write request's transaction holds
    SQLite's write lock, which other workers' saves would wait for. The
    rollback discards changes not yet committed: call it before making any.
    """
    db.session.rollback()
    return hash_password(password)


def check_outside_transaction(password_hash: str | None, password: str) -> bool:
    """:func:`check_password`, once the session's transaction has ended.

    As :func:`hash_outside_transaction`; read the stored hash before calling,
    since the rollback expires the records the session holds.
    """
    db.session.rollback()
    return check_password(password_hash, password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; unknown users take as long as known ones."""
    try:
        return hasher.verify(password_hash or _unknown_user_hash(), password) and (
            password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with parameters weaker than today's."""
    return hasher.check_needs_rehash(password_hash)
