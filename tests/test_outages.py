"""A busy database is not an outage, and error pages come out during one."""

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions
from tracker import create_app
from tracker.extensions import db
from tracker.web.errors import database_busy

BUSY_MESSAGE = "The database is busy just now"
DEAD_SQLITE = "sqlite:////nonexistent-directory/tracker.sqlite"


def dead_app(**config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": DEAD_SQLITE,
            "WTF_CSRF_ENABLED": False,
        }
        | config
    )


@pytest.fixture
def hold_write_lock(app):
    """Make another writer hold SQLite's write lock until the test ends."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write lock")
        path = db.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    yield lambda: holder.execute("BEGIN IMMEDIATE")
    holder.close()


def assert_busy_page(response):
    assert response.status_code == 423
    assert response.headers["Retry-After"] == "5"
    assert BUSY_MESSAGE in response.text
    assert "cannot be reached" not in response.text
    assert "Traceback" not in response.text


def test_a_save_while_another_writer_holds_the_lock_asks_to_try_again(
    make_app, auth, hold_write_lock
):
    client = make_app(DATABASE_BUSY_SECONDS=0.2).test_client()
    AuthActions(client).login()
    hold_write_lock()
    response = client.post("/patients/new", data={"code": "PF-0001"})
    assert_busy_page(response)
    assert "Log out" in response.text  # still signed in, in the usual layout


def test_a_login_while_the_database_is_busy_is_not_called_an_outage(
    make_app, users, hold_write_lock
):
    client = make_app(DATABASE_BUSY_SECONDS=0.2).test_client()
    hold_write_lock()
    assert_busy_page(
        client.post("/auth/login", data={"username": "therapist", "password": "x"})
    )
    assert client.get("/auth/login").status_code == 200  # reading needs no lock


def test_saves_wait_fifteen_seconds_for_the_lock_by_default(app):
    assert app.config["DATABASE_BUSY_SECONDS"] == 15


@pytest.mark.parametrize(
    "driver_error, busy",
    [
        (psycopg.errors.LockNotAvailable(), True),
        (psycopg.errors.DeadlockDetected(), True),
        (psycopg.errors.SerializationFailure(), True),
        (psycopg.errors.UndefinedTable(), False),
        (psycopg.OperationalError("connection refused"), False),
    ],
)
def test_busy_is_told_from_other_database_errors(driver_error, busy):
    assert database_busy(sa.exc.OperationalError("x", {}, driver_error)) is busy


def test_a_wrong_url_during_an_outage_is_the_apps_404_page():
    response = dead_app().test_client().get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "<!doctype html>" in response.text.lower()


def test_a_bad_request_during_an_outage_is_the_apps_400_page():
    client = dead_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/auth/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "The form had expired" in response.text
