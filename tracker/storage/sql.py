"""SQL expressions that SQLite and PostgreSQL spell differently."""

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Integer, String


class days_between(FunctionElement):
    """Whole days from the second date to the first: ``days_between(later, first)``."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({later} - {earlier})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


class utc_text(FunctionElement):
    """A timestamp as text, UTC to the second: ``2026-01-31T09:15:00Z``; NULL as "".

    Written by the database, which formats faster than Python can turn each
    value into a datetime and back (a fifth of an export's time).
    """

    type = String()
    inherit_cache = True


@compiles(utc_text, "postgresql")
def _utc_text_postgresql(element, compiler, **kw):
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return (
        f"coalesce(to_char(timezone('UTC', {value}), "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
    )


@compiles(utc_text, "sqlite")
def _utc_text_sqlite(element, compiler, **kw):
    # SQLite stores the app's times in UTC already.
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', {value}), '')"
