"""Fixtures: a fresh app and database for every test, on SQLite or PostgreSQL.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/tracker_test)
to run the suite on PostgreSQL; each test then gets a schema of its own,
migrated by that URL's user, the owner of the tables, while the app connects
as a role of its own that cannot delete or truncate (TEST_APP_DATABASE_URL;
see tests/databases.py).
"""

import os
import shutil
import subprocess
from datetime import date, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from tests import databases
from tests.helpers import PASSWORD
from tracker import create_app
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import DEFAULT_SITE_ID, FollowUp, Patient, Site, Trial, User
from tracker.storage.schema import upgrade_database

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory):
    """An SQLite database migrated once per run, for each test to copy.

    Migrating took about a third of a second per test, a fifth of the suite.
    """
    path = tmp_path_factory.mktemp("template") / "tracker.sqlite"
    template = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        }
    )
    with template.app_context():
        upgrade_database()
        db.engine.dispose()  # the last connection folds the WAL into the file
    return path


@pytest.fixture
def database_url(tmp_path, request):
    """A new database for one test, migrated.

    On SQLite a copy of :func:`migrated_sqlite_file` (its mode, 0600, too);
    on PostgreSQL a new schema, migrated by the owner of its tables, and the
    URL is the app's role's (see tests/databases.py).
    """
    if not TEST_DATABASE_URL:
        path = tmp_path / "tracker.sqlite"
        shutil.copy(request.getfixturevalue("migrated_sqlite_file"), path)
        yield f"sqlite:///{path}"
        return
    yield request.getfixturevalue("postgresql_schema").app_url


@pytest.fixture
def postgresql_schema():
    """The test's PostgreSQL schema: the app's role's URL and the owner's."""
    with databases.postgresql_schema() as schema:
        yield schema


@pytest.fixture
def owner_database_url(database_url, request):
    """The test's database as the owner of its tables, who runs the migrations.

    On SQLite the same file: a database that is one file has one user.
    """
    if not TEST_DATABASE_URL:
        return database_url
    return request.getfixturevalue("postgresql_schema").owner_url


@pytest.fixture
def app(database_url):
    """The app on a freshly migrated database."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade_database()
    yield app
    with app.app_context():
        db.engine.dispose()


ROLES = ("therapist", "reviewer", "admin")


@pytest.fixture
def sqlite_app_at(tmp_path):
    """An app on a new SQLite file migrated up to a given revision only:
    ``sqlite_app_at("3b7c2e91d0a4")``, for the tests of a later migration."""
    made = []

    def at(revision: str):
        old = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
            }
        )
        with old.app_context():
            flask_migrate.upgrade(revision=revision)
        made.append(old)
        return old

    yield at
    for old in made:
        with old.app_context():
            db.engine.dispose()


@pytest.fixture
def make_app(database_url):
    """More apps on the test's database, as other server workers would be."""
    made = []

    def make(**config):
        other = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "WTF_CSRF_ENABLED": False,
            }
            | config
        )
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    """A browser, not logged in until a test says so (see ``auth``)."""
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash():
    """:data:`PASSWORD`'s Argon2 hash, made once: each hash takes tens of ms."""
    return hash_password(PASSWORD)


@pytest.fixture
def users(app, password_hash):
    """One account per role, named after it, all with :data:`PASSWORD`."""
    with app.app_context():
        for role in ROLES:
            db.session.add(
                User(
                    username=role,
                    role=role,
                    password_hash=password_hash,
                    sites=[db.session.get(Site, DEFAULT_SITE_ID)],
                )
            )
        db.session.commit()
    return ROLES


class AuthActions:
    """Log the test client in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, username="therapist", password=PASSWORD):
        return self._client.post(
            "/auth/login", data={"username": username, "password": password}
        )

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client, users):
    """Log ``client`` in as a role's user: ``auth.login("reviewer")``."""
    return AuthActions(client)


@pytest.fixture
def runner(app):
    """The ``flask`` command line of the test app."""
    return app.test_cli_runner()


class Records:
    """Builders for records a test needs in place: ``records.trial(pain_with=2)``."""

    def __init__(self, app):
        self.app = app
        self._codes = 0

    def patient(self, **overrides) -> int:
        self._codes += 1
        values = {"code": f"PF-{self._codes:04d}"} | overrides
        return self._add(Patient(**values))

    def trial(self, patient_id: int | None = None, **overrides) -> int:
        if patient_id is None:
            patient_id = self.patient()
        values = {
            "patient_id": patient_id,
            "trial_date": date.today() - timedelta(weeks=13),
            "intervention": "insole",
            "activity": "single_leg_squat",
            "pain_without": 6,
            "pain_with": 3,
        } | overrides
        return self._add(Trial(**values))

    def follow_up(self, trial_id: int, weeks: float = 12, **overrides) -> int:
        with self.app.app_context():
            trial_date = db.session.get(Trial, trial_id).trial_date
        values = {
            "trial_id": trial_id,
            "follow_up_date": trial_date + timedelta(weeks=weeks),
            "pain": 2,
            "still_using": True,
            "global_rating": "markedly_improved",
        } | overrides
        return self._add(FollowUp(**values))

    def count(self, model) -> int:
        """How many rows a table holds."""
        with self.app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    def _add(self, record) -> int:
        with self.app.app_context():
            db.session.add(record)
            db.session.commit()
            return record.id


@pytest.fixture
def records(app):
    """Add patients, trials and follow-ups directly, for tests that need them."""
    return Records(app)


@pytest.fixture
def small_disk(tmp_path, request):
    """A file system of 32 KiB (or ``request.param`` KiB); skipped without mount."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        [
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={getattr(request, 'param', 32)}k",
            "tmpfs",
            str(mount_point),
        ],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)
