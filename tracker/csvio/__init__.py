"""The trial file format, both ways: exports written row by row, imports validated.

One row per trial, UTF-8 (with the byte-order mark Excel looks for), RFC 4180
quoting, ISO dates and the codes the app stores. Exports stream from a
server-side cursor, so memory stays flat however large the clinic. Imports
check every row with the same WTForms forms the screens use and write all
rows in one transaction, or none.

Text cells that a spreadsheet would run as a formula get a leading ``'``
(CWE-1236); the import takes it off again, so a file survives the round trip.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain, groupby, islice
from typing import IO, Literal

import sqlalchemy as sa

from analysis.rule import (
    GLOBAL_RATINGS,
    FollowUpDate,
    choose_outcome,
    is_long_term_benefit,
    verdict,
)

from .. import audit
from ..extensions import db
from ..models import AuditEvent, FollowUp, Patient, Trial, User
from ..patients.forms import PatientForm
from ..reporting.filters import TrialFilters
from ..settings import ClinicSettings
from ..storage import bulk, database
from ..storage.sql import utc_text
from ..trials.forms import FollowUpForm, TrialForm
from . import forked
from .formcheck import FormCheck

Level = Literal["full", "deidentified"]
LEVELS: tuple[Level, ...] = ("full", "deidentified")
KINDS = ("trials", "followups", "audit")

REQUIRED_COLUMNS = (
    "patient_code",
    "trial_date",
    "intervention",
    "activity",
    "pain_without",
    "pain_with",
)
OPTIONAL_COLUMNS = (
    "product",
    "activity_other",
    "notes",
    "patient_birth_year",
    "patient_sex",
    "affected_side",
    "followup_date",
    "followup_pain",
    "followup_rating",
    "still_using",
)
#: The columns an import reads and an export reproduces byte for byte.
CLINICAL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Computed or bookkeeping columns: exported, accepted on import and ignored.
DERIVED_COLUMNS = (
    "trial_id",
    "followup_count",
    "relief_criterion",
    "immediate_relief",
    "prediction",
    "outcome_weeks",
    "long_term_benefit",
    "benefit_definition",
    "recorded_by",
    "recorded_at",
    "voided",
    "void_reason",
)
TRIAL_COLUMNS = CLINICAL_COLUMNS + DERIVED_COLUMNS
DEIDENTIFIED_TRIAL_COLUMNS = (
    "patient_number",
    "age_band",
    "patient_sex",
    "affected_side",
    "trial_day",
    "intervention",
    "activity",
    "pain_without",
    "pain_with",
    "followup_day",
    "followup_pain",
    "followup_rating",
    "still_using",
    "followup_count",
    "relief_criterion",
    "immediate_relief",
    "prediction",
    "outcome_weeks",
    "long_term_benefit",
    "benefit_definition",
)
FOLLOW_UP_COLUMNS = (
    "followup_id",
    "trial_id",
    "patient_code",
    "trial_date",
    "intervention",
    "activity",
    "followup_date",
    "weeks_after_trial",
    "followup_pain",
    "still_using",
    "followup_rating",
    "is_outcome",
    "long_term_benefit",
    "benefit_definition",
    "recorded_by",
    "recorded_at",
    "voided",
    "void_reason",
)
DEIDENTIFIED_FOLLOW_UP_COLUMNS = (
    "patient_number",
    "trial_day",
    "intervention",
    "activity",
    "followup_day",
    "weeks_after_trial",
    "followup_pain",
    "still_using",
    "followup_rating",
    "is_outcome",
    "long_term_benefit",
    "benefit_definition",
)
AUDIT_COLUMNS = (
    "event_id",
    "at",
    "username",
    "action",
    "table_name",
    "record_id",
    "changes",
    "reason",
)

BOM = "\ufeff"
#: Rows fetched from the server-side cursor and written per chunk.
ROWS_PER_CHUNK = 1000

# ---------------------------------------------------------------- formula guard

#: A cell starting with one of these is run as a formula by some spreadsheet.
FORMULA_STARTS = "=+-@\t\r\0"
# Apostrophes already leading a dangerous text are guarded too, so that
# stripping one guard on import always gives back the original text.
_NEEDS_GUARD = re.compile(r"'*[=+\-@\t\r\0]")
_GUARDED = re.compile(r"'+[=+\-@\t\r\0]")


def formula_guard(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a leading ``'`` if needed.

    >>> formula_guard('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> formula_guard("PF-0042")
    'PF-0042'
    """
    if text and text[0] in "'=+-@\t\r\0" and _NEEDS_GUARD.match(text):
        return "'" + text
    return text


