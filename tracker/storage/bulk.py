"""Many rows into one table at once, for imports of thousands of records.

``connection.execute(insert(table), rows)`` spends about as long per row on
SQLAlchemy's bookkeeping (a parameter set built, every value passed through
its type) as SQLite spends storing it. Here SQLAlchemy still compiles the
INSERT and the columns' own types convert the values, but column by column,
each distinct date or time converted once; the driver then gets all rows in
one call: ``executemany``, or ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

import sqlalchemy as sa


@dataclass(frozen=True)
class Rows:
    """Rows of one table converted for the driver, ready to insert."""

    table: sa.Table
    #: The columns given, in the table's order, and each row's values for them.
    keys: list[str]
    values: list[tuple]


def prepare(
    dialect: sa.Dialect,
    table: sa.Table,
    rows: Sequence[dict],
    same: Mapping[str, object] | None = None,
    encoded: Collection[str] = (),
) -> Rows:
    """``rows`` converted by their columns' types, a column at a time.

    ``rows`` are dicts with the same keys; ``same`` has the values every row
    shares, converted once; the ``encoded`` columns hold values already in
    the form their type would give the driver (JSON text, say).
    """
    same = same or {}
    given = [column.key for column in table.columns if column.key in rows[0]]
    values_of = itemgetter(*given) if len(given) > 1 else lambda row: (row[given[0]],)
    given_columns = dict(
        zip(given, zip(*map(values_of, rows), strict=True), strict=True)
    )
    keys = [
        column.key
        for column in table.columns
        if column.key in given_columns or column.key in same
    ]
    columns = []
    for key in keys:
        column_type = table.c[key].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if key in same:
            value = same[key] if process is None else process(same[key])
            columns.append(repeat(value, len(rows)))
        elif process is None or key in encoded:
            columns.append(given_columns[key])
        elif isinstance(column_type, sa.JSON):
            columns.append(list(map(process, given_columns[key])))
        else:
            converted: dict = {}
            columns.append(
                [
                    converted[value]
                    if value in converted
                    else converted.setdefault(value, process(value))
                    for value in given_columns[key]
                ]
            )
    return Rows(table, keys, list(zip(*columns, strict=True)))


def insert(dbapi_connection, dialect: sa.Dialect, rows: Rows) -> None:
    """Insert prepared rows in the connection's open transaction.

    Takes the driver's connection, not SQLAlchemy's, so that it can run in a
    thread of its own while the caller prepares the next rows.
    """
    if dialect.name == "postgresql":
        _copy(dbapi_connection, dialect, rows)
        return
    compiled = sa.insert(rows.table).compile(dialect=dialect, column_keys=rows.keys)
    # Both list the columns in the table's order.
    assert list(compiled.positiontup) == rows.keys, compiled.positiontup
    cursor = dbapi_connection.cursor()
    try:
        cursor.executemany(compiled.string, rows.values)
    finally:
        cursor.close()


#: PostgreSQL's binary COPY format of each column type. A JSON column is sent
#: as text: json's binary format is its text.
_BINARY_TYPES = {
    sa.Integer: "int4",
    sa.SmallInteger: "int2",
    sa.String: "text",
    sa.Text: "text",
    sa.JSON: "text",
    sa.Date: "date",
    sa.Boolean: "bool",
}


def _binary_type(column_type: sa.types.TypeEngine) -> str:
    if isinstance(column_type, sa.DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    return next(
        _BINARY_TYPES[kind]
        for kind in type(column_type).__mro__
        if kind in _BINARY_TYPES
    )


def _copy(dbapi_connection, dialect: sa.Dialect, rows: Rows) -> None:
    """PostgreSQL's binary COPY, through psycopg.

    Binary: psycopg formats a row in C and the server parses no dates or
    numbers, half the client's time of text COPY.
    """
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(key) for key in rows.keys)
    statement = (
        f"COPY {quote.format_table(rows.table)} ({names}) FROM STDIN (FORMAT BINARY)"
    )
    types = [_binary_type(rows.table.c[key].type) for key in rows.keys]
    with dbapi_connection.cursor() as cursor:
        with cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in rows.values:
                copy.write_row(row)
