"""Serving a clinic group: HTTPS behind a reverse proxy, cookies, timeouts."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

#: Seconds to wait for a PostgreSQL server before a request gets the outage page.
CONNECT_TIMEOUT = 5


def behind_https(value: str) -> bool:
    """Read the ``TRACKER_BEHIND_HTTPS`` environment variable: 1/true/yes/on."""
    return value.strip().lower() in ("1", "true", "yes", "on")


def configure(app: Flask) -> None:
    """Apply the serving settings to a configured app, before its extensions bind."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("BEHIND_HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
        # Trust one proxy's X-Forwarded-For, -Proto and -Host headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("postgresql"):
        # Fail fast when the server is down rather than hang a worker.
        _connect_args(app, connect_timeout=CONNECT_TIMEOUT)
    elif uri.startswith("sqlite"):
        # A save waits this long for another writer (an import, say) before
        # the user is asked to try again.
        _connect_args(app, timeout=app.config["DATABASE_BUSY_SECONDS"])


def _connect_args(app: Flask, **defaults) -> None:
    """Give the database driver these arguments unless the config gives its own."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = defaults | options.get("connect_args", {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
