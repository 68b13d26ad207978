"""Who uses the tracker: accounts, their second factor and their sign-in attempts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..labels import ROLES
from .common import USERNAME_MAX, _one_of, new_session_token, utcnow
from .sites import Site, user_site


class User(UserMixin, db.Model):
    """A clinic account. Deactivated, never deleted: its records keep its name."""

    __table_args__ = (sa.CheckConstraint(_one_of("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(USERNAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    #: Flask-Login's alternative id: a new token ends every existing session.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    #: The RFC 6238 secret (base32) of an enrolled second factor, else None.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    #: The time step of the last code accepted: no code is accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Sees every site's patients (admins do whatever this says).
    all_sites: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The sites whose patients the user sees, unless :attr:`sees_every_site`.
    sites: Mapped[list[Site]] = relationship(
        secondary=user_site, order_by=Site.name, lazy="selectin"
    )

    @property
    def sees_every_site(self) -> bool:
        """Admins always; reviewers and therapists when an admin said so."""
        return self.role == "admin" or self.all_sites

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_token

    def end_sessions(self) -> None:
        """Invalidate every session this user has, on every device."""
        self.session_token = new_session_token()


class RecoveryCode(db.Model):
    """One of a user's single-use codes for signing in without their phone."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: SHA-256 of the code: the codes are random, so a slow hash adds nothing.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class LoginAttempt(db.Model):
    """A login attempt, so throttling holds across server processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_username", "username", "at"),
        sa.Index("ix_login_attempt_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    username: Mapped[str] = mapped_column(sa.String(USERNAME_MAX))
    address: Mapped[str] = mapped_column(sa.String(64))
    succeeded: Mapped[bool]
