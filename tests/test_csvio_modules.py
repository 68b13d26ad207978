"""The csvio package: the checking side of an import stands without the database."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from flask import Flask

from tracker.extensions import db

#: What ``import tracker`` and the forms the rows are checked with load
#: already: the tracker package itself imports ``tracker.extensions`` (the
#: unbound ``SQLAlchemy`` object) and ``tracker.storage.database`` (engine
#: event hooks), and the forms import ``tracker.models``, so no module of
#: the package can be imported without those three.
BASELINE = "import tracker.patients.forms, tracker.trials.forms"

#: The modules that query or write, in the app and in csvio: none of them
#: may come in with the checking side.
DATABASE_SIDE = (
    "tracker.audit",
    "tracker.storage.bulk",
    "tracker.csvio.streaming",
    "tracker.csvio.trials",
    "tracker.csvio.follow_ups",
    "tracker.csvio.audit_trail",
    "tracker.csvio.matching",
    "tracker.csvio.inserting",
    "tracker.csvio.importing",
)
#: What the checking side may add to the baseline: plain values and forms.
CHECKING_SIDE = {
    "tracker.csvio",
    "tracker.csvio.cells",
    "tracker.csvio.columns",
    "tracker.csvio.report",
    "tracker.csvio.formcheck",
    "tracker.csvio.reading",
    "tracker.csvio.checking",
}

ADDED_BY = """
import json, sys
{baseline}
before = set(sys.modules)
{imports}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def added_by(imports: str) -> set[str]:
    """The modules a fresh interpreter loads for ``imports`` after the baseline."""
    done = subprocess.run(
        [sys.executable, "-c", ADDED_BY.format(baseline=BASELINE, imports=imports)],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_the_checking_side_imports_no_database_module():
    """Reading and checking a file import no module that queries or writes.

    The criterion: in a fresh interpreter that has imported ``tracker`` and
    the patient and trial forms, importing ``tracker.csvio.reading`` and
    ``tracker.csvio.checking`` adds only csvio's plain modules (columns,
    cells, report, formcheck, reading, checking) and nothing from
    SQLAlchemy: none of the modules that open a connection or session
    (``tracker.audit``, ``tracker.storage.bulk``, csvio's exports and its
    matching, inserting and importing). ``tracker.extensions``,
    ``tracker.storage.database`` and ``tracker.models`` cannot be left out,
    as ``import tracker`` and the forms bring them; the test below shows that
    the checking does not use them.
    """
    added = added_by("import tracker.csvio.reading, tracker.csvio.checking")
    assert not added & set(DATABASE_SIDE)
    assert {name for name in added if name.startswith("tracker.")} <= CHECKING_SIDE
    assert not [name for name in added if name.startswith("sqlalchemy")]


def test_the_import_side_does_bring_the_database_modules():
    """The check above can fail: the import proper needs what it leaves out."""
    added = added_by("from tracker.csvio import import_trials")
    assert {"tracker.audit", "tracker.storage.bulk", "tracker.csvio.importing"} <= (
        added
    )


def test_rows_are_read_and_checked_where_there_is_no_database():
    """With an app the database extension was never set up for, rows still check."""
    from tracker.csvio.checking import _RowChecker
    from tracker.csvio.reading import _data_rows, _read_header, _sniff
    from tracker.csvio.report import ImportReport

    text = (
        "patient_code,trial_date,intervention,activity,pain_without,pain_with\r\n"
        "PF-1,2024-01-05,insole,squat,6,3\r\n"
        "PF-2,2024-01-05,insole,hopping,6,3\r\n"
        "PF-3,2024-01-05,insole,squat,6\r\n"
    )
    stream = io.BytesIO(text.encode())
    with Flask("no-database").app_context():
        try:
            db.session.connection()
        except RuntimeError as error:
            assert "not registered with this 'SQLAlchemy' instance" in str(error)
        else:
            raise AssertionError("the database should be out of reach here")
        _sniff(stream)
        reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
        report = ImportReport("clinic.csv")
        checker = _RowChecker()
        checked = {}
        for line, values in _data_rows(_read_header(reader), reader, report):
            problems = []
            checked[line] = (checker.check(line, values, problems), problems)
    patient, trial, follow_up = checked[2][0]
    assert (patient["code"], trial["activity"], follow_up) == ("PF-1", "squat", None)
    assert checked[3][0] is None
    assert [problem.column for problem in checked[3][1]] == ["activity"]
    assert [str(problem) for problem in report.problems] == [
        "line 4: 5 cells, but the header has 6 columns"
    ]
