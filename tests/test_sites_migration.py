"""Upgrading a single clinic's database to sites: every patient at the default site."""

import flask_migrate
import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL
from tracker.extensions import db

BEFORE = "c4f1a9e2b7d3"

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="migrates its own SQLite file from an old revision"
)


@pytest.fixture
def old_database(sqlite_app_at):
    """An SQLite database at the revision before sites, with two patients."""
    app = sqlite_app_at(BEFORE)
    with app.app_context(), db.engine.begin() as connection:
        for number in (1, 2):
            connection.exec_driver_sql(
                "INSERT INTO patient (id, code, notes, created_at) "
                f"VALUES ({number}, 'PF-{number}', '', '2026-01-01')"
            )
        app.triggers_before = triggers(connection)
    return app


def test_every_existing_patient_is_at_the_main_clinic(old_database):
    with old_database.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            sites = connection.exec_driver_sql("SELECT id, name FROM site").all()
            assert sites == [(1, "Main clinic")]
            placed = connection.exec_driver_sql("SELECT site_id FROM patient")
            assert placed.scalars().all() == [1, 1]


def test_the_guards_survive_and_the_site_must_exist(old_database):
    with old_database.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert triggers(connection) == old_database.triggers_before
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            for statement in (
                "UPDATE patient SET site_id = 99",
                "UPDATE patient SET site_id = NULL",
                "DELETE FROM site",
            ):
                with pytest.raises(sa.exc.IntegrityError):
                    connection.exec_driver_sql(statement)
                connection.rollback()


def triggers(connection) -> set[str]:
    return set(
        connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars()
    )
