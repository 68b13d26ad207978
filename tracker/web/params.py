"""Numbers in URLs: path ids and query parameters, checked before any query.

A number the database cannot hold would otherwise reach it and fail there
(SQLite refuses integers past 64 bits, PostgreSQL past an id column's 32),
so every such value is checked here:
a path id out of range matches no page (404), and a query parameter that is
not a whole number in range is a 400 that names it.
"""

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination
from werkzeug.routing import IntegerConverter

from ..audit import AUDIT_FILTERS
from ..extensions import db

#: The largest id both databases store: ids are INTEGER columns, 32-bit on
#: PostgreSQL (SQLite's would go to 64 bits).
LARGEST_ID = 2**31 - 1
#: More pages than any clinic has; keeps the page's offset a small number.
LARGEST_PAGE = 1_000_000


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` in a rule: a record id from 1 to :data:`LARGEST_ID`."""

    def __init__(self, map, **kwargs):
        super().__init__(map, **{"min": 1, "max": LARGEST_ID} | kwargs)


def whole_number(name: str, largest: int, smallest: int = 1) -> int | None:
    """The query parameter ``name`` as a whole number; None if absent or blank."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    # str.isdigit() also accepts digits such as "²" that int() refuses.
    if not (text.isascii() and text.isdigit()) or not (
        smallest <= int(text) <= largest
    ):
        abort(400, f"{name!r} must be a whole number from {smallest} to {largest}.")
    return int(text)


def paginate(query, per_page: int) -> Pagination:
    """One page of ``query``, the page number read from ``?page=`` and checked."""
    page = whole_number("page", LARGEST_PAGE) or 1
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def audit_filters() -> dict[str, str]:
    """The audit trail's filters from the query string, the record id checked."""
    whole_number("record", LARGEST_ID)
    return {key: request.args.get(key, "").strip() for key in AUDIT_FILTERS}
