"""Which sites' patients a request may see, enforced for every query at once.

:func:`limit_to` is called once per request for the signed-in user (by
:mod:`tracker.web.access`). From then on:

- every ORM ``SELECT`` of the session gets :func:`sqlalchemy.orm.with_loader_criteria`
  for patients, trials, follow-ups, report links and the audit rows about
  them (a ``do_orm_execute`` listener), so a record of another site is not
  found at all: its page is a 404 like a record that does not exist;
- the Core queries of the dashboard's frames and of the exports get the same
  criteria through :meth:`tracker.reporting.filters.TrialFilters.apply`;
- the dashboard's caches keep each set of sites apart (:func:`cache_key`).

Outside a signed-in request (commands, a patient's report link) every site
is visible: the command line is the server's operator, and a report link
names its own trial.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from ..extensions import db
from ..models import AuditEvent, FollowUp, Patient, ReportLink, Site, Trial, User

#: An execution option that lifts the limit for one query, where the app must
#: know about every site's records without showing them (a patient code is
#: unique across the group).
EVERY_SITE = "every_site"


def every_site(statement: sa.Select) -> sa.Select:
    """``statement`` unlimited: for bookkeeping that shows no record."""
    return statement.execution_options(**{EVERY_SITE: True})


def sites_seen_by(user: User) -> frozenset[int] | None:
    """The ids of the sites whose patients ``user`` sees, or None for every site."""
    if user.sees_every_site:
        return None
    own = frozenset(site.id for site in user.sites)
    every = frozenset(db.session.scalars(sa.select(Site.id)))
    return None if own >= every else own


def limit_to(user: User) -> None:
    """Let this request see only the patients of ``user``'s sites."""
    g.visible_sites = sites_seen_by(user)


def visible_sites() -> frozenset[int] | None:
    """The ids of the sites this request may see, or None for every site."""
    return g.get("visible_sites") if has_app_context() else None


def several_sites_seen() -> bool:
    """Whether this request sees the patients of more than one site."""
    sites = visible_sites()
    if sites is not None:
        return len(sites) > 1
    count = sa.select(sa.func.count()).select_from(Site)
    return db.session.execute(count).scalar_one() > 1


def cache_key() -> tuple[int, ...] | None:
    """What a cache of shown records must add to its key."""
    sites = visible_sites()
    return None if sites is None else tuple(sorted(sites))


def trials_at(site_ids, patient_joined: bool) -> sa.ColumnElement:
    """The trials of the patients at ``site_ids`` (ids, or a query of them),
    for a Core query over trials, joined to their patients or not."""
    if patient_joined:
        return Patient.site_id.in_(site_ids)
    return Trial.patient_id.in_(
        sa.select(Patient.id).where(Patient.site_id.in_(site_ids))
    )


@lru_cache(maxsize=64)
def _criteria(sites: frozenset[int]) -> tuple:
    """The loader criteria for ``sites``: built once per set of sites, as every
    ORM query of a limited request adds them."""
    site_ids = sorted(sites)
    patients = sa.select(Patient.id).where(Patient.site_id.in_(site_ids))
    trials = sa.select(Trial.id).where(Trial.patient_id.in_(patients))
    follow_ups = sa.select(FollowUp.id).where(FollowUp.trial_id.in_(trials))
    about_records = {"patient": patients, "trial": trials, "follow_up": follow_ups}
    audit_visible = sa.or_(
        AuditEvent.table_name.is_(None),
        AuditEvent.table_name.not_in(list(about_records)),
        *(
            sa.and_(AuditEvent.table_name == name, AuditEvent.record_id.in_(ids))
            for name, ids in about_records.items()
        ),
    )
    return (
        with_loader_criteria(Patient, Patient.site_id.in_(site_ids)),
        with_loader_criteria(Trial, Trial.patient_id.in_(patients)),
        with_loader_criteria(FollowUp, FollowUp.trial_id.in_(trials)),
        with_loader_criteria(ReportLink, ReportLink.trial_id.in_(trials)),
        with_loader_criteria(AuditEvent, audit_visible),
    )


@event.listens_for(Session, "do_orm_execute")
def _only_visible_sites(state: ORMExecuteState) -> None:
    sites = visible_sites()
    if sites is None or not state.is_select or state.execution_options.get(EVERY_SITE):
        return
    state.statement = state.statement.options(*_criteria(sites))
