"""The clinics of a group: each patient belongs to one, each user works at some.

A site is renamed or retired, never deleted: its patients keep it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import utcnow

SITE_NAME_MAX = 80
#: The site the sites migration creates and gives every existing patient.
DEFAULT_SITE_ID = 1

#: Which sites a user works at (users with ``all_sites`` need no rows here).
user_site = sa.Table(
    "user_site",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id"), primary_key=True),
    sa.Column("site_id", sa.ForeignKey("site.id"), primary_key=True, index=True),
)


class Site(db.Model):
    """One clinic of the group."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(SITE_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow
    )
    #: Retired sites take no new patients; their records stay visible.
    retired_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


# "North" and "north" would name one site to a reader.
sa.Index("uq_site_name_any_case", sa.func.lower(Site.name), unique=True)
