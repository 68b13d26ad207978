"""The screens' forms applied to many rows, each distinct value checked once.

An import checks every row with the forms a therapist fills in, so a file
obeys exactly the screens' rules. Processing and validating a whole form per
row costs tens of microseconds (select fields walk their choices, every field
runs its validator chain), yet a column holds few distinct values: pain
scores, codes of aids and activities, dates. :class:`FormCheck` therefore
runs a field's processing and its own validators once per distinct raw value
and keeps the result. The form's inline ``validate_<field>`` methods, which
may look at other fields or at the form (the activity beside its
description, the trial a follow-up follows), run on every row, after the
field's chain, as ``form.validate()`` runs them.

It relies on what holds for the app's forms: a field's own validators look
at that field alone (``tests/test_formcheck.py`` compares the results with
``form.validate()``), no field overrides ``post_validate`` and no form
overrides ``validate`` (both refused by :class:`FormCheck`). Results are kept
for the life of one FormCheck, one import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from werkzeug.datastructures import MultiDict
from wtforms import Field, Form

#: Distinct values remembered per field; free text may never repeat.
CACHE_SIZE = 20_000


class _Checked(NamedTuple):
    data: object
    errors: tuple[str, ...]
    #: Whether the field's own chain ran to its end, so inline validators run.
    complete: bool


class _FieldCheck(NamedTuple):
    name: str
    field: Field
    #: The key the field's value has in a row.
    column: object
    inline: tuple
    cache: dict


#: The key of fields that no column gives: never found, so always blank.
_NO_COLUMN = object()


class FormCheck:
    """One form instance checking row after row, as ``form.validate()`` would.

    ``columns`` maps field names to the keys rows give their values under;
    without it, rows are keyed by field name. A field with no column, or
    whose key a row lacks, is blank, as in a form posted with it empty.
    """

    def __init__(self, form: Form, columns: Mapping[str, str] | None = None):
        if type(form).validate is not Form.validate:
            raise TypeError(f"{type(form).__name__} overrides validate()")
        self.form = form
        if columns is None:
            columns = {name: name for name in form._fields}
        #: Field names -> the keys rows give them under.
        self.columns = columns
        self._loaded: Mapping | None = None
        self._fields: list[_FieldCheck] = []
        for name, field in form._fields.items():
            if type(field).post_validate is not Field.post_validate:
                raise TypeError(f"field {name} overrides post_validate()")
            inline = getattr(type(form), f"validate_{name}", None)
            column = columns.get(name, _NO_COLUMN)
            self._fields.append(
                _FieldCheck(name, field, column, (inline,) if inline else (), {})
            )

    def check(self, row: Mapping[str, str]) -> tuple[dict, dict[str, list[str]]]:
        """The fields' data and errors for one row, in the form's order.

        The same as ``form.process(formdata)`` with the row's values, then
        ``form.validate()``, ``form.data`` and ``form.errors``.
        """
        data, errors, pending = {}, {}, []
        for name, field, column, inline, cache in self._fields:
            value = row.get(column, "")
            checked = cache.get(value)
            if checked is None:
                if len(cache) >= CACHE_SIZE:
                    cache.clear()
                checked = cache[value] = self._check_field(name, field, value)
            data[name] = checked.data
            if inline and checked.complete:
                pending.append((name, field, inline))
                errors[name] = list(checked.errors)
            elif checked.errors:
                errors[name] = list(checked.errors)
        if pending:
            self.load(data)
            for name, field, inline in pending:
                field.errors = errors[name]
                # The rest of Field.validate's chain: inline validators last.
                field._run_validation_chain(self.form, inline)
                if not field.errors:
                    del errors[name]
        return data, errors

    def load(self, data: Mapping[str, object]) -> None:
        """Put checked data back into the form's fields."""
        if data is self._loaded:
            return
        self._loaded = data
        for name, field, _column, _inline, _cache in self._fields:
            field.data = data[name]

    def fill(self, data: Mapping[str, object], record) -> None:
        """Copy checked data onto ``record`` with the form's own ``fill``."""
        self.load(data)
        self.form.fill(record)

    def _check_field(self, name: str, field: Field, value: str) -> _Checked:
        self._loaded = None  # the field is about to hold other data
        formdata = MultiDict({field.name: value})
        inline_filter = getattr(self.form, f"filter_{name}", None)
        field.process(formdata, extra_filters=[inline_filter] if inline_filter else [])
        reached = []
        field.validate(self.form, [lambda form, field: reached.append(True)])
        return _Checked(field.data, tuple(field.errors), bool(reached))
