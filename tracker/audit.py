"""The audit trail: every change to a clinical record, in the same transaction.

Modelled on 21 CFR Part 11 §11.10(e) and REDCap's data-change log. Session
events catch every insert and update of a patient, trial or follow-up made
through the ORM, so no screen or command can forget to audit; the CSV import,
which inserts in bulk without the ORM, goes through :func:`new_records`, which
prepares the same rows with the same helpers. Other events (logins, exports,
settings) are logged explicitly with :func:`log_event`. A change to a saved
record needs a reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, partial
from json.encoder import encode_basestring_ascii

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, FollowUp, Patient, Trial, User, utcnow
from .storage import bulk

AUDITED = (Patient, Trial, FollowUp)
#: Bookkeeping columns that the audit row itself already records.
UNAUDITED_COLUMNS = {"id", "created_at"}
#: The audit trail's filters, as the page and the export read them.
AUDIT_FILTERS = ("table", "record", "user", "since", "until")
#: The actions of rows that change a record's fields.
RECORD_ACTIONS = ("create", "update", "void")

_command_user: ContextVar[User | None] = ContextVar("command_user", default=None)

#: Who a follow-up reported by the patient through a link is recorded as.
SELF_REPORT = "patient (self-report)"

#: The name a failed login's row gives when the typed one names no account:
#: people type their password into the name field, and reviewers read the trail.
UNKNOWN_USER = "(unknown user)"


class ReasonRequired(ValueError):
    """A saved record was changed without saying why."""


@contextmanager
def acting_as(user: User) -> Iterator[None]:
    """Attribute changes made outside a request (commands) to ``user``."""
    token = _command_user.set(user)
    try:
        yield
    finally:
        _command_user.reset(token)


def actor() -> User | None:
    """The user making the current change: the logged-in one or the command's."""
    if has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()
    return _command_user.get()


def give_reason(reason: str) -> None:
    """The reason for the changes committed next in this session."""
    db.session.info["audit_reason"] = reason


def reported_by_patient() -> None:
    """The changes committed next in this session come from a patient's report."""
    db.session.info["audit_username"] = SELF_REPORT


def log_event(
    action: str,
    details: dict | None = None,
    user: User | None = None,
    *,
    table_name: str | None = None,
    record_id: int | None = None,
    reason: str | None = None,
):
    """Record something other than a record change: a login, an export...

    An event about one record (a report link made for a trial, say) names
    it, so it shows in that record's history.
    """
    user = user or actor()
    db.session.add(
        AuditEvent(
            user_id=user.id if user else None,
            username=user.username if user else None,
            action=action,
            changes=details or {},
            table_name=table_name,
            record_id=record_id,
            reason=reason,
        )
    )


def _plain(value):
    # Times in UTC without an offset: SQLite hands them back that way.
    if isinstance(value, date):  # and datetime, its subclass
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    return value


@cache
def _audited_columns(model) -> tuple[str, ...]:
    return tuple(
        column.key
        for column in sa.inspect(model).column_attrs
        if column.key not in UNAUDITED_COLUMNS
    )


@cache
def _time_columns(model) -> tuple[str, ...]:
    return tuple(
        key
        for key in _audited_columns(model)
        if isinstance(model.__table__.c[key].type, sa.Date | sa.DateTime)
    )


def _created(model, value_of: Callable[[str], object]) -> dict[str, list]:
    """A new record's changes: every audited column, from nothing to its value."""
    changes = {key: [None, value_of(key)] for key in _audited_columns(model)}
    for key in _time_columns(model):
        changes[key][1] = _plain(changes[key][1])
    return changes


def _created_json(model, records: list[Mapping]) -> list[str]:
    """:func:`_created` of each record, as the JSON column would store it.

    The same text ``json.dumps`` gives (SQLAlchemy's serializer) at a
    fraction of the time: an import writes one such row for every record,
    and encoding nested lists record by record was a sixth of its time.
    Values are encoded a column at a time, mostly by C functions, and each
    row's text is filled into a template.
    """
    keys = _audited_columns(model)
    times = set(_time_columns(model))
    columns = []
    for key in keys:
        values = [record[key] for record in records]
        if key in times:
            values = list(map(_plain, values))
        columns.append(_json_column(values))
    return list(map(_created_template(model).__mod__, zip(*columns, strict=True)))


@cache
def _created_template(model) -> str:
    keys = _audited_columns(model)
    return "{" + ", ".join(f"{json.dumps(key)}: [null, %s]" for key in keys) + "}"


