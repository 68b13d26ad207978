"""Who works where: the open sites, and the sites a user may put patients at."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import SITE_NAME_MAX, Site, User


def open_sites() -> list[Site]:
    """The sites that take new patients, by name."""
    return list(
        db.session.scalars(
            sa.select(Site).where(Site.retired_at.is_(None)).order_by(Site.name)
        )
    )


def sites_for_new_patients(user: User) -> list[Site]:
    """The open sites ``user`` may add a patient at."""
    if user.sees_every_site:
        return open_sites()
    return [site for site in user.sites if not site.retired]


def default_sites() -> list[Site]:
    """A new user's sites when none are named: the only open site, if one."""
    sites = open_sites()
    return sites if len(sites) == 1 else []


def site_named(name: str) -> Site | None:
    """The site called ``name``, regardless of case."""
    return db.session.scalar(sa.select(Site).where(same_name(name)))


def same_name(name: str) -> sa.ColumnElement[bool]:
    """Whether a site's name is ``name`` (stripped), regardless of case.

    Both sides are folded by the database, as its unique index on
    ``lower(name)`` folds them: SQLite's ``lower()`` folds A-Z only, so a
    name folded by Python (``Ö`` to ``ö``) would never match ``Örebro``.
    """
    return sa.func.lower(Site.name) == sa.func.lower(sa.literal(name.strip()))


def site_name_problem(name: str, renaming: Site | None = None) -> str | None:
    """Why ``name`` (stripped) cannot name a site, or None: blank, long, taken."""
    if not name:
        return "Enter the site's name."
    if len(name) > SITE_NAME_MAX:
        return f"At most {SITE_NAME_MAX} characters."
    taken = site_named(name)
    if taken is not None and taken is not renaming:
        return f"A site called {taken.name} exists already."
    return None


def sites_with_ids(ids: list[int]) -> list[Site]:
    """The sites of ``ids``, by name."""
    return list(
        db.session.scalars(sa.select(Site).where(Site.id.in_(ids)).order_by(Site.name))
    )


def where(user: User) -> str:
    """Where a user works, in words for the audit trail and the users list."""
    if user.sees_every_site:
        return "every site"
    return ", ".join(site.name for site in user.sites) or "no site"