def strip_formula_guard(text: str) -> str:
    """The text :func:`formula_guard` was given (other texts are unchanged)."""
    if text[:1] == "'" and _GUARDED.match(text):
        return text[1:]
    return text


# ---------------------------------------------------------------- export


def _batched(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


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


def _stream(query: sa.Select) -> Iterator[sa.Row]:
    """Rows from a server-side cursor, a chunk at a time.

    Executed on the session's connection as plain Core: the rows are tuples
    of columns, and the ORM's per-row loading would double an export's time.
    """
    connection = db.session.connection()
    return iter(connection.execute(query.execution_options(yield_per=ROWS_PER_CHUNK)))


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _blank(value):
    return "" if value is None else value


def age_band(birth_year: int | None, on: date) -> str:
    """Age in ten-year bands (90 and over together), from the birth year alone."""
    if birth_year is None:
        return ""
    age = on.year - birth_year
    if age >= 90:
        return "90+"
    low = max(age, 0) // 10 * 10
    return f"{low}-{low + 9}"


_EPOCH = date(2000, 1, 1)
_NO_FOLLOW_UP = ("", "", "", "")
_RELIEF_VALUES = {"immediate_relief": "yes", "no_immediate_relief": "no"}


class _Rule:
    """The clinic's verdicts and outcome choice, worked out once per export."""

    def __init__(self, settings: ClinicSettings):
        self.settings = settings
        self.criterion = settings.relief_criterion
        self.benefit_definition = settings.benefit_definition
        # 121 possible score pairs: the rule is asked once for each.
        self.reliefs = {}
        for without in range(11):
            for with_aid in range(11):
                found = verdict(without, with_aid, self.criterion)
                self.reliefs[without, with_aid] = (
                    self.criterion,
                    _RELIEF_VALUES.get(found.value, found.value),
                    found.prediction,
                )

        self.benefits = {
            rating: _yes_no(is_long_term_benefit(rating, settings.benefit_definition))
            for rating in GLOBAL_RATINGS
        }
        self.outcomes: dict[tuple[int, ...], int | None] = {}

    def relief(self, pain_without: int, pain_with: int) -> tuple[str, str, str]:
        """The criterion, ``immediate_relief`` (yes/no/not_assessable), prediction."""
        return self.reliefs[pain_without, pain_with]

    def outcome(self, trial_date: date, follow_ups: Sequence) -> int | None:
        """The id of the outcome follow-up among ``(id, date, ...)`` tuples."""
        if not follow_ups:
            return None
        days = tuple((f[1] - trial_date).days for f in follow_ups)
        if days not in self.outcomes:
            # The choice depends on the days since the trial alone, so the
            # rule is asked once per pattern of days, not once per trial.
            chosen = choose_outcome(
                _EPOCH,
                (FollowUpDate(i, _EPOCH + timedelta(d)) for i, d in enumerate(days)),
                self.settings.follow_up_minimum_weeks,
                self.settings.follow_up_due_weeks,
            )
            self.outcomes[days] = None if chosen is None else chosen.id
        index = self.outcomes[days]
        return None if index is None else follow_ups[index][0]

    def benefit(self, rating: str) -> str:
        return self.benefits[rating]


def _weeks(later: date, earlier: date) -> str:
    return f"{(later - earlier).days / 7:.1f}"


def _first_trial_date(level: Level) -> sa.ColumnElement:
    """The patient's first current trial: day 0 of the de-identified files.

    Correlated, so it is one index lookup per row; a full export needs none.
    """
    if level == "full":
        return sa.null()
    earlier = sa.orm.aliased(Trial)
    return (
        sa.select(sa.func.min(earlier.trial_date))
        .where(earlier.patient_id == Trial.patient_id, earlier.voided_at.is_(None))
        .scalar_subquery()
    )


def _check_level(level: str, include_voided: bool) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown export level {level!r}")
    if include_voided and level != "full":
        raise ValueError("voided records are only in full exports")


def _filter_details(filters: TrialFilters, include_voided: bool) -> dict:
    args = {k: v for k, v in filters.as_args().items() if k != "unit"}
    return {"filters": args, "include_voided": include_voided}


def trials_query(
    filters: TrialFilters, include_voided: bool = False, level: Level = "full"
) -> sa.Select:
    """The trial export's one query: a row per trial and current follow-up.

    Ordered by patient, then trial date, so each trial's rows come together
    and each patient's trials in the order they happened.
    """
    query = (
        sa.select(
            Trial.id,
            Trial.patient_id,
            Patient.code,
            Patient.birth_year,
            Patient.sex,
            Patient.affected_side,
            Trial.trial_date,
            Trial.intervention,
            Trial.product,
            Trial.activity,
            Trial.activity_other,
            Trial.pain_without,
            Trial.pain_with,
            Trial.notes,
            User.username,
            utc_text(Trial.created_at),
            Trial.void_reason,
            Patient.void_reason,
            sa.or_(Trial.voided_at.is_not(None), Patient.voided_at.is_not(None)),
            _first_trial_date(level),
            FollowUp.id,
            FollowUp.follow_up_date,
            FollowUp.pain,
            FollowUp.still_using,
            FollowUp.global_rating,
        )
        .select_from(Trial)
        .join(Trial.patient)
        .outerjoin(User, Trial.recorded_by_id == User.id)
        .outerjoin(
            FollowUp,
            sa.and_(FollowUp.trial_id == Trial.id, FollowUp.voided_at.is_(None)),
        )
    )
    query = filters.apply(query, include_voided=include_voided).order_by(
        Trial.patient_id, Trial.trial_date, Trial.id, FollowUp.id
    )
    return query


def trials_export(
    filters: TrialFilters,
    settings: ClinicSettings,
    level: Level = "full",
    include_voided: bool = False,
) -> Export:
    """The trial file: one row per trial, the outcome follow-up in its columns.

    A trial's ``followup_*`` columns hold its outcome follow-up (see
    :func:`analysis.rule.choose_outcome`) or, if none counts as the outcome
    yet, its latest follow-up; every follow-up is in the ``followups`` export.
    """
    _check_level(level, include_voided)
    rule = _Rule(settings)
    query = trials_query(filters, include_voided, level)
    make_row = _full_trial_row if level == "full" else _deidentified_trial_row()

    def row_for(trial, follow_ups):
        if not follow_ups:
            return make_row(trial, 0, None, False, rule)
        outcome_id = rule.outcome(trial[6], follow_ups)
        if len(follow_ups) == 1:
            shown = follow_ups[0]
        else:
            shown = next(
                (f for f in follow_ups if f[0] == outcome_id),
                max(follow_ups, key=lambda f: (f[1], f[0])),
            )
        return make_row(trial, len(follow_ups), shown, shown[0] == outcome_id, rule)

    def rows():
        # Rows of one trial (one per current follow-up) come together.
        trial, follow_ups = None, []
        for row in _stream(query):
            if trial is not None and row[0] != trial[0]:
                yield row_for(trial, follow_ups)
                follow_ups = []
            trial = row
            if row[20] is not None:
                follow_ups.append(row[20:])
        if trial is not None:
            yield row_for(trial, follow_ups)

    header = TRIAL_COLUMNS if level == "full" else DEIDENTIFIED_TRIAL_COLUMNS
    counted = filters.apply(
        sa.select(Trial.id).join(Trial.patient), include_voided=include_voided
    )
    return Export(
        "trials",
        level,
        header,
        rows(),
        _filter_details(filters, include_voided),
        counted,
    )


def _outcome_columns(trial, shown, is_outcome: bool, rule: _Rule) -> list:
    criterion, relief, prediction = rule.relief(trial[11], trial[12])
    if not is_outcome:
        return [criterion, relief, prediction, "", "", rule.benefit_definition]
    return [
        criterion,
        relief,
        prediction,
        _weeks(shown[1], trial[6]),
        rule.benefit(shown[4]),
        rule.benefit_definition,
    ]


def _full_trial_row(trial, follow_up_count, shown, is_outcome, rule: _Rule) -> list:
    (trial_id, _patient_id, code, birth_year, sex, side, trial_date,
     intervention, product, activity, activity_other, pain_without, pain_with,
     notes, username, recorded_at, trial_void_reason, patient_void_reason,
     voided, _first) = trial[:20]  # fmt: skip
    row = [
        formula_guard(code),
        trial_date.isoformat(),
        intervention,
        activity,
        pain_without,
        pain_with,
        formula_guard(product),
        formula_guard(activity_other),
        formula_guard(notes),
        _blank(birth_year),
        sex or "",
        side or "",
    ]
    if shown is None:
        row += _NO_FOLLOW_UP
    else:
        row += [shown[1].isoformat(), shown[2], shown[4], _yes_no(shown[3])]
    row += [trial_id, follow_up_count]
    row += _outcome_columns(trial, shown, is_outcome, rule)
    row += [
        formula_guard(username or ""),
        recorded_at,
        "yes" if voided else "no",
        formula_guard(trial_void_reason or patient_void_reason or ""),
    ]
    return row


def _deidentified_trial_row():
    """A row maker numbering patients in the order they come (by patient id)."""
    last = [None, 0]

    def make_row(trial, follow_up_count, shown, is_outcome, rule: _Rule) -> list:
        patient_id, first_date = trial[1], trial[19]
        if patient_id != last[0]:
            last[0], last[1] = patient_id, last[1] + 1
        if shown is None:
            follow_up = _NO_FOLLOW_UP
        else:
            follow_up = [
                (shown[1] - first_date).days,
                shown[2],
                shown[4],
                _yes_no(shown[3]),
            ]
        return [
            last[1],
            age_band(trial[3], first_date),
            trial[4] or "",
            trial[5] or "",
            (trial[6] - first_date).days,
            trial[7],
            trial[9],
            trial[11],
            trial[12],
            *follow_up,
            follow_up_count,
            *_outcome_columns(trial, shown, is_outcome, rule),
        ]

    return make_row


def _patient_numbers(filters: TrialFilters) -> sa.Subquery:
    """Patients numbered by id among those with trials matching ``filters``.

    The de-identified trials export numbers its patients in the same order,
    so the two files of one download join on ``patient_number``.
    """
    patients = (
        filters.apply(sa.select(Trial.patient_id).join(Trial.patient))
        .distinct()
        .subquery()
    )
    return sa.select(
        patients.c.patient_id,
        sa.func.row_number().over(order_by=patients.c.patient_id).label("number"),
    ).subquery()


def follow_ups_export(
    filters: TrialFilters,
    settings: ClinicSettings,
    level: Level = "full",
    include_voided: bool = False,
) -> Export:
    """Every follow-up of the filtered trials, saying which one is the outcome."""
    _check_level(level, include_voided)
    rule = _Rule(settings)
    query = (
        sa.select(
            FollowUp.id,
            FollowUp.follow_up_date,
            FollowUp.pain,
            FollowUp.still_using,
            FollowUp.global_rating,
            FollowUp.voided_at.is_not(None),
            Trial.id,
            Trial.patient_id,
            Patient.code,
            Trial.trial_date,
            Trial.intervention,
            Trial.activity,
            User.username,
            utc_text(FollowUp.created_at),
            sa.or_(Trial.voided_at.is_not(None), Patient.voided_at.is_not(None)),
            sa.func.coalesce(
                FollowUp.void_reason, Trial.void_reason, Patient.void_reason
            ),
            _first_trial_date(level),
        )
        .select_from(FollowUp)
        .join(FollowUp.trial)
        .join(Trial.patient)
        .outerjoin(User, FollowUp.recorded_by_id == User.id)
    )
    full = level == "full"
    if not full:
        numbers = _patient_numbers(filters)
        query = query.add_columns(numbers.c.number).join(
            numbers, numbers.c.patient_id == Trial.patient_id
        )
    if not include_voided:
        query = query.where(FollowUp.voided_at.is_(None))
    query = filters.apply(query, include_voided=include_voided).order_by(
        Trial.patient_id,
        Trial.trial_date,
        Trial.id,
        FollowUp.follow_up_date,
        FollowUp.id,
    )

    def rows():
        for _trial_id, group in groupby(_stream(query), key=lambda row: row[6]):
            group = list(group)
            trial_date = group[0][9]
            outcome_id = rule.outcome(trial_date, [f for f in group if not f[5]])
            for f in group:
                is_outcome = f[0] == outcome_id
                outcome = [
                    _yes_no(is_outcome),
                    rule.benefit(f[4]) if is_outcome else "",
                    settings.benefit_definition,
                ]
                if full:
                    yield [
                        f[0],
                        f[6],
                        formula_guard(f[8]),
                        trial_date.isoformat(),
                        f[10],
                        f[11],
                        f[1].isoformat(),
                        _weeks(f[1], trial_date),
                        f[2],
                        _yes_no(f[3]),
                        f[4],
                        *outcome,
                        formula_guard(f[12] or ""),
                        f[13],
                        _yes_no(f[5] or f[14]),
                        formula_guard(f[15] or ""),
                    ]
                    continue
                yield [
                    f[17],
                    (trial_date - f[16]).days,
                    f[10],
                    f[11],
                    (f[1] - f[16]).days,
                    _weeks(f[1], trial_date),
                    f[2],
                    _yes_no(f[3]),
                    f[4],
                    *outcome,
                ]

    header = FOLLOW_UP_COLUMNS if full else DEIDENTIFIED_FOLLOW_UP_COLUMNS
    return Export(
        "followups",
        level,
        header,
        rows(),
        _filter_details(filters, include_voided),
        query,
    )


def audit_export(filters: dict[str, str]) -> Export:
    """The audit trail, oldest first; full level only."""
    query = (
        audit.events_query(filters)
        .with_only_columns(
            AuditEvent.id,
            utc_text(AuditEvent.at),
            AuditEvent.username,
            AuditEvent.action,
            AuditEvent.table_name,
            AuditEvent.record_id,
            AuditEvent.changes,
            AuditEvent.reason,
        )
        .order_by(AuditEvent.id)
    )

    def rows():
        for (
            event_id,
            at,
            username,
            action,
            table,
            record_id,
            changes,
            reason,
        ) in _stream(query):
            yield [
                event_id,
                at,
                formula_guard(username or ""),
                action,
                table or "",
                _blank(record_id),
                formula_guard(json.dumps(changes, ensure_ascii=False, sort_keys=True)),
                formula_guard(reason or ""),
            ]

    used = {key: value for key, value in filters.items() if value}
    return Export("audit", "full", AUDIT_COLUMNS, rows(), {"filters": used}, query)


# ---------------------------------------------------------------- import

#: How much of a file is looked at before it is read as CSV at all.
SNIFF_BYTES = 64 * 1024
ROWS_PER_BATCH = 5000

_PATIENT_FIELDS = {
    "patient_code": "code",
    "patient_birth_year": "birth_year",
    "patient_sex": "sex",
    "affected_side": "affected_side",
}
_TRIAL_FIELDS = {
    "trial_date": "trial_date",
    "intervention": "intervention",
    "product": "product",
    "activity": "activity",
    "activity_other": "activity_other",
    "pain_without": "pain_without",
    "pain_with": "pain_with",
    "notes": "notes",
}
_FOLLOW_UP_FIELDS = {
    "followup_date": "follow_up_date",
    "followup_pain": "pain",
    "followup_rating": "global_rating",
    "still_using": "still_using",
}


@dataclass(frozen=True)
class Problem:
    """Something wrong with the file or one of its cells."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Duplicate:
    """A row that matches a trial already recorded, so it was skipped."""

    line: int
    same_as: str
    #: Whether the row also gave a follow-up, which is skipped with it.
    with_follow_up: bool = False

    def __str__(self) -> str:
        skipped = "skipped with its follow-up (record it on the trial's page)"
        if not self.with_follow_up:
            skipped = "skipped"
        return f"line {self.line}: same trial as {self.same_as}; {skipped}"


@dataclass
class ImportReport:
    """What an import read, accepted, skipped and refused."""

    filename: str
    dry_run: bool = False
    rows: int = 0
    accepted: int = 0
    new_patients: int = 0
    follow_ups: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused_lines: set[int] = field(default_factory=set)
    written: bool = False

    @property
    def refused(self) -> int:
        """Rows with at least one problem."""
        return len(self.refused_lines)

    @property
    def ok(self) -> bool:
        """Whether every row passed (so a real import writes them)."""
        return not self.problems

    def counts(self) -> dict:
        """The figures, as the audit row and the pages give them."""
        return {
            "file": self.filename,
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": len(self.duplicates),
            "refused": self.refused,
            "new_patients": self.new_patients,
            "follow_ups": self.follow_ups,
        }


class FileRefused(Exception):
    """The file as a whole cannot be read as a trial file (from ``line`` on)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message, line)
        self.line = line

    def __str__(self) -> str:
        return self.args[0]


