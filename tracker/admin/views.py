"""Users, the clinic settings and the audit trail."""

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from .. import audit
from ..auth import password_rules, two_factor
from ..auth.passwords import check_outside_transaction, hash_outside_transaction
from ..extensions import db
from ..models import AuditEvent, ClinicSetting, User
from ..settings import ClinicSettings, clinic_settings
from ..sites.membership import where
from ..web import once
from ..web.access import requires
from ..web.params import audit_filters, paginate
from .forms import SettingsForm, UserCreateForm, UserUpdateForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@requires("administer")
def users():
    """Every account, active or not."""
    accounts = db.session.scalars(sa.select(User).order_by(User.username))
    return render_template("admin/users.html", users=accounts, where=where)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("administer")
def create_user():
    """Add a clinic account."""
    form = UserCreateForm()
    user = once.earlier(form, User)
    if user is None and form.validate_on_submit():
        password_hash = hash_outside_transaction(form.password.data)
        user = User(
            username=form.username.data,
            role=form.role.data,
            password_hash=password_hash,
            all_sites=form.all_sites.data,
            sites=form.chosen_sites(),
        )
        db.session.add(user)
        db.session.flush()
        audit.log_event(
            "user_create",
            {"username": user.username, "role": user.role, "sites": where(user)},
        )
        user = once.commit_once(form, user)
    if user is not None:
        flash(f"User {user.username} added.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("administer")
def update_user(user_id: int):
    """Change a user's role, deactivate them or reset their password."""
    user = db.get_or_404(User, user_id)
    form = UserUpdateForm(account=user)
    if form.validate_on_submit() and not _keeps_the_password(form, user):
        # Before any change: hashing ends the transaction.
        new_hash = form.password.data and hash_outside_transaction(form.password.data)
        if _leaves_no_active_admin(form, user):
            return render_template("admin/user_form.html", form=form, user=user)
        changes = {
            key: [getattr(user, key), getattr(form, key).data]
            for key in ("role", "active")
            if getattr(user, key) != getattr(form, key).data
        }
        sites_before = where(user)
        user.role, user.active = form.role.data, form.active.data
        user.all_sites, user.sites = form.all_sites.data, form.chosen_sites()
        if where(user) != sites_before:
            changes["sites"] = [sites_before, where(user)]
        if new_hash:
            user.password_hash = new_hash
            changes["password"] = "reset"
        if changes:
            # A new role, a deactivation or a reset ends the user's sessions.
            user.end_sessions()
            audit.log_event("user_update", {"username": user.username, **changes})
        db.session.commit()
        flash(f"User {user.username} updated.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.post("/users/<int:user_id>/two-factor/reset")
@requires("administer")
def reset_two_factor(user_id: int):
    """Remove a user's second factor (a lost phone); their sessions end."""
    user = db.get_or_404(User, user_id)
    if user.totp_secret is None:
        flash(f"{user.username} has no second factor to reset.", "info")
    else:
        two_factor.reset(user)
        audit.log_event("two_factor_reset", {"username": user.username})
        db.session.commit()
        flash(
            f"Two-factor sign-in reset for {user.username}; their sessions ended. "
            "They set it up again at their next login.",
            "success",
        )
    return redirect(url_for("admin.update_user", user_id=user.id))


def _leaves_no_active_admin(form: UserUpdateForm, user: User) -> bool:
    """Whether the change demotes or deactivates the last active administrator.

    Said beside the field. Checked in the transaction that saves the change,
    with every active administrator's row locked (SQLite's write transaction
    holds the whole database), so two administrators demoting each other at
    once cannot both succeed.
    """
    if not (user.role == "admin" and user.active):
        return False
    if form.role.data == "admin" and form.active.data:
        return False
    admins = db.session.scalars(
        sa.select(User.id)
        .where(User.role == "admin", User.active)
        .order_by(User.id)
        .with_for_update()
    ).all()
    if set(admins) - {user.id}:
        return False
    field = form.role if form.role.data != "admin" else form.active
    field.errors.append(
        f"{user.username} is the last active administrator: "
        "make another user an active administrator first."
    )
    return True


def _keeps_the_password(form: UserUpdateForm, user: User) -> bool:
    """Whether the reset password is the user's current one (said beside it).

    Checked before any change: checking ends the transaction.
    """
    new = form.password.data
    if new and check_outside_transaction(user.password_hash, new):
        form.password.errors.append(password_rules.IS_CURRENT)
        return True
    return False


@bp.route("/settings", methods=["GET", "POST"])
@requires("administer")
def settings():
    """The clinic's settings; the instance config gave the starting values."""
    current = clinic_settings()
    form = SettingsForm(
        data={
            **current.__dict__,
            "band_low": round(current.band_low * 100, 1),
            "band_high": round(current.band_high * 100, 1),
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        chosen = ClinicSettings(
            relief_criterion=form.relief_criterion.data,
            benefit_definition=form.benefit_definition.data,
            follow_up_minimum_weeks=form.follow_up_minimum_weeks.data,
            follow_up_due_weeks=form.follow_up_due_weeks.data,
            band_low=float(form.band_low.data) / 100,
            band_high=float(form.band_high.data) / 100,
            session_idle_minutes=form.session_idle_minutes.data,
            session_absolute_hours=form.session_absolute_hours.data,
            clinic_name=(form.clinic_name.data or "").strip(),
            report_link_weeks=form.report_link_weeks.data,
            two_factor_required=form.two_factor_required.data,
        )
        old, new = current.as_config(), chosen.as_config()
        changes = {
            name: [old[name], new[name]] for name in new if old[name] != new[name]
        }
        for name in changes:
            db.session.merge(ClinicSetting(name=name, value=new[name]))
        if changes:
            audit.log_event("settings_change", changes)
        db.session.commit()
        g.pop("clinic_settings", None)
        flash("Settings saved." if changes else "Nothing changed.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)


@bp.get("/audit")
@requires("review")
def audit_trail():
    """The audit trail, filtered by record, user and date."""
    filters = audit_filters()
    query = audit.events_query(filters).order_by(AuditEvent.id.desc())
    events = paginate(query, per_page=100)
    return render_template("admin/audit.html", events=events, filters=filters)
