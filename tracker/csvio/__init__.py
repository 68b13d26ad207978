"""The trial file format, both ways: exports written row by row, imports validated.

One row per trial, UTF-8 (with the byte-order mark Excel looks for), RFC 4180
quoting, ISO dates and the codes the app stores. Exports stream from a
server-side cursor, so memory stays flat however large the clinic. Imports
check every row with the same WTForms forms the screens use and write all
rows in one transaction, or none.

Text cells that a spreadsheet would run as a formula get a leading ``'``
(CWE-1236); the import takes it off again, so a file survives the round trip.

A module per concern: ``columns``, ``cells`` and ``report`` (plain values);
``streaming`` (the :class:`Export`), ``trials``, ``follow_ups`` and
``audit_trail`` (the exports); ``reading`` and ``checking`` (a file's rows
checked with the forms, without the database), ``matching``, ``inserting``
and ``importing`` (the import). The names of the modules that use the
database are imported when first asked for, so that importing the checking
side does not bring them in.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .cells import age_band, formula_guard, strip_formula_guard
from .columns import (
    AUDIT_COLUMNS,
    CLINICAL_COLUMNS,
    DEIDENTIFIED_FOLLOW_UP_COLUMNS,
    DEIDENTIFIED_TRIAL_COLUMNS,
    DERIVED_COLUMNS,
    FOLLOW_UP_COLUMNS,
    KINDS,
    LEVELS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TRIAL_COLUMNS,
    Level,
)
from .report import Duplicate, FileRefused, ImportReport, Problem

if TYPE_CHECKING:
    from .audit_trail import audit_export
    from .follow_ups import follow_ups_export
    from .importing import CHECK_IN_CHILD_BYTES, import_trials
    from .streaming import Export
    from .trials import trials_export, trials_query

#: Names of the modules that use the database -> their module.
_ON_FIRST_USE = {
    "audit_export": "audit_trail",
    "follow_ups_export": "follow_ups",
    "CHECK_IN_CHILD_BYTES": "importing",
    "import_trials": "importing",
    "Export": "streaming",
    "trials_export": "trials",
    "trials_query": "trials",
}


def __getattr__(name: str):
    if name in _ON_FIRST_USE:
        return getattr(import_module(f".{_ON_FIRST_USE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AUDIT_COLUMNS",
    "CHECK_IN_CHILD_BYTES",
    "CLINICAL_COLUMNS",
    "DEIDENTIFIED_FOLLOW_UP_COLUMNS",
    "DEIDENTIFIED_TRIAL_COLUMNS",
    "DERIVED_COLUMNS",
    "Duplicate",
    "Export",
    "FOLLOW_UP_COLUMNS",
    "FileRefused",
    "ImportReport",
    "KINDS",
    "LEVELS",
    "Level",
    "OPTIONAL_COLUMNS",
    "Problem",
    "REQUIRED_COLUMNS",
    "TRIAL_COLUMNS",
    "age_band",
    "audit_export",
    "follow_ups_export",
    "formula_guard",
    "import_trials",
    "strip_formula_guard",
    "trials_export",
    "trials_query",
]