class _ImportPatientForm(PatientForm):
    """On import a known code names that patient: it is reused, not refused."""

    def code_in_use(self, code: str) -> bool:
        return False


def _plain_form(form_class, **kwargs):
    # One instance re-processed per row: the rules are the screen's, the cost
    # of building a form (and its CSRF token) is paid once.
    return form_class(formdata=None, meta={"csrf": False}, **kwargs)


class _Values:
    """What a form's ``fill`` copies onto a record, read back as a plain dict."""


class _TrialDate:
    """The trial a follow-up row follows, as the follow-up form looks at it."""

    trial_date: date | None = None


class _RowChecker:
    """Validates one CSV row with the patient, trial and follow-up forms.

    Each form is checked through :class:`~tracker.formcheck.FormCheck`: the
    forms' own rules and messages, each distinct cell value checked once.
    """

    def __init__(self):
        self.followed_trial = _TrialDate()
        self.patient, self.trial, self.follow_up = (
            FormCheck(_plain_form(form_class, **kwargs), _field_columns(fields))
            for form_class, kwargs, fields in (
                (_ImportPatientForm, {}, _PATIENT_FIELDS),
                (TrialForm, {}, _TRIAL_FIELDS),
                (FollowUpForm, {"trial": self.followed_trial}, _FOLLOW_UP_FIELDS),
            )
        )

    def check(self, line: int, values: dict[str, str], problems: list[Problem]):
        """The row's patient, trial and follow-up as column values, or None."""
        patient, patient_ok = self._check(self.patient, values, line, problems)
        trial, trial_ok = self._check(self.trial, values, line, problems)
        follow_up = None
        if any(values.get(column, "").strip() for column in _FOLLOW_UP_FIELDS):
            # Checked against the trial date as read, even if the trial is refused.
            self.followed_trial.trial_date = trial["trial_date"]
            follow_up, follow_up_ok = self._check(
                self.follow_up, values, line, problems
            )
            trial_ok = trial_ok and follow_up_ok
        if values.get("voided", "").strip().lower() == "yes":
            problems.append(
                Problem(
                    line, "voided", "voided trials are not imported; remove the row"
                )
            )
            trial_ok = False
        if not (patient_ok and trial_ok):
            return None
        return (
            self._fill(self.patient, patient),
            self._fill(self.trial, trial),
            follow_up and self._fill(self.follow_up, follow_up),
        )

    @staticmethod
    def _check(check: FormCheck, values, line, problems) -> tuple[dict, bool]:
        data, errors = check.check(values)
        if not errors:
            return data, True
        for name, messages in errors.items():
            problems.append(Problem(line, check.columns.get(name), messages[0]))
        return data, False

    @staticmethod
    def _fill(check: FormCheck, data: dict) -> dict:
        record = _Values()
        check.fill(data, record)
        return vars(record)


