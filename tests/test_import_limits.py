"""Hostile trial files: huge headers, huge cells, formulas behind invisible text."""

import io

import pytest

from tests.test_imports import HEADER, run_import, trial_file
from tracker.csvio import formula_guard, import_trials, strip_formula_guard
from tracker.csvio.columns import TRIAL_COLUMNS
from tracker.csvio.reading import MAX_COLUMNS
from tracker.extensions import db
from tracker.models import User


@pytest.fixture(autouse=True)
def accounts(users):
    return users


def imported(app, text: str):
    """The report of a dry-run import of ``text``, checked in this process."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "therapist"))
        return import_trials(io.BytesIO(text.encode()), "t.csv", user, dry_run=True)


def test_a_header_of_many_columns_is_refused_before_anything_else(app):
    # A quoted line break early on: the first line is not one 64 KB line.
    header = '"a\nb",' + ",".join(f"c{number}" for number in range(119_999))
    report = imported(app, header + "\r\n")
    assert [str(problem) for problem in report.problems] == [
        f"The header row has 120,000 columns, but a trial file has at most "
        f"{len(TRIAL_COLUMNS)} (more than {MAX_COLUMNS} are refused unread), "
        "so this is not a trial file."
    ]
    assert report.rows == 0


def test_just_under_the_column_limit_is_checked_and_named_briefly(app):
    names = [f"extra_column_with_a_very_long_name_{n:03d}" for n in range(190)]
    report = imported(app, f"{HEADER},{','.join(names)}\r\n")
    (problem,) = report.problems
    assert "Unknown columns: extra_column_with_a_very_long_name_000" in str(problem)
    assert "and 180 more" in str(problem)
    assert len(str(problem)) < 1000


def test_a_column_named_many_times_is_listed_once(app):
    report = imported(app, HEADER + ",notes" * 150 + "\r\n")
    (problem,) = report.problems
    assert "Columns named twice: notes." in str(problem)


def test_a_cell_longer_than_any_column_takes_is_refused_by_line_and_column(
    app, runner, tmp_path
):
    row = "PF-0001,2025-01-06,insole,single_leg_squat,6,3"
    long_row = "PF-0002,2025-01-06,insole,single_leg_squat,6,3," + "x" * 20_000
    text = trial_file(row + ",", long_row, header=HEADER + ",notes")
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 1
    assert "line 3, column notes: 20,000 characters, but no column takes more than" in (
        result.output
    )


@pytest.mark.parametrize(
    "text",
    [
        " =1+1",
        "\u00a0=1+1",
        "\u200b=HYPERLINK(1)",
        "\n=1+1",
        "\r\n+41",
        "\uff1d1+1",
        "\uff0b1",
        "\u3000@SUM(1)",
        "  \u00a0 -3",
        "'\u00a0=already guarded",
    ],
)
def test_formulas_behind_invisible_characters_are_guarded_and_come_back(text):
    guarded = formula_guard(text)
    assert guarded == "'" + text
    assert strip_formula_guard(guarded) == text


@pytest.mark.parametrize("text", [" plain", "\u00a0PF-1", "a=b", "x\n=y", ""])
def test_texts_that_only_look_close_are_left_alone(text):
    assert formula_guard(text) == text
