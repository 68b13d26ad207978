"""Error pages: a clinic user sees a plain page in the layout, never a traceback."""

import traceback

import sqlalchemy as sa
from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "File too large",
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


def _discard_transaction() -> None:
    """Roll back what the request had begun; a lost connection is just dropped."""
    from ..extensions import db

    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        pass  # the session is removed at the end of the request anyway


def register(app: Flask) -> None:
    """Route every HTTP error and every unexpected exception to an error page."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(
            400,
            "The form had expired or did not come from this site, so nothing was "
            "saved. Go back, reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _page(error.code or 500, error.description)

    @app.errorhandler(sa.exc.DBAPIError)
    def database_error(error):
        if not database_unreachable(error):
            return server_error(error)
        # Like any error message, the driver's may quote values: log the type.
        app.logger.error(
            "Database unreachable: %s in %s %s",
            type(error.orig).__name__,
            request.method,
            request.endpoint,
        )
        _discard_transaction()
        # Nothing on this page may need the database: not the signed-in user
        # (shown as signed out, for this page only) nor the admins' settings.
        from ..extensions import login_manager
        from ..settings import ClinicSettings

        g._login_user = login_manager.anonymous_user()
        g.clinic_settings = ClinicSettings.from_config(app.config)
        try:
            response, code = _page(503, UNREACHABLE)
        except sa.exc.SQLAlchemyError:  # a page part that still needs it
            _discard_transaction()
            response, code = (
                f"<!doctype html><h1>Service unavailable</h1><p>{UNREACHABLE}",
                503,
            )
        return response, code, {"Retry-After": "60"}

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
        from ..extensions import db

        db.session.rollback()
        return _page(500, "The error has been logged and nothing was half-saved.")


def database_unreachable(error: sa.exc.DBAPIError) -> bool:
    """Whether a database error means the server is down or the link was lost.

    Such an outage passes by itself: the pool's pre-ping replaces a dead
    connection at the next checkout, so the app recovers without a restart.
    """
    return error.connection_invalidated or isinstance(
        error, (sa.exc.OperationalError, sa.exc.InterfaceError)
    )
