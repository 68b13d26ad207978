"""Report links: single-use, unguessable links a patient opens from home.

A link's token is its id and an HMAC-SHA256, under the app's secret key, of
that id and the link's random ``nonce``, cut to 132 bits. The database holds
the id and the nonce, which are not enough to make a token without the key,
and no token; the sheet works the token out again whenever it is reprinted.
The check is :func:`hmac.compare_digest`, which takes the same time however
much of a guess is right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, request

from .. import audit
from ..extensions import db
from ..models import ReportLink, Trial, utcnow
from ..settings import ClinicSettings

#: Where the links live; short, for a patient typing it from the sheet.
PATH = "/r/"
#: Characters of the MAC in a token: 22 of base64url are 132 bits.
MAC_CHARACTERS = 22
TOKEN = re.compile(rf"([1-9][0-9]{{0,9}})-([A-Za-z0-9_-]{{{MAC_CHARACTERS}}})")


def _mac(link_id: int, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    message = f"report-link:{link_id}:{nonce}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARACTERS]


def token_for(link: ReportLink) -> str:
    """The token in the link's URL; the same every time the sheet is printed."""
    return f"{link.id}-{_mac(link.id, link.nonce)}"


def link_for_token(token: str) -> ReportLink | None:
    """The link a token names, if the token is genuine (open or not); else None."""
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    link = db.session.get(ReportLink, int(match[1]))
    if link is None or not hmac.compare_digest(_mac(link.id, link.nonce), match[2]):
        return None
    return link


def expires_on(trial: Trial, settings: ClinicSettings) -> date:
    """The last day a report link of ``trial`` works."""
    return trial.trial_date + timedelta(weeks=settings.report_link_weeks)


def usable(link: ReportLink, settings: ClinicSettings, today: date | None = None):
    """Whether the patient may still report through ``link``."""
    trial = link.trial
    return (
        link.open
        and (today or date.today()) <= expires_on(trial, settings)
        and trial.closed_by is None
    )


def open_link(trial: Trial) -> ReportLink | None:
    """The trial's active link: neither revoked nor used (the newest, if several)."""
    return db.session.scalar(
        sa.select(ReportLink)
        .where(
            ReportLink.trial_id == trial.id,
            ReportLink.revoked_at.is_(None),
            ReportLink.used_at.is_(None),
        )
        .order_by(ReportLink.id.desc())
        .limit(1)
    )


def create_link(trial: Trial) -> ReportLink:
    """A new link for ``trial``, audited on the trial (not committed)."""
    link = ReportLink(
        trial=trial, nonce=secrets.token_hex(16), created_by_id=_user_id()
    )
    db.session.add(link)
    db.session.flush()
    audit.log_event(
        "report_link_created", {"link": link.id}, table_name="trial", record_id=trial.id
    )
    return link


def revoke(link: ReportLink, reason: str) -> None:
    """Stop ``link`` working, audited with ``reason`` (not committed)."""
    link.revoked_at = utcnow()
    audit.log_event(
        "report_link_revoked",
        {"link": link.id},
        table_name="trial",
        record_id=link.trial_id,
        reason=reason,
    )


def ensure_open_link(trial: Trial) -> ReportLink:
    """The trial's active link, made if it has none (not committed).

    On PostgreSQL the trial's row is locked first, so two sheets printed at
    once make one link; SQLite's write transactions are serial already.
    """
    db.session.execute(
        sa.select(Trial.id).where(Trial.id == trial.id).with_for_update()
    )
    return open_link(trial) or create_link(trial)


def last_report(trial: Trial) -> ReportLink | None:
    """The trial's most recently used link, if the patient ever reported by one."""
    return db.session.scalar(
        sa.select(ReportLink)
        .where(ReportLink.trial_id == trial.id, ReportLink.used_at.is_not(None))
        .order_by(ReportLink.used_at.desc())
        .limit(1)
    )


def public_url(token: str, base_url: str | None = None) -> str:
    """The link as the patient types it: ``PUBLIC_URL`` (or this site) + ``/r/token``.

    ``PUBLIC_URL`` includes any path prefix the app is served under.
    """
    base = base_url or current_app.config.get("PUBLIC_URL") or request.url_root
    return f"{base.rstrip('/')}{PATH}{token}"


def _user_id() -> int | None:
    user = audit.actor()
    return user.id if user else None
