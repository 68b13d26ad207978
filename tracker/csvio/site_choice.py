"""Which site each imported row belongs to: its own, the import's, the user's.

A row's ``site`` cell names its patient's site; the import may be for one
site (``import-trials --site``, the upload page's choice); a user of one
open site needs neither. A new patient goes to the first of these given. A
row is refused when it names a site the user does not have, a site other
than the import's, or, for a patient already known, a site other than the
patient's; and a new patient is refused when no site is given or the site
is retired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..models import SITE_NAME_MAX, Site, User
from ..sites import scope
from ..sites.membership import same_name, sites_for_new_patients


@dataclass(frozen=True)
class SiteChoice:
    """The sites an import may use, read once before its rows are matched."""

    #: Every site's name by its id.
    names: dict[int, str]
    #: The user's sites, or None for every site.
    visible: frozenset[int] | None
    #: The open sites the user may add patients at.
    open_ids: frozenset[int]
    #: The import's own site (named for it, or the user's only open site).
    chosen: tuple[int, str] | None
    #: Whether ``chosen`` was named for the import rather than the user's only one.
    named: bool
    #: The site each distinct cell names, looked up once (None: no such site).
    found: dict[str, tuple[int, str] | None] = field(default_factory=dict)

    def site_for(
        self, cell: str, reference: dict | None, code: str
    ) -> tuple[int | None, str | None]:
        """The row's site id and, if the row is refused, why.

        ``reference`` is the patient already known (recorded, or on an
        earlier line) with its ``site_id``; None for a new patient.
        """
        cell = cell.strip()
        given = self._called(cell) if cell else None
        if cell and (
            given is None or (self.visible is not None and given[0] not in self.visible)
        ):
            return None, f"none of your sites is called {_shortened(cell)}"
        if given and self.named and given != self.chosen:
            chosen = self.chosen[1]
            return None, f"this row is for {given[1]}; the import is for {chosen}"
        site = given or (self.chosen if self.named or reference is None else None)
        if reference is not None:
            if site is not None and reference["site_id"] != site[0]:
                where = self.names.get(reference["site_id"], "another site")
                return None, f"patient {code} belongs to {where}, not {site[1]}"
            return reference["site_id"], None
        if site is None and not self.open_ids:
            return None, (
                "you work at no open site, so the import can add no patients: "
                "ask an administrator to add you to one"
            )
        if site is None:
            return None, (
                "you work at several sites: name this new patient's site in the "
                "site column, or choose the site the import is for"
            )
        if site[0] not in self.open_ids:
            return None, f"{site[1]} is retired: it takes no new patients"
        return site[0], None

    def _called(self, name: str) -> tuple[int, str] | None:
        """The site called ``name`` as the database compares names (any case)."""
        if name not in self.found:
            self.found[name] = _site_called(name)
        return self.found[name]


def _site_called(name: str) -> tuple[int, str] | None:
    if len(name) > SITE_NAME_MAX:
        return None
    row = db.session.execute(
        scope.every_site(sa.select(Site.id, Site.name).where(same_name(name)))
    ).first()
    return None if row is None else (row.id, row.name)


def _shortened(cell: str) -> str:
    """A cell as quoted in a refusal: no longer than a site's name may be."""
    return cell if len(cell) <= SITE_NAME_MAX else cell[:SITE_NAME_MAX] + "…"


def site_choice(user: User, site_name: str | None = None) -> SiteChoice:
    """What ``user`` may import into, with ``site_name`` as the import's site.

    Raises ``ValueError`` with the words to show when ``site_name`` is not
    one of the user's open sites.
    """
    everything = db.session.execute(scope.every_site(sa.select(Site.id, Site.name)))
    open_sites = [(site.id, site.name) for site in sites_for_new_patients(user)]
    chosen, named = (open_sites[0] if len(open_sites) == 1 else None), False
    if site_name is not None:
        chosen = _site_called(site_name.strip())
        if chosen not in open_sites:
            shown = _shortened(site_name.strip())
            raise ValueError(f"None of your open sites is called {shown}.")
        named = True
    return SiteChoice(
        names=dict(everything.all()),
        visible=scope.sites_seen_by(user),
        open_ids=frozenset(site_id for site_id, _ in open_sites),
        chosen=chosen,
        named=named,
    )
