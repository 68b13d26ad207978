"""Cells as the files hold them: the formula guard and small formatters.

Text cells that a spreadsheet would run as a formula get a leading ``'``
(CWE-1236); the import takes it off again, so a file survives the round trip.
"""

from __future__ import annotations

import re
from datetime import date

#: A cell starting with one of these is run as a formula by some spreadsheet,
#: the full-width forms too (spreadsheets fold them for East Asian input).
FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20"
#: Invisible characters a spreadsheet skips before a formula: Unicode white
#: space (space, no-break space, line breaks) and zero-width characters.
_SKIPPED = r"\s\u200b-\u200d\u2060\ufeff"
# Also guarded: a tab, CR or NUL first. Apostrophes already leading a
# dangerous text are guarded too, so that stripping one guard on import
# always gives back the original text.
_DANGER = rf"(?:[\t\r\0]|[{_SKIPPED}]*[{FORMULA_STARTS}])"
_NEEDS_GUARD = re.compile(rf"'*{_DANGER}")
_GUARDED = re.compile(rf"'+{_DANGER}")
#: Every character a text in need of the guard can start with.
_FIRST = frozenset("'\t\r\0\u200b\u200c\u200d\u2060\ufeff" + FORMULA_STARTS) | {
    chr(code) for code in range(0x3001) if chr(code).isspace()
}


def formula_guard(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a leading ``'`` if needed.

    >>> formula_guard('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> formula_guard("PF-0042")
    'PF-0042'
    """
    if text and text[0] in _FIRST and _NEEDS_GUARD.match(text):
        return "'" + text
    return text


def strip_formula_guard(text: str) -> str:
    """The text :func:`formula_guard` was given (other texts are unchanged)."""
    if text[:1] == "'" and _GUARDED.match(text):
        return text[1:]
    return text


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


def _weeks(later: date, earlier: date) -> str:
    return f"{(later - earlier).days / 7:.1f}"
