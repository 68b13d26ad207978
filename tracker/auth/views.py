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
from ..patient_reports import qr
from ..web.access import open_while_enrolling, public, requires
from . import throttle, two_factor
from .forms import CodeForm, EnrolForm, LoginForm, PasswordChangeForm, SetupForm
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
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(form.password.data)
        if user.totp_secret:
            # The attempt stays a failure until the code is right too.
            db.session.commit()
            session.clear()
            session[PENDING] = {
                "token": user.session_token,
                "attempt": attempt,
                "at": datetime.now(UTC).timestamp(),
                "next": _safe_next(request.args.get("next")),
            }
            return redirect(url_for("auth.code"))
        throttle.mark_succeeded(attempt)
        audit.log_event("login", {"address": address}, user=user)
        db.session.commit()
        _start_session(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


#: The session key of a login whose password was right, awaiting its code.
PENDING = "pending_login"
#: How long the code may take after the password.
PENDING_SECONDS = 5 * 60


@bp.route("/code", methods=["GET", "POST"])
@public
def code():
    """The second step of a login: a code from the app, or a recovery code."""
    pending = session.get(PENDING)
    if not pending or datetime.now(UTC).timestamp() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash("Please log in again.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form)
    address = request.remote_addr or "-"
    user = db.session.scalar(
        sa.select(User).where(User.session_token == pending["token"], User.active)
    )
    if user is None:
        session.pop(PENDING, None)
        return redirect(url_for("auth.login"))
    # A wrong code counts as a failed login, in the same throttle.
    attempt = throttle.start_attempt(user.username, address)
    if attempt is None:
        session.pop(PENDING, None)
        return render_template(
            "auth/login.html",
            form=LoginForm(),
            refused="Too many failed logins. Wait 15 minutes and try again.",
        ), 429
    user = db.session.get(User, user.id)  # the throttle's rollback expired it
    if not two_factor.check_code(user, form.code.data):
        audit.log_event(
            "login_failed",
            {"username": user.username, "address": address, "step": "code"},
        )
        db.session.commit()
        form.code.errors.append("That code is wrong, or was used already.")
        return render_template("auth/code.html", form=form), 200
    throttle.mark_succeeded(attempt)
    throttle.mark_succeeded(pending["attempt"])
    audit.log_event("login", {"address": address, "second_factor": True}, user=user)
    db.session.commit()
    _start_session(user)
    return redirect(pending["next"])


#: The session key of a secret shown for enrolment, not yet confirmed.
ENROLLING = "totp_enrolling"


@bp.route("/two-factor", methods=["GET", "POST"])
@requires("read")
@open_while_enrolling
def two_factor_page():
    """Set up two-factor sign-in: scan the code, then type what the app shows."""
    user = current_user._get_current_object()
    if user.totp_secret:
        left = two_factor.recovery_codes_left(user)
        return render_template("auth/two_factor.html", enrolled=True, left=left)
    secret = session.get(ENROLLING) or two_factor.new_secret()
    session[ENROLLING] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        step = two_factor.accepted_step(secret, form.code.data, None)
        if step is None:
            form.code.errors.append(
                "That code does not match. Check the phone's clock is right, "
                "then type the code the app shows now."
            )
        else:
            user.totp_secret, user.totp_last_step = secret, step
            codes = two_factor.new_recovery_codes(user)
            audit.log_event("two_factor_enrol")
            db.session.commit()
            session.pop(ENROLLING)
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = two_factor.enrolment_uri(secret, user.username)
    return render_template(
        "auth/two_factor.html",
        enrolled=False,
        form=form,
        secret=secret,
        qr=qr.svg(uri, title="QR code for your authenticator app"),
    )


@bp.post("/logout")
@requires("read")
@open_while_enrolling
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