def _field_columns(fields: dict[str, str]) -> dict[str, str]:
    """Form field names -> the file's columns, from columns -> field names."""
    return {name: column for column, name in fields.items()}


def _refuse_encoding(where: str) -> FileRefused:
    return FileRefused(
        f"The file is not UTF-8 text ({where}). Save it from the spreadsheet "
        'as "CSV UTF-8 (comma delimited)" and try again.'
    )


def _sniff(stream: IO[bytes]) -> None:
    """Refuse files that are empty, not UTF-8 or have no lines, from their start."""
    start = stream.read(SNIFF_BYTES)
    stream.seek(0)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(start, final=False)
    except UnicodeDecodeError as error:
        raise _refuse_encoding(f"byte {error.start + 1}") from None
    if not text.strip():
        raise FileRefused("The file is empty.")
    if len(start) == SNIFF_BYTES and "\n" not in text and "\r" not in text:
        raise FileRefused(
            "The first line is longer than 64 KB, so this is not a trial file: "
            "it should start with a header row such as "
            f"{','.join(REQUIRED_COLUMNS)}."
        )


def _read_header(reader) -> list[str]:
    """The header row; refuses other delimiters and unknown or missing columns."""
    header = [name.strip() for name in next(reader, [])]
    if len(header) == 1 and ";" in header[0]:
        raise FileRefused(
            "The file separates its columns with semicolons, as Excel does in "
            'some languages. Save it as "CSV UTF-8 (comma delimited)" or '
            "change the list separator to a comma, then try again."
        )
    if len(header) == 1 and "\t" in header[0]:
        raise FileRefused(
            "The file separates its columns with tabs. Save it as "
            '"CSV UTF-8 (comma delimited)" and try again.'
        )
    if not any(header):
        raise FileRefused(
            "The first line is blank: the file must start with its header row."
        )
    _check_columns(header)
    return header


