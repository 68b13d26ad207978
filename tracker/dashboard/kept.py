"""The dashboard's trials frame, kept per process and brought up to date by its changes.

Reading 100k trials costs about a third of a second, most of it the database
driver's cost per value, while the changes since the last read are usually a
few trials. So each process keeps the columns read for a few filters and, on
each use, reads again only the trials touched since: those named by newer
audit rows (the trial itself, one of its follow-ups, or its patient) and
those with an id above the largest seen, or with a follow-up above the
largest seen (rows added in bulk outside the app, which write no audit rows).

Audit ids on PostgreSQL come from a sequence in the order transactions ask
for them, not the order they commit, so an id below the newest seen may still
be on its way. The ids missing below the newest are asked for again on every
later use, for :data:`UNSEEN_SECONDS`; after that they are taken to be rolled
back. (Only a change committed later than that, or a raw SQL edit that writes
no audit row, could be missed; the app's transactions last one request.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import AuditEvent, FollowUp, Patient, Trial
from ..reporting.filters import TrialFilters
from ..reporting.frames import (
    frame_from_columns,
    read_columns,
    trials_frame,
    trials_query,
)
from ..settings import ClinicSettings
from ..sites import scope
from .cache import ComputedCache

#: How many filtered frames each process keeps (about 7 MB per 100k trials).
KEPT_FRAMES = 4
#: More changes than this since the last use: read everything again instead.
MOST_CHANGES = 2_000
#: How far below the newest audit id a full read looks for ids still on their way.
LOOK_BACK = 10_000
#: How long a missing audit id is waited for before it is taken as rolled back.
UNSEEN_SECONDS = 600


@dataclass(frozen=True)
class Unseen:
    """Audit ids ``low`` to ``high``, missing when last asked for since ``since``."""

    low: int
    high: int
    since: float


@dataclass(frozen=True)
class KeptColumns:
    """The columns read for one view, and how far the data they show goes."""

    columns: dict[str, np.ndarray]
    audit_id: int
    trial_id: int
    follow_up_id: int
    unseen: tuple[Unseen, ...]


def current_trials_frame(
    filters: TrialFilters, settings: ClinicSettings
) -> pd.DataFrame:
    """:func:`tracker.frames.trials_frame`, read in full only on first use."""
    if not current_app.config.get("DASHBOARD_CACHE", True):
        return trials_frame(filters, settings, by_site=filters.spans_sites())
    kept_frames = current_app.extensions.setdefault(
        "kept_frames", ComputedCache(KEPT_FRAMES)
    )
    # The counting unit is chosen in the analysis, not in the query.
    shown = sorted(item for item in filters.as_args().items() if item[0] != "unit")
    by_site = filters.spans_sites()
    key = (tuple(shown), settings, scope.cache_key(), by_site)
    query = trials_query(filters, settings, by_site=by_site)
    kept = kept_frames.get(key)
    kept = _read_all(query) if kept is None else _brought_up_to_date(kept, query)
    kept_frames.put(key, kept)
    return frame_from_columns(kept.columns, settings)


def _newest() -> tuple[int, int, int]:
    """The newest audit id and the largest trial and follow-up ids, in one statement."""
    row = db.session.execute(
        scope.every_site(
            sa.select(
                *(
                    sa.select(sa.func.coalesce(sa.func.max(c), 0)).scalar_subquery()
                    for c in (AuditEvent.id, Trial.id, FollowUp.id)
                )
            )
        )
    ).one()
    return tuple(row)


def _read_all(query: sa.Select) -> KeptColumns:
    """Everything again; ids below the newest audit id that are missing, noted."""
    # Read before the data: a change committed in between is read twice, never missed.
    audit_id, trial_id, follow_up_id = _newest()
    low = max(audit_id - LOOK_BACK, 0) + 1
    present = db.session.scalars(
        scope.every_site(
            sa.select(AuditEvent.id)
            .where(AuditEvent.id.between(low, audit_id))
            .order_by(AuditEvent.id)
        )
    ).all()
    return KeptColumns(
        columns=read_columns(query),
        audit_id=audit_id,
        trial_id=trial_id,
        follow_up_id=follow_up_id,
        unseen=_missing(low, audit_id, present, time.monotonic()),
    )


def _brought_up_to_date(kept: KeptColumns, query: sa.Select) -> KeptColumns:
    """``kept`` with the trials changed since read again."""
    audit_id, trial_id, follow_up_id = _newest()
    now = time.monotonic()
    waiting = [gap for gap in kept.unseen if now - gap.since < UNSEEN_SECONDS]
    if (audit_id, trial_id, follow_up_id) == (
        kept.audit_id,
        kept.trial_id,
        kept.follow_up_id,
    ) and not waiting:
        return kept
    newer = AuditEvent.id.between(kept.audit_id + 1, audit_id)
    events = db.session.execute(
        scope.every_site(
            sa.select(AuditEvent.id, AuditEvent.table_name, AuditEvent.record_id)
            .where(
                sa.or_(
                    newer,
                    *(AuditEvent.id.between(gap.low, gap.high) for gap in waiting),
                )
            )
            .order_by(AuditEvent.id)
            .limit(MOST_CHANGES + 1)
        )
    ).all()
    if len(events) > MOST_CHANGES:
        return _read_all(query)
    changed = _changed_trials(events, kept)
    if len(changed) > MOST_CHANGES:
        return _read_all(query)

    columns = kept.columns
    if changed:
        fresh = read_columns(query.where(Trial.id.in_(changed)))
        unchanged = ~np.isin(columns["trial_id"], changed)
        columns = {
            name: np.concatenate([values[unchanged], fresh[name]])
            for name, values in columns.items()
        }
    found = [event.id for event in events]
    unseen = [
        still
        for gap in waiting
        for still in _missing(gap.low, gap.high, found, gap.since)
    ]
    unseen += _missing(kept.audit_id + 1, audit_id, found, now)
    return KeptColumns(columns, audit_id, trial_id, follow_up_id, tuple(unseen))


def _changed_trials(events: list, kept: KeptColumns) -> list[int]:
    """The trials the audit ``events`` touch, and any added since ``kept`` was read.

    Asked for by id before the trials are read again, so the trials dropped
    from the kept columns are exactly the trials read again.
    """
    record_ids = {model: set() for model in (Patient, Trial, FollowUp)}
    by_table = {model.__tablename__: ids for model, ids in record_ids.items()}
    for event in events:
        if event.table_name in by_table:
            by_table[event.table_name].add(event.record_id)
    follow_ups = sa.select(FollowUp.trial_id).where(
        sa.or_(
            FollowUp.id.in_(record_ids[FollowUp]),
            FollowUp.id > kept.follow_up_id,
        )
    )
    return db.session.scalars(
        scope.every_site(
            sa.select(Trial.id)
            .where(
                sa.or_(
                    Trial.id.in_(record_ids[Trial]),
                    Trial.id > kept.trial_id,
                    Trial.patient_id.in_(record_ids[Patient]),
                    Trial.id.in_(follow_ups),
                )
            )
            .limit(MOST_CHANGES + 1)
        )
    ).all()


def _missing(low: int, high: int, found: list[int], since: float) -> list[Unseen]:
    """The runs of ids from ``low`` to ``high`` not among the sorted ``found``."""
    gaps = []
    expected = low
    for number in found:
        if number < low:
            continue
        if number > high:
            break
        if number > expected:
            gaps.append(Unseen(expected, number - 1, since))
        expected = number + 1
    if expected <= high:
        gaps.append(Unseen(expected, high, since))
    return gaps
