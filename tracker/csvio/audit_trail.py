"""The audit trail export."""

from __future__ import annotations

import json

from .. import audit
from ..models import AuditEvent
from ..storage.sql import utc_text
from .cells import _blank, formula_guard
from .columns import AUDIT_COLUMNS
from .streaming import Export, _stream


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
