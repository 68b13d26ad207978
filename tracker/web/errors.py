"""Error pages: a clinic user sees a plain page in the layout, never a traceback."""

import traceback

import sqlalchemy as sa
from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from ..storage import database

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Cannot be changed",
    413: "File too large",
    423: "Busy, try again",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Service unavailable",
}


def _page(code: int, message: str):
    title = TITLES.get(code, "Error")
    return render_template(
        "errors/error.html", code=code, title=title, message=message
    ), code


UNREACHABLE = (
    "The database cannot be reached just now. Please try again in a minute; "
    "nothing you saw as saved has been lost."
)
BUSY = (
    "The database is busy just now with other saves or an import, so this "
    "was not saved. Please try again in a few seconds; nothing you saw as "
    "saved has been lost."
)
#: PostgreSQL's "try again" errors: lock not available, deadlock, serialisation.
_RETRY_SQLSTATES = {"55P03", "40P01", "40001"}


def _discard_transaction() -> None:
    """Roll back what the request had begun; a lost connection is just dropped."""
    from ..extensions import db

    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        pass  # the session is removed at the end of the request anyway


def _page_without_database(code: int, message: str):
    """The error page with nothing from the database in it.

    The signed-in user is shown as signed out, for this page only, and the
    settings are the instance config's, without the admins' edits.
    """
    from ..extensions import login_manager
    from ..settings import ClinicSettings

    _discard_transaction()
    g._login_user = login_manager.anonymous_user()
    g.clinic_settings = ClinicSettings.from_config(current_app.config)
    try:
        return _page(code, message)
    except sa.exc.SQLAlchemyError:  # a page part that still needs it
        _discard_transaction()
        title = escape(TITLES.get(code, "Error"))
        return f"<!doctype html><h1>{title}</h1><p>{escape(message)}", code


def _any_page(code: int, message: str):
    """The error page; without the database's parts should it be down too."""
    try:
        return _page(code, message)
    except sa.exc.SQLAlchemyError:
        return _page_without_database(code, message)


def register(app: Flask) -> None:
    """Route every HTTP error and every unexpected exception to an error page."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _any_page(
            400,
            "The form had expired or did not come from this site, so nothing was "
            "saved. Go back, reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _any_page(error.code or 500, error.description)

    @app.errorhandler(sa.exc.DBAPIError)
    def database_error(error):
        if database_busy(error):
            app.logger.warning(
                "Database busy: %s in %s %s",
                type(error.orig).__name__,
                request.method,
                request.endpoint,
            )
            _discard_transaction()
            database.write_intent.set(False)  # the page itself only reads
            return (*_any_page(423, BUSY), {"Retry-After": "5"})
        if not database_unreachable(error):
            return server_error(error)
        # Like any error message, the driver's may quote values: log the type.
        app.logger.error(
            "Database unreachable: %s in %s %s",
            type(error.orig).__name__,
            request.method,
            request.endpoint,
        )
        return (*_page_without_database(503, UNREACHABLE), {"Retry-After": "60"})

    @app.errorhandler(Exception)
    def server_error(error):
        # The message may quote clinical values; log where, never what.
        app.logger.error(
            "Unhandled %s in %s %s\n%s",
            type(error).__name__,
            request.method,
            request.endpoint,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        _discard_transaction()
        return _any_page(500, "The error has been logged and nothing was half-saved.")


def database_busy(error: sa.exc.DBAPIError) -> bool:
    """Whether the database is up but another writer held it too long.

    SQLite says "database is locked" once its busy timeout has passed;
    PostgreSQL has its lock, deadlock and serialisation errors. Trying again
    soon is the remedy, so these get their own page, not the outage page.
    """
    if getattr(error.orig, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
        return True
    return getattr(error.orig, "sqlstate", None) in _RETRY_SQLSTATES


def database_unreachable(error: sa.exc.DBAPIError) -> bool:
    """Whether a database error means the server is down or the link was lost.

    Such an outage passes by itself: the pool's pre-ping replaces a dead
    connection at the next checkout, so the app recovers without a restart.
    """
    return error.connection_invalidated or isinstance(
        error, (sa.exc.OperationalError, sa.exc.InterfaceError)
    )
