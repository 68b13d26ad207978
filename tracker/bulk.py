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
from itertools import repeat
from operator import itemgetter

import sqlalchemy as sa


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict],
    same: Mapping[str, object] | None = None,
    encoded: Collection[str] = (),
) -> None:
    """Insert ``rows`` in the connection's transaction.

    ``rows`` are dicts with the same keys; ``same`` has the values every row
    shares, converted once; the ``encoded`` columns hold values already in
    the form their type would give the driver (JSON text, say).
    """
    if not rows:
        return
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
    dialect = connection.dialect
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
    values = list(zip(*columns, strict=True))
    if dialect.name == "postgresql":
        _copy(connection, table, keys, values)
        return
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=keys)
    # Both list the columns in the table's order.
    assert list(compiled.positiontup) == keys, compiled.positiontup
    connection.exec_driver_sql(compiled.string, values)


def _copy(connection: sa.Connection, table: sa.Table, keys, values) -> None:
    """PostgreSQL's COPY, through psycopg, on the connection's own transaction."""
    quote = connection.dialect.identifier_preparer
    names = ", ".join(quote.quote(key) for key in keys)
    statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    with connection.connection.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
