"""Upgrading a clinic's database to follow-up capture keeps its records and guards."""

import flask_migrate
import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL
from tracker.extensions import db

BEFORE = "f64500aa5889"

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="migrates its own SQLite file from an old revision"
)


@pytest.fixture
def old_database(sqlite_app_at):
    """An SQLite database at the revision before, with a follow-up in it."""
    app = sqlite_app_at(BEFORE)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO patient (id, code, notes, created_at) "
                "VALUES (1, 'PF-1', '', '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO trial (id, patient_id, trial_date, intervention, "
                "product, activity, activity_other, pain_without, pain_with, notes, "
                "created_at) VALUES (1, 1, '2026-01-01', 'insole', '', 'squat', '', "
                "6, 2, '', '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO follow_up (id, trial_id, follow_up_date, pain, "
                "still_using, global_rating, created_at) VALUES "
                "(1, 1, '2026-03-26', 1, 1, 'markedly_improved', '2026-03-26')"
            )
            app.triggers_before = triggers(connection)
    assert len(app.triggers_before) > 6
    return app


def test_existing_follow_ups_become_clinic_follow_ups(old_database):
    with old_database.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            source = connection.exec_driver_sql("SELECT source FROM follow_up")
            assert source.scalar_one() == "clinic"
            lost = connection.exec_driver_sql("SELECT lost_at FROM trial")
            assert lost.scalar_one() is None


def test_the_guards_survive_the_upgrade_and_the_source_is_checked(old_database):
    with old_database.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            for statement in (
                "DELETE FROM follow_up",
                "REPLACE INTO follow_up (id, trial_id, follow_up_date, pain, "
                "still_using, global_rating, created_at, source) VALUES "
                "(1, 1, '2026-03-26', 9, 0, 'same', '2026-03-26', 'clinic')",
                "UPDATE follow_up SET source = 'robot'",
            ):
                with pytest.raises(sa.exc.DatabaseError):
                    connection.exec_driver_sql(statement)
                connection.rollback()
            assert triggers(connection) == old_database.triggers_before


def triggers(connection) -> set[str]:
    return set(
        connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars()
    )
