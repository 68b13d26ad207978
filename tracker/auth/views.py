"""Logging in and out, the first-run setup, and changing one's password."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from .. import audit
from ..extensions import db, login_manager
from ..models import User
from ..web.access import public, requires
from . import throttle
from .forms import LoginForm, PasswordChangeForm, SetupForm
from .passwords import (
    check_outside_transaction,
    hash_outside_transaction,
    hash_password,
    needs_rehash,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The active user whose current session generation this is."""
    return db.session.scalar(
        sa.select(User).where(User.session_token == session_token, User.active)
    )


def no_users_yet() -> bool:
    """Whether the clinic still needs its first administrator."""
    return db.session.scalar(sa.select(User.id).limit(1)) is None


def _safe_next(target: str | None) -> str:
    """Only ever redirect within this site after a login.

    A path of this site starts with one slash; ``//`` and ``/\\`` name another
    host to a browser, and a control character could split the header.
    """
    target = target or ""
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and not parts.scheme
        and not parts.netloc
        and target.isprintable()
    ):
        return target
    return url_for("index")


def _start_session(user: User) -> None:
    session.clear()
    login_user(user)
    session.permanent = True
    now = datetime.now(UTC).timestamp()
    # The absolute lifetime counts from here; the idle time-out from the last.
    session["logged_in_at"] = session["last_seen"] = now


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log in with a user name and password."""
    if no_users_yet():
        # "Please log in" means nothing before anyone can: the setup page says why.
        get_flashed_messages()
        return redirect(url_for("auth.setup"))
    form = LoginForm()
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr or "-"
        # Counted (as a failure) and committed before the check, in one step.
        attempt = throttle.start_attempt(username, address)
        if attempt is None:
            return render_template(
                "auth/login.html",
                form=form,
                refused="Too many failed logins. Wait 15 minutes and try again.",
            ), 429
        user = db.session.scalar(sa.select(User).where(User.username == username))
        password_hash = user.password_hash if user and user.active else None
        # Read before the check's rollback expires the user.
        named = user.username if user else audit.UNKNOWN_USER
        succeeded = check_outside_transaction(password_hash, form.password.data)
        if not succeeded:
            audit.log_event("login_failed", {"username": named, "address": address})
            db.session.commit()
            form.password.errors.append("Wrong user name or password.")
            return render_template("auth/login.html", form=form), 200
        throttle.mark_succeeded(attempt)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(form.password.data)
        audit.log_event("login", {"address": address}, user=user)
        db.session.commit()
        _start_session(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@requires("read")
def logout():
    """Log out, ending this user's sessions everywhere."""
    current_user.end_sessions()
    audit.log_event("logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """Create the first administrator; gone once any user exists."""
    if not no_users_yet():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        user = User(
            username=form.username.data,
            password_hash=hash_outside_transaction(form.password.data),
            role="admin",
        )
        db.session.add(user)
        db.session.flush()
        audit.log_event(
            "user_create", {"username": user.username, "role": "admin"}, user=user
        )
        db.session.commit()
        _start_session(user)
        flash("Welcome. You are the clinic's first administrator.", "success")
        return redirect(url_for("admin.users"))
    return render_template("auth/setup.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@requires("read")
def change_password():
    """Change one's own password; other sessions end."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        stored = current_user.password_hash
        if not check_outside_transaction(stored, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            current_user.password_hash = hash_outside_transaction(form.password.data)
            current_user.end_sessions()
            audit.log_event("password_change")
            db.session.commit()
            _start_session(current_user._get_current_object())
            flash("Password changed. Your other sessions have ended.", "success")
            return redirect(url_for("index"))
    return render_template("auth/password.html", form=form)
