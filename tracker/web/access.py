"""Who may do what: every view declares a permission or is public.

The check runs before every request, so a view that forgot to declare one is
refused to everybody rather than open to anybody.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, abort, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from ..extensions import login_manager
from ..sites import scope

PERMISSIONS = {
    "read": {"therapist", "reviewer", "admin"},
    "record": {"therapist", "admin"},
    "review": {"reviewer", "admin"},
    "administer": {"admin"},
}
#: Blueprints that serve only static files.
STATIC_ENDPOINTS = {"static", "bootstrap.static"}


def requires(permission: str) -> Callable:
    """Mark a view as needing ``permission`` (see :data:`PERMISSIONS`)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def mark(view):
        view.required_permission = permission
        return view

    return mark


def public(view):
    """Mark a view as open without a login (login, first-run setup, health)."""
    view.public = True
    return view


def open_while_enrolling(view):
    """Mark a view as open to a user the clinic still requires to enrol a
    second factor (enrolment itself, logging out)."""
    view.open_while_enrolling = True
    return view


def can(permission: str) -> bool:
    """Whether the current user holds ``permission``."""
    return (
        current_user.is_authenticated and current_user.role in PERMISSIONS[permission]
    )


def register(app: Flask) -> None:
    """Guard every request: login, session age and idle time, then permission."""

    @app.before_request
    def check_access():
        if request.endpoint is None or request.endpoint in STATIC_ENDPOINTS:
            return None
        view = app.view_functions[request.endpoint]
        if getattr(view, "public", False):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        scope.limit_to(current_user)
        too_old = _logged_in_too_long()
        if too_old:
            return _logged_out(too_old)
        if _idle_too_long():
            return _logged_out("You were logged out after a period without activity.")
        if _must_enrol() and not getattr(view, "open_while_enrolling", False):
            flash("The clinic requires two-factor sign-in: set it up first.", "info")
            return redirect(url_for("auth.two_factor_page"))
        permission = getattr(view, "required_permission", None)
        if permission is None or not can(permission):
            abort(403, "Your role does not allow this page.")
        return None

    app.jinja_env.globals["can"] = can


def _logged_out(message: str):
    """End the session and send the user to log in, with ``message``."""
    logout_user()
    session.clear()
    flash(message, "info")
    return redirect(url_for("auth.login", next=request.full_path))


def _logged_in_too_long() -> str | None:
    """Why the session is past its absolute lifetime, however active; else None.

    A session without a login time began before the time was recorded.
    """
    from ..settings import clinic_settings

    hours = clinic_settings().session_absolute_hours
    logged_in_at = session.get("logged_in_at")
    if isinstance(logged_in_at, int | float) and (
        datetime.now(UTC).timestamp() - logged_in_at <= hours * 3600
    ):
        return None
    return f"Your session reached its {hours}-hour limit. Please log in again."


def _must_enrol() -> bool:
    """Whether the clinic requires a second factor the user has not set up."""
    from ..auth.two_factor import required_for
    from ..settings import clinic_settings

    return current_user.totp_secret is None and required_for(
        current_user, clinic_settings().two_factor_required
    )


def _idle_too_long() -> bool:
    from ..settings import clinic_settings

    now = datetime.now(UTC).timestamp()
    last_seen = session.get("last_seen", now)
    session["last_seen"] = now
    return now - last_seen > clinic_settings().session_idle_minutes * 60
