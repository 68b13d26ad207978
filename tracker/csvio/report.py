"""What an import found: problems, duplicates, the counts, a refused file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """Something wrong with the file or one of its cells."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Duplicate:
    """A row that matches a trial already recorded, so it was skipped."""

    line: int
    same_as: str
    #: Whether the row also gave a follow-up, which is skipped with it.
    with_follow_up: bool = False

    def __str__(self) -> str:
        skipped = "skipped with its follow-up (record it on the trial's page)"
        if not self.with_follow_up:
            skipped = "skipped"
        return f"line {self.line}: same trial as {self.same_as}; {skipped}"


@dataclass
class ImportReport:
    """What an import read, accepted, skipped and refused."""

    filename: str
    dry_run: bool = False
    rows: int = 0
    accepted: int = 0
    new_patients: int = 0
    follow_ups: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused_lines: set[int] = field(default_factory=set)
    written: bool = False

    @property
    def refused(self) -> int:
        """Rows with at least one problem."""
        return len(self.refused_lines)

    @property
    def ok(self) -> bool:
        """Whether every row passed (so a real import writes them)."""
        return not self.problems

    def counts(self) -> dict:
        """The figures, as the audit row and the pages give them."""
        return {
            "file": self.filename,
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": len(self.duplicates),
            "refused": self.refused,
            "new_patients": self.new_patients,
            "follow_ups": self.follow_ups,
        }


class FileRefused(Exception):
    """The file as a whole cannot be read as a trial file (from ``line`` on)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message, line)
        self.line = line

    def __str__(self) -> str:
        return self.args[0]
