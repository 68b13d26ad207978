"""Serving a clinic group: /healthz, database outages, the HTTPS switch."""

import os
import uuid

import pytest
import sqlalchemy as sa
from flask import request

from tests.helpers import PASSWORD
from tracker import _ensure_instance_config, create_app
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import User
from tracker.storage.schema import upgrade_database
from tracker.web import serving

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
OUTAGE_MESSAGE = "The database cannot be reached just now."

#: Nothing listens on port 1; a directory that does not exist holds no database.
DEAD_DATABASES = [
    "postgresql+psycopg://postgres@127.0.0.1:1/tracker",
    "sqlite:////nonexistent-directory/tracker.sqlite",
]


def app_on(database_url, **config):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
        }
        | config
    )


def log_in(client, username="therapist"):
    response = client.post(
        "/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302


def assert_outage_page(response):
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "60"
    assert OUTAGE_MESSAGE in response.text
    assert "nothing you saw as saved has been lost" in response.text
    assert "Traceback" not in response.text
    assert "OperationalError" not in response.text


def test_healthz_needs_no_login_and_shows_no_data(app, client, records):
    records.trial()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert app.view_functions["health.healthz"].public is True


@pytest.mark.parametrize("database_url", DEAD_DATABASES)
def test_unreachable_database_gives_503_not_a_traceback(database_url):
    client = app_on(database_url).test_client()

    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}

    assert_outage_page(client.get("/auth/login"))
    assert_outage_page(
        client.post("/auth/login", data={"username": "ada", "password": PASSWORD})
    )


def test_signed_in_user_gets_503_then_carries_on_when_the_database_is_back(
    tmp_path,
):
    directory = tmp_path / "db"
    directory.mkdir()
    app = app_on(f"sqlite:///{directory / 'tracker.sqlite'}")
    with app.app_context():
        upgrade_database()
        password_hash = hash_password(PASSWORD)
        db.session.add(
            User(username="therapist", role="therapist", password_hash=password_hash)
        )
        db.session.commit()
    client = app.test_client()
    log_in(client)
    assert client.get("/patients/").status_code == 200

    with app.app_context():
        db.engine.dispose()
    directory.rename(tmp_path / "gone")  # the database cannot be opened
    response = client.get("/patients/")
    assert_outage_page(response)
    assert "Back to the patient list" in response.text  # the usual layout
    assert_outage_page(client.post("/patients/new", data={"code": "PF-0001"}))
    assert client.get("/healthz").status_code == 503

    (tmp_path / "gone").rename(directory)
    assert client.get("/healthz").status_code == 200
    assert client.get("/patients/").status_code == 200  # still signed in
    with app.app_context():
        db.engine.dispose()


def test_outage_page_falls_back_to_plain_html(app, client, monkeypatch):
    """Should the page itself still need the database, a plain page is sent."""
    from tracker.web import errors

    def unreachable(*args):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("gone"))

    monkeypatch.setattr(errors, "_page", unreachable)
    monkeypatch.setattr("tracker.auth.views.no_users_yet", unreachable)
    assert_outage_page(client.get("/auth/login"))


def test_outage_is_logged_by_type_and_place_only(auth, client, monkeypatch, caplog):
    from tracker.patients import views

    code = "-".join(["PF", "0042"])

    class DriverError(Exception):
        pass

    def lost(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, DriverError(f"lost at {code}"))

    auth.login()
    monkeypatch.setattr(views, "render_template", lost)
    assert_outage_page(client.get("/patients/"))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Database unreachable: DriverError in GET patients.index" in logged
    assert code not in logged


def test_other_database_errors_stay_500(auth, client, monkeypatch):
    """A bad statement is a bug, not an outage: the usual error page."""
    from tracker.patients import views

    def broken(*args, **kwargs):
        raise sa.exc.ProgrammingError("SELECT", {}, Exception("syntax error"))

    auth.login()
    monkeypatch.setattr(views, "render_template", broken)
    response = client.get("/patients/")
    assert response.status_code == 500
    assert OUTAGE_MESSAGE not in response.text


@pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="needs TEST_DATABASE_URL on PostgreSQL",
)
def test_app_recovers_when_postgresql_drops_its_connections(database_url, users):
    """What a server restart does to the pool: every connection is cut."""
    name = f"tracker-test-{uuid.uuid4().hex[:12]}"
    url = sa.make_url(database_url).update_query_dict({"application_name": name})
    app = app_on(url.render_as_string(hide_password=False))
    client = app.test_client()
    log_in(client)
    assert client.get("/patients/").status_code == 200

    admin = sa.create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        terminated = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": name},
        ).all()
    admin.dispose()
    assert terminated and all(ok for (ok,) in terminated)

    assert client.get("/patients/").status_code == 200
    assert client.get("/healthz").status_code == 200
    response = client.post("/patients/new", data={"code": "PF-0042"})
    assert response.status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_postgresql_connections_time_out_quickly():
    app = app_on("postgresql+psycopg://postgres@127.0.0.1:1/tracker")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"connect_timeout": serving.CONNECT_TIMEOUT}
    assert options["pool_pre_ping"] is True


def add_probe(app):
    """A page that shows how the app sees the request (test-only)."""

    @app.get("/probe")
    def probe():
        return {
            "scheme": request.scheme,
            "host": request.host,
            "remote_addr": request.remote_addr,
        }

    probe.public = True


PROXY_HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "tracker.clinic.example",
    "X-Forwarded-For": "203.0.113.7",
}


def test_behind_https_secures_cookies_and_trusts_the_proxy(make_app, users):
    app = make_app(BEHIND_HTTPS=True, WTF_CSRF_ENABLED=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    add_probe(app)
    client = app.test_client()

    assert client.get("/probe", headers=PROXY_HEADERS).get_json() == {
        "scheme": "https",
        "host": "tracker.clinic.example",
        "remote_addr": "203.0.113.7",
    }
    # The login form's CSRF token is kept in the session, which sets its cookie.
    response = client.get("/auth/login", headers=PROXY_HEADERS)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_without_the_switch_cookies_are_not_secure_and_proxies_not_trusted(
    make_app, users
):
    app = make_app(WTF_CSRF_ENABLED=True)
    add_probe(app)
    client = app.test_client()

    seen = client.get("/probe", headers=PROXY_HEADERS).get_json()
    assert seen["scheme"] == "http"
    assert seen["remote_addr"] != "203.0.113.7"
    response = client.get("/auth/login")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("", False),
    ],
)
def test_behind_https_environment_values(value, expected):
    assert serving.behind_https(value) is expected


def test_instance_config_is_written_once_and_whole(tmp_path):
    path = tmp_path / "config.py"
    _ensure_instance_config(path)
    first = path.read_text()
    assert "SECRET_KEY = " in first
    assert path.stat().st_mode & 0o777 == 0o600
    _ensure_instance_config(path)
    assert path.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["config.py"]


def test_a_worker_starting_at_the_same_moment_keeps_the_first_key(
    tmp_path, monkeypatch
):
    """Two workers on a fresh instance: the slower one must not replace the key."""
    path = tmp_path / "config.py"
    link = os.link

    def other_worker_first(source, target):
        path.write_text("SECRET_KEY = 'the first worker's'\n")
        link(source, target)

    monkeypatch.setattr(os, "link", other_worker_first)
    _ensure_instance_config(path)
    assert path.read_text() == "SECRET_KEY = 'the first worker's'\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.py"]