def _check_columns(header: list[str]) -> None:
    repeated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in TRIAL_COLUMNS]
    messages = []
    if missing:
        messages.append("Missing required columns: " + ", ".join(missing) + ".")
    if unknown:
        messages.append(
            "Unknown columns: "
            + ", ".join(name or "(blank)" for name in unknown)
            + ". The columns a trial file may have are listed in the README's "
            "data dictionary."
        )
    if repeated:
        messages.append("Columns named twice: " + ", ".join(repeated) + ".")
    if messages:
        raise FileRefused(" ".join(messages))


def _data_rows(header, reader, report: ImportReport) -> Iterator[tuple[int, dict]]:
    """Each non-blank row as (first line number, {column: text}), guards removed."""
    width = len(header)
    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        # The row's text in one piece: most rows are then looked at only once.
        text = "".join(cells)
        if not text.strip():
            continue
        report.rows += 1
        if len(cells) > width and not "".join(cells[width:]).strip():
            cells = cells[:width]
        if len(cells) != width:
            report.problems.append(
                Problem(
                    line,
                    None,
                    f"{len(cells)} cells, but the header has {width} columns",
                )
            )
            report.refused_lines.add(line)
            continue
        if "\0" in text:
            for name, cell in zip(header, cells, strict=True):
                if "\0" in cell:
                    report.problems.append(
                        Problem(
                            line, name, "contains a NUL character, which is not text"
                        )
                    )
            report.refused_lines.add(line)
            continue
        if "'" in text:
            cells = [strip_formula_guard(cell) for cell in cells]
        yield line, dict(zip(header, cells, strict=True))


