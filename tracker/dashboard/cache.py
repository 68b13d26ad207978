"""The dashboard's numbers, kept until a record, a user or a setting changes.

Every change to a patient, trial or follow-up writes an audit row in the same
transaction (:mod:`tracker.audit`), and so do changes to users and to the
clinic settings. Audit rows are never changed or deleted, so the newest audit
id, with the number of audit rows near it, names the state of the data: a
computed summary stays valid exactly as long as those two numbers and the
filters and settings it was computed for. The count matters on PostgreSQL,
where ids come from a sequence in the order transactions ask for them, not
the order they commit: a transaction that took id 100 and commits after
another took 101 changes the count, not the newest id. (Only a transaction
that stays open while more than :data:`WINDOW` other audited changes commit
could slip past; the app's transactions last one request.) The largest
patient, trial and follow-up ids are part of the key too, so rows added in
bulk outside the app (``bench/fill.py``) are seen as well.

Each server process keeps its own few entries; the key is read from the
database, so a change made through any process is seen by all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import AuditEvent, FollowUp, Patient, Trial
from ..sites import scope

#: How many computed views each process keeps (filters differ per reviewer).
MAX_ENTRIES = 16
#: How many of the newest audit ids are counted (see the module docstring).
WINDOW = 10_000

T = TypeVar("T")


def data_version() -> tuple:
    """Numbers that change whenever the data the dashboard counts changes.

    One statement, so on PostgreSQL all of it comes from one snapshot. Read
    it before the data: a change committed in between then makes the entry
    newer than its key (recomputed once more), never older.
    """
    newest = sa.select(sa.func.max(AuditEvent.id)).scalar_subquery()
    recent = (
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.id > newest - WINDOW)
        .scalar_subquery()
    )
    return tuple(
        db.session.execute(
            scope.every_site(
                sa.select(
                    newest,
                    recent,
                    *(
                        sa.select(sa.func.max(table.id)).scalar_subquery()
                        for table in (Patient, Trial, FollowUp)
                    ),
                )
            )
        ).one()
    )


class ComputedCache:
    """A small least-recently-used store of computed views, safe across threads."""

    def __init__(self, size: int = MAX_ENTRIES):
        self.size = size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            value = compute()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def computed_cache() -> ComputedCache:
    """The app's cache (one per process), made on first use."""
    return current_app.extensions.setdefault("dashboard_cache", ComputedCache())


def cached(kind: str, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave before for the same kind, key and data."""
    if not current_app.config.get("DASHBOARD_CACHE", True):
        return compute()
    key = (kind, key, scope.cache_key(), data_version())
    return computed_cache().get_or_compute(key, compute)
