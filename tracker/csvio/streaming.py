"""An export written as it is read: chunks of CSV text, counted, then audited."""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import islice, repeat
from typing import IO

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import User
from ..storage import database
from .columns import Level

BOM = "\ufeff"
#: Rows fetched from the server-side cursor and written per chunk.
ROWS_PER_CHUNK = 1000


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off for a stretch of bulk row work.

    Exports and imports make millions of small lists, tuples and dicts and
    free them by reference counting; the collector would walk the heap over
    and over (a tenth of an export's time, a quarter of an import's) and
    find nothing.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@dataclass
class Export:
    """One export: rows are produced as they are written, then counted and audited."""

    kind: str
    level: Level
    header: Sequence[str]
    rows: Iterable[Sequence]
    #: What the audit row records besides the kind, level and count.
    details: dict = field(default_factory=dict)
    #: A query with one row per exported row, for progress bars.
    counted: sa.Select | None = None
    count: int = 0
    complete: bool = False

    @property
    def filename(self) -> str:
        """A download name saying what is in the file and when it was made."""
        return f"{self.kind}-{self.level}-{date.today().isoformat()}.csv"

    def total(self) -> int | None:
        """How many rows the export will have, counted before it starts."""
        if self.counted is None:
            return None
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(self.counted.subquery())
        )

    def chunks(self) -> Iterator[str]:
        """The CSV text in pieces of a few hundred kilobytes at most."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(BOM)
        writer.writerow(self.header)
        yield buffer.getvalue()
        rows = iter(self.rows)
        while True:
            # Paused a chunk at a time, never while the caller has control.
            with cycle_collector_paused():
                batch = list(islice(rows, ROWS_PER_CHUNK))
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(batch)
            if not batch:
                break
            self.count += len(batch)
            yield buffer.getvalue()
        self.complete = True

    def write_to(self, out: IO[str], progress: Callable[[int], None] | None = None):
        """Write the whole file to a text stream opened with ``newline=""``."""
        for chunk in self.chunks():
            out.write(chunk)
            if progress is not None:
                progress(self.count)

    def log(self, user: User | None = None, **extra) -> None:
        """Write the export to the audit trail: which, filters, rows, done or not."""
        audit.log_event(
            "export",
            {
                "export": self.kind,
                "level": self.level,
                **self.details,
                "rows": self.count,
                "complete": self.complete,
                **extra,
            },
            user=user,
        )

    def finish(self, user: User | None = None, **extra) -> None:
        """Audit the export once its rows are written (or it stopped), and commit.

        The rows were read without SQLite's write lock: the reading
        transaction is ended, and the audit row written in one that takes it.
        """
        db.session.rollback()
        database.write_intent.set(True)
        self.log(user, **extra)
        db.session.commit()


def _stream(query: sa.Select, row_type: type[tuple] | None = None) -> Iterator:
    """Rows from a server-side cursor, a chunk at a time.

    Executed on the session's connection as plain Core: the rows are tuples
    of columns, and the ORM's per-row loading would double an export's time.
    With ``row_type``, a named tuple whose fields are the query's labels in
    order, each row comes as one, to be read by name: a database row's own
    attributes cost ten times a named tuple's, and an export reads dozens
    a row.
    """
    connection = db.session.connection()
    rows = connection.execute(query.execution_options(yield_per=ROWS_PER_CHUNK))
    if row_type is None:
        return iter(rows)
    # What row_type._make does, less a Python call (and length check) a row.
    return map(tuple.__new__, repeat(row_type), rows)
