"""The import of a trial file: read, check, match and insert, all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import IO

from .. import audit
from ..extensions import db
from ..models import User
from ..storage import database
from . import forked
from .checking import _RowChecker
from .columns import _PATIENT_FIELDS, SITE_COLUMN
from .inserting import _Inserter
from .matching import _Matcher
from .reading import _data_rows, _read_header, _refuse_encoding, _sniff
from .report import FileRefused, ImportReport, Problem
from .site_choice import site_choice
from .streaming import cycle_collector_paused

ROWS_PER_BATCH = 5000


def _batched(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def import_trials(
    stream: IO[bytes],
    filename: str,
    user: User,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    site: str | None = None,
) -> ImportReport:
    """Read a trial file; write it in one transaction if every row passes.

    ``stream`` is a seekable binary file. Rows are checked with the screens'
    forms and inserted in bulk a batch at a time, each record with the audit
    row the ORM would write (under ``user``, with the file name as the
    reason); anything wrong, or ``dry_run``, rolls the whole transaction
    back. ``progress`` is called with the bytes read so far after each batch.
    ``site`` names the site the file is for (see :mod:`.site_choice`).
    """
    if dry_run:
        # Reading only: on SQLite, do not hold the write lock while checking.
        db.session.rollback()
        intent = database.write_intent.set(False)
    try:
        with cycle_collector_paused():
            return _import(stream, filename, user, dry_run, progress, site)
    finally:
        if dry_run:
            database.write_intent.reset(intent)


@dataclass
class _CheckedRows:
    """A batch of rows read and checked, and what was wrong with the others."""

    #: (line, the row's patient cells, patient, trial, follow-up) of good rows.
    rows: list[tuple]
    read: int
    problems: list[Problem]
    refused_lines: set[int]
    #: Bytes of the file read so far.
    position: int


def _checked_batches(stream: IO[bytes]) -> Iterator[_CheckedRows]:
    """The file's rows, checked with the forms, a batch at a time.

    Touches nothing but the stream, so it can run in a child process.
    Raises :class:`FileRefused` when the file cannot be read as trials.
    """
    checker = _RowChecker()
    found = ImportReport(filename="")
    reader = wrapper = None
    try:
        _sniff(stream)
        wrapper = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.reader(wrapper, strict=True)
        header = _read_header(reader)
        # A final, empty batch brings the rows refused after the last good one.
        for rows in chain(
            _batched(_data_rows(header, reader, found), ROWS_PER_BATCH), [[]]
        ):
            checked_rows = []
            for line, values in rows:
                problems: list[Problem] = []
                checked = checker.check(line, values, problems)
                if problems:
                    found.problems.extend(problems)
                    found.refused_lines.add(line)
                elif checked is not None:
                    patient_cells = {
                        column: values[column]
                        for column in (*_PATIENT_FIELDS, SITE_COLUMN)
                        if column in values
                    }
                    checked_rows.append((line, patient_cells, *checked))
            yield _CheckedRows(
                checked_rows,
                found.rows,
                found.problems,
                found.refused_lines,
                stream.tell(),
            )
            found.rows, found.problems, found.refused_lines = 0, [], set()
    except UnicodeDecodeError:
        where = f"after line {reader.line_num}" if reader else "at its start"
        raise _refuse_encoding(where) from None
    except csv.Error as error:
        raise FileRefused(
            f"not readable as CSV ({error}); check the quotes",
            line=reader.line_num if reader else 1,
        ) from None
    finally:
        if wrapper is not None:
            wrapper.detach()  # the caller's stream stays open


#: Files at least this large are checked in a child process (see forked.py);
#: smaller ones are done before a child would have started.
CHECK_IN_CHILD_BYTES = 1024 * 1024


def _checked_file(stream: IO[bytes]) -> Iterator[_CheckedRows]:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if size < CHECK_IN_CHILD_BYTES or not forked.can_fork():
        return _checked_batches(stream)
    return forked.items_from_child(
        lambda: _checked_batches(stream),
        passed_on=(FileRefused,),
        keep_fds=_descriptors(stream),
    )


def _descriptors(stream: IO[bytes]) -> tuple[int, ...]:
    """The file descriptor a stream reads, if it reads one (not an in-memory file)."""
    try:
        return (stream.fileno(),)
    except (AttributeError, io.UnsupportedOperation):
        return ()


def _import(stream, filename, user, dry_run, progress, site) -> ImportReport:
    report = ImportReport(filename=filename, dry_run=dry_run)
    try:
        _check_and_insert(stream, filename, user, dry_run, progress, site, report)
        if not report.problems and not dry_run:
            audit.log_event("import", report.counts() | {"written": True}, user=user)
            db.session.commit()
            report.written = True
            return report
    except Exception as error:  # bulk inserts raise the driver's own errors
        if not database.is_disk_full(error):
            raise
        report.problems.insert(0, Problem(None, None, DISK_FULL))
    db.session.rollback()
    if report.problems and not dry_run:
        _audit_refused(report, user)
    return report


#: What a user is told when the database ran out of space mid-import.
DISK_FULL = (
    "The database is full: the disk it is on has no space left, so nothing "
    "was written. Free some space (or ask whoever runs the server) and import "
    "the file again."
)


def _audit_refused(report: ImportReport, user: User) -> None:
    """Record an import that wrote nothing; said in the report if even that fails."""
    try:
        audit.log_event("import", report.counts() | {"written": False}, user=user)
        db.session.commit()
    except Exception as error:
        if not database.is_disk_full(error):
            raise
        db.session.rollback()
        report.problems.append(
            Problem(None, None, "The failed import could not be audited: no space.")
        )


def _check_and_insert(stream, filename, user, dry_run, progress, site, report) -> None:
    """Check every row and, while none is refused, insert them (uncommitted)."""
    try:
        # The user's own sites, from the web or the command line alike.
        sites = site_choice(user, site)
    except ValueError as refused:
        report.problems.append(Problem(None, None, str(refused)))
        return
    matcher = _Matcher(report, sites)
    # A dry run writes nothing, not even a number from a sequence.
    inserter = None if dry_run else _Inserter(user, f"Imported from {filename}"[:500])
    batches = _checked_file(stream)
    try:
        for checked in batches:
            report.rows += checked.read
            report.problems.extend(checked.problems)
            report.refused_lines |= checked.refused_lines
            # Once a row is refused nothing will be written: the rest is checked.
            writing = inserter is not None and not report.problems
            if inserter is not None:
                inserter.wait()  # the connection is free for matching
            if writing:
                matcher.forget_inserted()
            matched = matcher.match(checked.rows)
            if writing and not report.problems:
                inserter.add(matched)
            if progress is not None:
                progress(checked.position)
        if report.rows == 0:
            raise FileRefused("The file has a header row but no trials.")
        if inserter is not None and not report.problems:
            inserter.finish()
    except FileRefused as refused:
        report.problems.insert(0, Problem(refused.line, None, str(refused)))
    finally:
        batches.close()
        if inserter is not None:
            inserter.close()