class _RecordIds:
    """Ids for new records, taken before the records are inserted in bulk.

    PostgreSQL hands them out from each table's sequence, so other writers
    never get the same; on SQLite the import's write transaction keeps other
    writers out, so the ids after the highest stored one are free.
    """

    def __init__(self):
        self._next: dict[type, int] = {}

    def take(self, model, count: int) -> Sequence[int]:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            sequence = sa.func.pg_get_serial_sequence(model.__tablename__, "id")
            return connection.scalars(
                sa.select(sa.func.nextval(sequence)).select_from(
                    sa.func.generate_series(1, count)
                )
            ).all()
        if model not in self._next:
            highest = connection.scalar(sa.select(sa.func.max(model.id)))
            self._next[model] = (highest or 0) + 1
        first = self._next[model]
        self._next[model] += count
        return range(first, first + count)


@dataclass
class _Matched:
    """The new records a batch brings, each with the record it belongs to."""

    patients: list[dict]
    trials: list[tuple[dict, dict]]  # with the patient each belongs to
    follow_ups: list[tuple[dict, dict]]  # with the trial each follows


class _Matcher:
    """Finds each checked row's patient and whether its trial is recorded already.

    Looks in the database and in memory: rows already matched may not be
    in the database yet. A dry run inserts nothing, so memory keeps the
    whole file; an import calls :meth:`forget_inserted` once all but the
    last batch are inserted.
    """

    def __init__(self, report: ImportReport):
        self.report = report
        self.new_patients: dict[str, dict] = {}
        #: Trial keys -> where they were first met.
        self.seen: dict[tuple, str] = {}
        self._last: tuple[dict, dict] = ({}, {})

    def forget_inserted(self) -> None:
        # The last batch's own dicts: match() starts new ones for the next.
        self.new_patients, self.seen = self._last

    def match(self, rows: list[tuple]) -> _Matched:
        """New records of ``rows``; duplicates and disagreements reported."""
        codes = {row[2]["code"] for row in rows}
        stored = {
            row.code: row._asdict()
            for row in db.session.execute(
                sa.select(
                    Patient.id,
                    Patient.code,
                    Patient.birth_year,
                    Patient.sex,
                    Patient.affected_side,
                    Patient.voided_at,
                ).where(Patient.code.in_(codes))
            )
        }
        by_id = {row["id"]: code for code, row in stored.items()}
        known: dict[tuple, str] = {}
        if by_id:
            for trial in db.session.execute(
                sa.select(
                    Trial.id,
                    Trial.patient_id,
                    Trial.trial_date,
                    Trial.intervention,
                    Trial.activity,
                    Trial.pain_without,
                    Trial.pain_with,
                    Trial.voided_at,
                ).where(Trial.patient_id.in_(by_id))
            ):
                key = (by_id[trial.patient_id], *trial[2:7])
                known[key] = f"trial {trial.id}" + (
                    " (voided)" if trial.voided_at else ""
                )
        matched = _Matched([], [], [])
        new_patients, seen = self._last = ({}, {})
        for line, values, patient, trial, follow_up in rows:
            code = patient["code"]
            reference = stored.get(code) or new_patients.get(code)
            reference = reference or self.new_patients.get(code)
            if not self._same_patient(line, values, patient, reference):
                continue
            key = (
                code,
                trial["trial_date"],
                trial["intervention"],
                trial["activity"],
                trial["pain_without"],
                trial["pain_with"],
            )
            same_as = seen.get(key) or self.seen.get(key) or known.get(key)
            if same_as:
                self.report.duplicates.append(
                    Duplicate(line, same_as, follow_up is not None)
                )
                continue
            seen[key] = f"line {line}"
            self.report.accepted += 1
            self.report.follow_ups += follow_up is not None
            if reference is None:
                new_patients[code] = reference = patient
                matched.patients.append(patient)
                self.report.new_patients += 1
            matched.trials.append((trial, reference))
            if follow_up is not None:
                matched.follow_ups.append((follow_up, trial))
        self.new_patients.update(new_patients)
        self.seen.update(seen)
        return matched

    def _same_patient(self, line, values, patient, reference) -> bool:
        """A patient's details must agree on every row that gives them."""
        if reference is None:
            return True
        problems = []
        if reference.get("voided_at") is not None:
            problems.append(
                Problem(
                    line,
                    "patient_code",
                    f"patient {patient['code']} was voided; trials cannot be added",
                )
            )
        for column, name in list(_PATIENT_FIELDS.items())[1:]:
            if not values.get(column, "").strip():
                continue
            given, recorded = patient[name], reference[name]
            if given != recorded:
                problems.append(
                    Problem(
                        line,
                        column,
                        f"{given} differs from {_blank(recorded) or 'blank'}, "
                        f"recorded for patient {patient['code']} in the database "
                        "or on an earlier line",
                    )
                )
        self.report.problems.extend(problems)
        if problems:
            self.report.refused_lines.add(line)
        return not problems


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
        prepared = []
        for model, records in (
            (Patient, matched.patients),
            (Trial, [trial for trial, _patient in matched.trials]),
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


def import_trials(
    stream: IO[bytes],
    filename: str,
    user: User,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read a trial file; write it in one transaction if every row passes.

    ``stream`` is a seekable binary file. Rows are checked with the screens'
    forms and inserted in bulk a batch at a time, each record with the audit
    row the ORM would write (under ``user``, with the file name as the
    reason); anything wrong, or ``dry_run``, rolls the whole transaction
    back. ``progress`` is called with the bytes read so far after each batch.
    """
    if dry_run:
        # Reading only: on SQLite, do not hold the write lock while checking.
        db.session.rollback()
        intent = database.write_intent.set(False)
    try:
        with cycle_collector_paused():
            return _import(stream, filename, user, dry_run, progress)
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
                        for column in _PATIENT_FIELDS
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
        lambda: _checked_batches(stream), passed_on=(FileRefused,)
    )


def _import(stream, filename, user, dry_run, progress) -> ImportReport:
    report = ImportReport(filename=filename, dry_run=dry_run)
    matcher = _Matcher(report)
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
    if report.problems or dry_run:
        db.session.rollback()
        if report.problems and not dry_run:
            audit.log_event("import", report.counts() | {"written": False}, user=user)
            db.session.commit()
        return report
    audit.log_event("import", report.counts() | {"written": True}, user=user)
    db.session.commit()
    report.written = True
    return report
