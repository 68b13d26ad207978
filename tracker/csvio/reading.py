"""A trial file read as CSV: its start sniffed, its header checked, its rows.

Touches nothing but the stream.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterator
from typing import IO

from .cells import strip_formula_guard
from .columns import REQUIRED_COLUMNS, TRIAL_COLUMNS
from .report import FileRefused, ImportReport, Problem

#: How much of a file is looked at before it is read as CSV at all.
SNIFF_BYTES = 64 * 1024
#: A trial file has about 40 columns; a header with more is not one.
MAX_COLUMNS = 200
#: The longest text any column takes is a note of 2,000 characters.
MAX_CELL_CHARACTERS = 10_000
#: How many unknown column names a refusal lists, each cut to a readable length.
_NAMES_SHOWN, _NAME_SHOWN_CHARACTERS = 10, 40


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
    header = next(reader, [])
    if len(header) > MAX_COLUMNS:
        raise FileRefused(
            f"The header row has {len(header):,} columns, but a trial file has at "
            f"most {len(TRIAL_COLUMNS)} (more than {MAX_COLUMNS} are refused "
            "unread), so this is not a trial file."
        )
    header = [name.strip() for name in header]
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
    counts = Counter(header)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    missing = [name for name in REQUIRED_COLUMNS if name not in counts]
    unknown = [name for name in header if name not in TRIAL_COLUMNS]
    messages = []
    if missing:
        messages.append("Missing required columns: " + ", ".join(missing) + ".")
    if unknown:
        messages.append(
            "Unknown columns: "
            + _listed(unknown)
            + ". The columns a trial file may have are listed in the data "
            "dictionary, docs/csv-format.md#data-dictionary."
        )
    if repeated:
        messages.append("Columns named twice: " + _listed(repeated) + ".")
    if messages:
        raise FileRefused(" ".join(messages))


def _listed(names: list[str]) -> str:
    """Column names for a message: the first few, each of a readable length."""
    shown = [
        name[:_NAME_SHOWN_CHARACTERS]
        + ("…" if len(name) > _NAME_SHOWN_CHARACTERS else "")
        or "(blank)"
        for name in names[:_NAMES_SHOWN]
    ]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more else "")


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
        if len(text) > MAX_CELL_CHARACTERS and _has_long_cell(
            header, cells, line, report
        ):
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


def _has_long_cell(header, cells, line: int, report: ImportReport) -> bool:
    """Refuse a row with a cell longer than any column takes; whether it had one."""
    long_cells = [
        (name, len(cell))
        for name, cell in zip(header, cells, strict=True)
        if len(cell) > MAX_CELL_CHARACTERS
    ]
    for name, length in long_cells:
        report.problems.append(
            Problem(
                line,
                name,
                f"{length:,} characters, but no column takes more than "
                f"{MAX_CELL_CHARACTERS:,}",
            )
        )
    if long_cells:
        report.refused_lines.add(line)
    return bool(long_cells)
