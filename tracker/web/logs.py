"""Keeping report-link tokens out of server logs.

A patient's link works like a password until it is used, and its token is in
the URL: the request line that werkzeug's development server and gunicorn's
access log write would hold it. A filter on their loggers blanks the token
in every message and argument before any handler sees it. (A reverse proxy
keeps logs of its own: docs/deployment.md says how to keep the token out.)
"""

from __future__ import annotations

import logging
import re

#: A report link's path, up to the end of its token.
TOKEN_IN_PATH = re.compile(r"(/r/)(?!thanks\b)[^\s\"'?#/]+")
REDACTED = r"\1[token hidden]"
#: The loggers that write request lines or URLs.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    """``text`` with any report-link token replaced."""
    return TOKEN_IN_PATH.sub(REDACTED, text)


class HideReportTokens(logging.Filter):
    """Blank report-link tokens in a record's message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            # gunicorn's access log passes its atoms as one mapping of its own
            # class (it answers header lookups): change it in place.
            for key, value in record.args.items():
                record.args[key] = _redacted(value)
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        return True


def _redacted(value):
    return redact(value) if isinstance(value, str) else value


def register() -> None:
    """Install the filter on the request loggers once per process."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideReportTokens) for f in logger.filters):
            logger.addFilter(HideReportTokens())