def _json_column(values: list) -> list[str]:
    """Each value as ``json.dumps`` writes it."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return list(map(encode_basestring_ascii, values))
    if kinds == {int}:
        return list(map(int.__repr__, values))
    if kinds == {type(None)}:
        return ["null"] * len(values)
    return list(map(json.dumps, values))


def _changes(record) -> dict[str, list]:
    state = sa.inspect(record)
    changes = {}
    for key in _audited_columns(type(record)):
        history = state.attrs[key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[key] = [_plain(old), _plain(new)]
    return changes


def _recorder_id(given: int | None, user: User | None) -> int | None:
    """Who recorded a new record: as given, or else the user making it."""
    if given is None and user:
        return user.id
    return given


@sa.event.listens_for(Session, "before_flush")
def _stamp_new_records(session, flush_context, instances):
    # A patient's report is the patient's, whoever is signed in on the device.
    user = None if session.info.get("audit_username") else actor()
    session.info["audit_user"] = user
    for record in session.new:
        if isinstance(record, AUDITED):
            record.recorded_by_id = _recorder_id(record.recorded_by_id, user)
    for record in session.deleted:
        if isinstance(record, AUDITED):
            raise ValueError("clinical records are voided, never deleted")


@sa.event.listens_for(Session, "after_flush")
def _write_audit_rows(session, flush_context):
    user = session.info.get("audit_user")
    reason = session.info.get("audit_reason")
    username = session.info.get("audit_username")
    rows = []
    for record in session.new:
        if isinstance(record, AUDITED):
            changes = _created(type(record), partial(getattr, record))
            rows.append(
                _row("create", record.__tablename__, record.id, changes, reason, user)
                | ({"username": username} if username else {})
            )
    for record in session.dirty:
        if not isinstance(record, AUDITED):
            continue
        changes = _changes(record)
        if not changes:
            continue
        action = "void" if "voided_at" in changes else "update"
        why = record.void_reason if action == "void" else reason
        if not why:
            raise ReasonRequired("a change to a saved record needs a reason")
        rows.append(_row(action, record.__tablename__, record.id, changes, why, user))
    if rows:
        session.connection().execute(AuditEvent.__table__.insert(), rows)


def _row(
    action: str,
    table_name: str,
    record_id: int,
    changes: dict,
    reason: str | None,
    user: User | None,
) -> dict:
    return _about(action, table_name, reason, user) | {
        "record_id": record_id,
        "changes": changes,
    }


def _about(action: str, table_name: str, reason: str | None, user: User | None) -> dict:
    """What an audit row says besides which record and what changed in it."""
    return {
        "action": action,
        "table_name": table_name,
        "reason": reason,
        "user_id": user.id if user else None,
        "username": user.username if user else None,
    }


def _defaults(model) -> dict:
    """What a flush stores in the columns a new record leaves unset."""
    defaults = {}
    for column in model.__table__.columns:
        if column.primary_key:
            continue
        default = column.default
        if default is None:
            defaults[column.key] = None
        elif default.is_callable:
            defaults[column.key] = default.arg(None)
        else:
            defaults[column.key] = default.arg
    return defaults


def new_records(
    model,
    records: list[dict],
    user: User | None,
    reason: str | None,
    dialect: sa.Dialect,
) -> tuple[bulk.Rows, bulk.Rows]:
    """New records and their audit rows for a bulk insert, as a flush would write them.

    ``records`` are column values with the records' ids. Columns left out
    get their defaults (one ``created_at`` for all), the records are stamped
    as the session stamps new ones, and each gets the same ``create`` row.
    Insert both with :func:`tracker.bulk.insert`.
    """
    now = utcnow()
    defaults = _defaults(model)
    records = [defaults | values for values in records]
    for values in records:
        values["recorded_by_id"] = _recorder_id(values["recorded_by_id"], user)
    shared = _about("create", model.__tablename__, reason, user)
    audit_rows = [
        {"record_id": values["id"], "changes": changes}
        for values, changes in zip(records, _created_json(model, records), strict=True)
    ]
    return (
        bulk.prepare(dialect, model.__table__, records),
        bulk.prepare(
            dialect,
            AuditEvent.__table__,
            audit_rows,
            same=shared | {"at": now},
            encoded={"changes"},
        ),
    )


@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
def _forget_reason(session):
    session.info.pop("audit_reason", None)
    session.info.pop("audit_username", None)


def history(table_name: str, record_id: int) -> list[AuditEvent]:
    """Every audit row of one record, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.table_name == table_name, AuditEvent.record_id == record_id
            )
            .order_by(AuditEvent.id)
        )
    )


def events_query(filters: Mapping[str, str]) -> sa.Select:
    """Audit rows matching the trail's filters: table, record, user, since, until.

    The audit page and the audit-trail export read the same query-string
    parameters; a blank or malformed one does not narrow the query.
    """
    filters = {key: (filters.get(key) or "").strip() for key in AUDIT_FILTERS}
    query = sa.select(AuditEvent)
    if filters["table"]:
        query = query.where(AuditEvent.table_name == filters["table"])
    if filters["record"].isascii() and filters["record"].isdigit():
        query = query.where(AuditEvent.record_id == int(filters["record"]))
    if filters["user"]:
        query = query.where(AuditEvent.username == filters["user"])
    since, until = _start_of(filters["since"]), _start_of(filters["until"], 1)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return query


def _start_of(text: str, days_later: int = 0) -> datetime | None:
    """Midnight UTC of an ISO date (plus some days), or None if not a date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=days_later), time(), UTC)


def versions(events: Iterable[AuditEvent]) -> list[dict]:
    """Each version of a record, rebuilt from its audit rows alone.

    Events about the record that change none of its fields (a report link
    made for a trial) make no version.
    """
    rebuilt, current = [], {}
    for event in events:
        if event.action not in RECORD_ACTIONS:
            continue
        current = current | {key: new for key, (_old, new) in event.changes.items()}
        rebuilt.append(dict(current))
    return rebuilt
