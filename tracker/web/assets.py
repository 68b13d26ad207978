"""Static files named by their content, so a browser keeps them for a year.

Every URL of a static file (the app's and Bootstrap's) carries ``v``, a
digest of the file's bytes. A request whose ``v`` names the file as it is
now is answered with a year's cache and ``immutable``: the browser asks
nothing on later visits, and a changed file gets a new URL. Without ``v``,
or with a stale one, Flask's default applies (the browser checks back).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, request

#: A year, in seconds: the files' names change with their content.
ONE_YEAR = 365 * 24 * 3600


def register(app: Flask) -> None:
    """Add ``v`` to static URLs and the long cache to their responses."""

    @app.url_defaults
    def _add_version(endpoint: str, values: dict) -> None:
        if _is_static(endpoint) and "filename" in values and "v" not in values:
            folder = _static_folder(app, endpoint)
            if folder is not None:
                values["v"] = fingerprint(str(Path(folder) / values["filename"]))

    @app.after_request
    def _cache_named_files(response):
        endpoint = request.endpoint or ""
        version = request.args.get("v")
        if _is_static(endpoint) and version and response.status_code in (200, 304):
            folder = _static_folder(app, endpoint)
            filename = (request.view_args or {}).get("filename", "")
            if folder and version == fingerprint(str(Path(folder) / filename)):
                response.cache_control.public = True
                response.cache_control.max_age = ONE_YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response


def _is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def _static_folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return blueprint.static_folder if blueprint is not None else None


@lru_cache(maxsize=256)
def fingerprint(path: str) -> str:
    """The first 12 hex digits of the file's SHA-256 ("" if it is missing)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return ""
