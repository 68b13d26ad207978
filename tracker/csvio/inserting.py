"""Matched records inserted in bulk, with their audit rows, on a thread."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from .. import audit
from ..extensions import db
from ..models import FollowUp, Patient, Trial, User, utcnow
from ..storage import bulk
from .matching import _Matched, _RecordIds


class _Inserter:
    """Inserts matched batches, each while the next is matched and prepared.

    A batch is numbered, then prepared (records and audit rows converted
    for the driver) while a thread inserts the batch before it. On
    PostgreSQL the thread mostly waits for the server (checking foreign
    keys), without the GIL, so the two overlap: 5.5 s per 100k rows instead
    of 6.3. SQLite's driver takes the GIL back for every row it stores, so
    there it comes out about even. Nothing else may use the connection
    while a batch is being inserted: callers :meth:`wait` first.
    """

    def __init__(self, user: User, reason: str):
        self.user, self.reason = user, reason
        #: When the file's lost trials were marked lost: when it was imported.
        self.started = utcnow()
        self.ids = _RecordIds()
        connection = db.session.connection()
        self.dialect = connection.dialect
        self.driver_connection = connection.connection.dbapi_connection
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="import-insert")
        self.inserting: Future | None = None
        self.prepared: list[bulk.Rows] = []

    def wait(self) -> None:
        """Until the batch being inserted is in; raises what its insert raised."""
        inserting, self.inserting = self.inserting, None
        if inserting is not None:
            inserting.result()

    def add(self, matched: _Matched) -> None:
        """Number ``matched``, insert the batch before it, prepare this one."""
        self.wait()
        self._number(matched)
        self.inserting = self.thread.submit(self._insert, self.prepared)
        self.prepared = self._prepare(matched)

    def finish(self) -> None:
        """Insert the last batch."""
        self.wait()
        self._insert(self.prepared)
        self.prepared = []

    def close(self) -> None:
        """Stop: wait for an insert under way, whatever happens to the import."""
        try:
            self.wait()
        finally:
            self.thread.shutdown()

    def _number(self, matched: _Matched) -> None:
        ids = self.ids
        for patient, number in zip(
            matched.patients, ids.take(Patient, len(matched.patients)), strict=True
        ):
            patient["id"] = number
        for (trial, patient), number in zip(
            matched.trials, ids.take(Trial, len(matched.trials)), strict=True
        ):
            trial["id"], trial["patient_id"] = number, patient["id"]
        for (follow_up, trial), number in zip(
            matched.follow_ups,
            ids.take(FollowUp, len(matched.follow_ups)),
            strict=True,
        ):
            follow_up["id"], follow_up["trial_id"] = number, trial["id"]

    def _prepare(self, matched: _Matched) -> list[bulk.Rows]:
        trials = [trial for trial, _patient in matched.trials]
        for trial in trials:
            if trial["lost_reason"]:
                trial["lost_at"] = self.started
        prepared = []
        for model, records in (
            (Patient, matched.patients),
            (Trial, trials),
            (FollowUp, [follow_up for follow_up, _trial in matched.follow_ups]),
        ):
            if records:
                prepared.extend(
                    audit.new_records(
                        model, records, self.user, self.reason, self.dialect
                    )
                )
        return prepared

    def _insert(self, prepared: list[bulk.Rows]) -> None:
        for rows in prepared:
            bulk.insert(self.driver_connection, self.dialect, rows)
