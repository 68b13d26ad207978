"""The admin's site pages: add, rename and retire sites (never delete them)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for

from ..extensions import db
from ..models import Patient, Site, User, user_site, utcnow
from ..web import once
from ..web.access import requires
from .changes import add_site, audit_site
from .forms import NewSiteForm, SiteForm

bp = Blueprint("sites", __name__, url_prefix="/admin/sites")


@bp.get("")
@requires("administer")
def index():
    """Every site with its patients and users, open ones first."""
    patients = (
        sa.select(Patient.site_id, sa.func.count().label("patients"))
        .group_by(Patient.site_id)
        .subquery()
    )
    users = (
        sa.select(user_site.c.site_id, sa.func.count().label("users"))
        .join(User, User.id == user_site.c.user_id)
        .where(User.active)
        .group_by(user_site.c.site_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Site,
            sa.func.coalesce(patients.c.patients, 0),
            sa.func.coalesce(users.c.users, 0),
        )
        .outerjoin(patients, patients.c.site_id == Site.id)
        .outerjoin(users, users.c.site_id == Site.id)
        .order_by(Site.retired_at.is_not(None), Site.name)
    ).all()
    return render_template("sites/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@requires("administer")
def create():
    """Add a site to the group."""
    form = NewSiteForm()
    site = once.earlier(form, Site)
    if site is None and form.validate_on_submit():
        site = once.commit_once(form, add_site(form.name.data))
    if site is not None:
        flash(f"Site {site.name} added.", "success")
        return redirect(url_for("sites.index"))
    return render_template("sites/form.html", form=form, site=None)


@bp.route("/<int:site_id>", methods=["GET", "POST"])
@requires("administer")
def update(site_id: int):
    """Rename a site; its patients and users stay with it."""
    site = db.get_or_404(Site, site_id)
    form = SiteForm(site=site)
    if form.validate_on_submit():
        if form.name.data != site.name:
            audit_site("site_rename", site, {"name": [site.name, form.name.data]})
            site.name = form.name.data
            db.session.commit()
            flash(f"Site renamed {site.name}.", "success")
        return redirect(url_for("sites.index"))
    return render_template("sites/form.html", form=form, site=site)


@bp.post("/<int:site_id>/retire")
@requires("administer")
def retire(site_id: int):
    """Stop a site taking new patients; its records stay where they are."""
    site = db.get_or_404(Site, site_id)
    if site.retired:
        flash(f"{site.name} was retired already.", "info")
    else:
        site.retired_at = utcnow()
        audit_site("site_retire", site, {"name": site.name})
        db.session.commit()
        flash(f"{site.name} retired: it takes no new patients.", "success")
    return redirect(url_for("sites.index"))


@bp.post("/<int:site_id>/reopen")
@requires("administer")
def reopen(site_id: int):
    """Let a retired site take new patients again."""
    site = db.get_or_404(Site, site_id)
    if site.retired:
        site.retired_at = None
        audit_site("site_reopen", site, {"name": site.name})
        db.session.commit()
        flash(f"{site.name} takes new patients again.", "success")
    return redirect(url_for("sites.index"))
