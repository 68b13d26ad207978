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
    """``statement`` unlimited: for bookkeeping that shows no record.

    Select columns with it, never whole records: a record it loaded would
    lazy-load its relationships without the criteria, which the listener
    leaves to the loads (see :func:`_only_visible_sites`).
    """
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


#: The tables themselves, for the criteria's subqueries: a subquery over the
#: ORM entities would get the criteria again, and theirs again, and so on.
_PATIENT, _TRIAL, _FOLLOW_UP = Patient.__table__, Trial.__table__, FollowUp.__table__


def trials_at(site_ids, patient_joined: bool) -> sa.ColumnElement:
    """The trials of the patients at ``site_ids`` (ids, or a query of them),
    for a Core query over trials, joined to their patients or not."""
    if patient_joined:
        return Patient.site_id.in_(site_ids)
    return Trial.patient_id.in_(
        sa.select(_PATIENT.c.id).where(_PATIENT.c.site_id.in_(site_ids))
    )


def _patient_at(site_ids: list[int], patient_id) -> sa.Exists:
    """Whether the patient ``patient_id`` is at one of ``site_ids``.

    Correlated, so a page of 50 rows looks up 50 patients by their key
    rather than listing every patient of the site first.
    """
    return (
        sa.select(1)
        .where(_PATIENT.c.id == patient_id, _PATIENT.c.site_id.in_(site_ids))
        .correlate_except(_PATIENT)
        .exists()
    )


def _trial_at(site_ids: list[int], trial_id) -> sa.Exists:
    """Whether the trial ``trial_id`` is of a patient at one of ``site_ids``."""
    return (
        sa.select(1)
        .select_from(_TRIAL.join(_PATIENT, _PATIENT.c.id == _TRIAL.c.patient_id))
        .where(_TRIAL.c.id == trial_id, _PATIENT.c.site_id.in_(site_ids))
        .correlate_except(_TRIAL, _PATIENT)
        .exists()
    )


def _follow_up_at(site_ids: list[int], follow_up_id) -> sa.Exists:
    """Whether the follow-up ``follow_up_id`` is of a trial at one of ``site_ids``."""
    joined = _FOLLOW_UP.join(_TRIAL, _TRIAL.c.id == _FOLLOW_UP.c.trial_id).join(
        _PATIENT, _PATIENT.c.id == _TRIAL.c.patient_id
    )
    return (
        sa.select(1)
        .select_from(joined)
        .where(_FOLLOW_UP.c.id == follow_up_id, _PATIENT.c.site_id.in_(site_ids))
        .correlate_except(_FOLLOW_UP, _TRIAL, _PATIENT)
        .exists()
    )


@lru_cache(maxsize=64)
def _criteria(sites: frozenset[int]) -> tuple:
    """The loader criteria for ``sites``: built once per set of sites, as every
    ORM query of a limited request adds them."""
    site_ids = sorted(sites)
    about_records = {
        "patient": _patient_at,
        "trial": _trial_at,
        "follow_up": _follow_up_at,
    }
    audit_visible = sa.or_(
        AuditEvent.table_name.is_(None),
        AuditEvent.table_name.not_in(list(about_records)),
        *(
            sa.and_(
                AuditEvent.table_name == name, found(site_ids, AuditEvent.record_id)
            )
            for name, found in about_records.items()
        ),
    )
    return (
        with_loader_criteria(Patient, Patient.site_id.in_(site_ids)),
        with_loader_criteria(Trial, _patient_at(site_ids, Trial.patient_id)),
        with_loader_criteria(FollowUp, _trial_at(site_ids, FollowUp.trial_id)),
        with_loader_criteria(ReportLink, _trial_at(site_ids, ReportLink.trial_id)),
        with_loader_criteria(AuditEvent, audit_visible),
    )


@event.listens_for(Session, "do_orm_execute")
def _only_visible_sites(state: ORMExecuteState) -> None:
    sites = visible_sites()
    if (
        sites is None
        or not state.is_select
        # Loads of a loaded record's columns or relationships carry the
        # criteria of the query that loaded it (they propagate to loaders).
        or state.is_column_load
        or state.is_relationship_load
        or state.execution_options.get(EVERY_SITE)
    ):
        return
    state.statement = state.statement.options(*_criteria(sites))
