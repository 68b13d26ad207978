"""``/healthz``: whether the app and its database answer, for a proxy or monitor.

It needs no login and shows no data: only whether ``SELECT 1`` ran.
"""

import sqlalchemy as sa
from flask import Blueprint, current_app

from ..extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers ``SELECT 1``, 503 when it does not."""
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        current_app.logger.warning(
            "Health check: database unreachable: %s",
            type(getattr(error, "orig", error)).__name__,
        )
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


#: Reachable without a login (for the login-required machinery to exempt).
healthz.public = True
