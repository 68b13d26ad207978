"""Orthotic trial outcome tracker: the Flask application."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, redirect, request, url_for

from .extensions import bootstrap, csrf, db, login_manager, migrate
from .settings import DEFAULTS, ClinicSettings
from .storage import database
from .web import serving

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(test_config=None):
    """Create and configure the app; ``test_config`` replaces the instance config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///"
        + os.path.join(app.instance_path, "tracker.sqlite"),
        # Parameters stay out of error messages and logs: they hold clinical data.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "hide_parameters": True},
        BOOTSTRAP_SERVE_LOCAL=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The idle time-out (a clinic setting) usually ends a session first.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        # How long a save waits for SQLite's write lock (see docs/deployment.md).
        DATABASE_BUSY_SECONDS=15,
        # The address patients' report links start with (docs/deployment.md);
        # empty: the address the sheet was opened at.
        PUBLIC_URL="",
        **DEFAULTS,
    )
    if test_config is None:
        os.makedirs(app.instance_path, exist_ok=True)
        _ensure_instance_config(Path(app.instance_path) / "config.py")
        app.config.from_pyfile("config.py")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(
                os.environ["DATABASE_URL"]
            )
        if os.environ.get("PUBLIC_URL"):
            app.config["PUBLIC_URL"] = os.environ["PUBLIC_URL"]
        if os.environ.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        if os.environ.get("TRACKER_BEHIND_HTTPS"):
            app.config["BEHIND_HTTPS"] = serving.behind_https(
                os.environ["TRACKER_BEHIND_HTTPS"]
            )
    else:
        app.config.from_mapping(test_config)
    serving.configure(app)  # HTTPS switch, cookie flags, database timeout
    database.create_private_sqlite_file(
        app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path
    )
    ClinicSettings.from_config(app.config)  # refuse to start on a bad setting

    app.jinja_env.add_extension("jinja2.ext.do")
    register_extensions(app)
    register_template_context(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)

    if test_config is None:
        from .storage.schema import upgrade_embedded_database

        upgrade_embedded_database(app)
    return app


def database_uri(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _ensure_instance_config(path: Path) -> None:
    """Write a config with a random secret key on first start.

    The file is written aside and linked into place, so server workers that
    start together never read it half-written and all get the same key.
    """
    if path.exists():
        return
    draft = path.with_name(f".config.py.{os.getpid()}.tmp")
    os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    draft.write_text(
        "# Written on first start; keep this file private and out of version control.\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        "# Clinic settings (see docs/settings-and-rule.md):\n"
        + "".join(f"# {name} = {value!r}\n" for name, value in DEFAULTS.items())
    )
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another worker was first: its key is the one in use
    finally:
        draft.unlink()


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""

    # First of all hooks: loading the user already opens a transaction, and a
    # write request's must begin IMMEDIATE or SQLite may refuse it mid-way.
    @app.before_request
    def _declare_write_intent():
        database.write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    from . import audit  # noqa: F401  (session events)
    from .web import access, assets, logs, security

    access.register(app)
    assets.register(app)
    security.register(app)
    logs.register()


def register_template_context(app: Flask) -> None:
    """Labels and settings every page may show."""
    from datetime import timedelta

    from .labels import (
        ACTIVITIES,
        FOLLOW_UP_SOURCES,
        FOLLOW_UP_STATUSES,
        INTERVENTIONS,
        RATING_LABELS,
        RELIEF_CRITERION_LABELS,
    )
    from .settings import clinic_settings

    @app.context_processor
    def clinic_context():
        settings = clinic_settings()
        return {
            "settings": settings,
            "interventions": INTERVENTIONS,
            "activities": ACTIVITIES,
            "ratings": RATING_LABELS,
            "criteria": RELIEF_CRITERION_LABELS,
            "follow_up_sources": FOLLOW_UP_SOURCES,
            "follow_up_statuses": FOLLOW_UP_STATUSES,
            "due_delta": timedelta(weeks=settings.follow_up_due_weeks),
        }


def register_blueprints(app: Flask) -> None:
    """One blueprint per area of the clinic's work."""
    from .web.params import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter
    from .admin.views import bp as admin
    from .auth.views import bp as auth
    from .dashboard.views import bp as dashboard
    from .exports.views import bp as exports
    from .patient_reports.views import bp as patient_reports
    from .patients.views import bp as patients
    from .sites.views import bp as sites
    from .trials.views import bp as trials
    from .web.access import requires

    for blueprint in (
        auth,
        admin,
        sites,
        patients,
        trials,
        patient_reports,
        dashboard,
        exports,
    ):
        app.register_blueprint(blueprint)

    @app.get("/")
    @requires("read")
    def index():
        """The patient list is the therapist's home page."""
        return redirect(url_for("patients.index"))

    from .web.health import bp as health

    app.register_blueprint(health)


def register_errorhandlers(app: Flask) -> None:
    """Plain error pages in the clinic's layout, never a traceback."""
    from .web import errors

    errors.register(app)


def register_commands(app: Flask) -> None:
    """The ``flask --app tracker ...`` commands."""
    from . import cli

    cli.register(app)
