"""Upgrading to codes unique regardless of case: a clash is named, nothing changed."""

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL
from tracker.extensions import db

BEFORE = "3b7c2e91d0a4"

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="migrates its own SQLite file from an old revision"
)


@pytest.fixture
def old_database(sqlite_app_at):
    """An SQLite database at the revision before."""
    return sqlite_app_at(BEFORE)


def add_patients(app, *codes):
    with app.app_context(), db.engine.begin() as connection:
        for code in codes:
            connection.execute(
                sa.text(
                    "INSERT INTO patient (code, notes, created_at) "
                    "VALUES (:code, '', '2026-01-01')"
                ),
                {"code": code},
            )


def revision_and_tables(app):
    with app.app_context(), db.engine.connect() as connection:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        return revision.scalar_one(), set(sa.inspect(connection).get_table_names())


def test_clashing_codes_are_named_and_nothing_is_changed(old_database):
    add_patients(old_database, "PF-1", "pf-1", "PF-2", "KN-3", "kn-3", "Kn-3")
    before = revision_and_tables(old_database)
    result = old_database.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 1
    assert (
        "Error: 2 patient code(s) differ only by case: KN-3 / Kn-3 / kn-3; "
        "PF-1 / pf-1. Give one patient of each a new code" in result.output
    )
    assert "Traceback" not in result.output
    assert revision_and_tables(old_database) == before
    assert "form_submission" not in before[1]


def test_without_clashes_the_upgrade_keeps_the_patients(old_database):
    add_patients(old_database, "PF-1", "PF-2")
    result = old_database.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    revision, tables = revision_and_tables(old_database)
    assert revision != BEFORE and "form_submission" in tables
    with old_database.app_context(), db.engine.connect() as connection:
        codes = connection.exec_driver_sql("SELECT code FROM patient ORDER BY code")
        assert codes.scalars().all() == ["PF-1", "PF-2"]
