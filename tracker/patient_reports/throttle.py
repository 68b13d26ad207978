"""Refusing an address that keeps presenting report links that do not work.

Refusals are counted in the database, as failed logins are, so the limit
holds across every server worker: a guesser gets a handful of tries per
window from one address, against 2**132 possible tokens.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import ReportLinkRefusal
from ..storage import database

WINDOW = timedelta(minutes=15)
MAX_REFUSALS_PER_ADDRESS = 10


def is_refused(address: str) -> bool:
    """Whether ``address`` presented too many unusable links of late."""
    since = datetime.now(UTC) - WINDOW
    refusals = db.session.scalar(
        sa.select(sa.func.count(ReportLinkRefusal.id)).where(
            ReportLinkRefusal.address == address, ReportLinkRefusal.at >= since
        )
    )
    return refusals >= MAX_REFUSALS_PER_ADDRESS


def count_refusal(address: str) -> None:
    """Count one refused request from ``address`` (committed at once)."""
    database.begin_writing(db.session)
    db.session.add(ReportLinkRefusal(address=address[:64]))
    db.session.commit()
