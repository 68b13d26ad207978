"""Error pages: a clinic user sees a plain page in the layout, never a traceback."""

import traceback

from flask import Flask, render_template, request
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
        from .extensions import db

        db.session.rollback()
        return _page(500, "The error has been logged and nothing was half-saved.")
