"""Trials of an aid and their follow-ups."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import contains_eager, selectinload

from .. import audit
from ..extensions import db
from ..models import FollowUp, Patient, Trial, utcnow
from ..patient_reports import links
from ..reporting.filters import TrialFilterForm
from ..settings import clinic_settings
from ..voiding import refuse_if_closed, void_page
from ..web import once
from ..web.access import requires
from ..web.params import paginate
from .due import (
    REPORT_LINK_STATES,
    DueFilterForm,
    DueFilters,
    due_query,
    due_rows,
)
from .forms import (
    FollowUpUpdateForm,
    LostForm,
    NewFollowUpForm,
    NewTrialForm,
    TrialUpdateForm,
)

bp = Blueprint("trials", __name__)


@bp.get("/trials/")
@requires("read")
def index():
    """Trials matching the filters: the records behind a dashboard number."""
    form = TrialFilterForm.from_args(request.args)
    query = (
        sa.select(Trial)
        .join(Trial.patient)
        # Each row's patient from the join, their recorders in one more query.
        .options(contains_eager(Trial.patient), selectinload(Trial.recorded_by))
    )
    # Invalid filters match nothing, rather than everything.
    query = form.filters.apply(query) if form.filters else query.where(sa.false())
    query = query.order_by(Trial.trial_date.desc(), Trial.id)
    trials = paginate(query, per_page=50)
    return render_template("trials/index.html", trials=trials, filters=form)


@bp.route("/patients/<int:patient_id>/trials/new", methods=["GET", "POST"])
@requires("record")
def create(patient_id: int):
    """Record a trial for a patient."""
    patient = db.get_or_404(Patient, patient_id)
    refuse_if_closed(patient)
    form = NewTrialForm()
    trial = once.earlier(form, Trial)
    if trial is None and form.validate_on_submit():
        trial = Trial(patient=patient)
        form.fill(trial)
        trial = once.commit_once(form, trial)
    if trial is not None:
        verdict = trial.verdict(clinic_settings().relief_criterion)
        flash(f"Trial saved: {verdict.value.replace('_', ' ')}.", "success")
        return redirect(url_for("trials.detail", trial_id=trial.id))
    return render_template("trials/form.html", form=form, patient=patient, trial=None)


@bp.get("/trials/<int:trial_id>")
@requires("read")
def detail(trial_id: int):
    """A trial with the rule's verdict and its follow-ups."""
    trial = db.get_or_404(Trial, trial_id)
    return render_template(
        "trials/detail.html",
        trial=trial,
        history=audit.history("trial", trial.id),
        report_link=links.open_link(trial),
        last_report=links.last_report(trial),
        link_expires=links.expires_on(trial, clinic_settings()),
        today=date.today(),
    )


@bp.route("/trials/<int:trial_id>/edit", methods=["GET", "POST"])
@requires("record")
def update(trial_id: int):
    """Correct a saved trial."""
    trial = db.get_or_404(Trial, trial_id)
    refuse_if_closed(trial)
    form = TrialUpdateForm(obj=trial)
    if form.validate_on_submit():
        form.fill(trial)
        audit.give_reason(form.reason.data)
        db.session.commit()
        flash("Trial updated.", "success")
        return redirect(url_for("trials.detail", trial_id=trial.id))
    return render_template(
        "trials/form.html", form=form, patient=trial.patient, trial=trial
    )


@bp.route("/trials/<int:trial_id>/follow-ups/new", methods=["GET", "POST"])
@requires("record")
def create_follow_up(trial_id: int):
    """Record how the patient is doing some weeks after the trial."""
    trial = db.get_or_404(Trial, trial_id)
    refuse_if_closed(trial)
    form = NewFollowUpForm(trial=trial)
    follow_up = once.earlier(form, FollowUp)
    if follow_up is None and form.validate_on_submit():
        follow_up = FollowUp(trial=trial)
        form.fill(follow_up)
        follow_up = once.commit_once(form, follow_up)
    if follow_up is not None:
        flash("Follow-up recorded.", "success")
        return redirect(url_for("trials.detail", trial_id=trial.id))
    return render_template(
        "trials/follow_up_form.html", form=form, trial=trial, follow_up=None
    )


@bp.route("/follow-ups/<int:follow_up_id>/edit", methods=["GET", "POST"])
@requires("record")
def update_follow_up(follow_up_id: int):
    """Correct a saved follow-up."""
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    refuse_if_closed(follow_up)
    form = FollowUpUpdateForm(trial=follow_up.trial, follow_up=follow_up)
    if form.validate_on_submit():
        form.fill(follow_up)
        audit.give_reason(form.reason.data)
        db.session.commit()
        flash("Follow-up updated.", "success")
        return redirect(url_for("trials.detail", trial_id=follow_up.trial_id))
    return render_template(
        "trials/follow_up_form.html",
        form=form,
        trial=follow_up.trial,
        follow_up=follow_up,
    )


@bp.get("/follow-ups/due")
@requires("read")
def due():
    """Trials without an outcome by follow-up status, aid and recorder; by due date."""
    form = DueFilterForm.from_args(request.args)
    filters = form.filters(current_user.id)
    settings, today = clinic_settings(), date.today()
    # Invalid filters match nothing, rather than everything.
    query = due_query(filters or DueFilters(statuses=()), settings, today)
    trials = paginate(query, per_page=50)
    return render_template(
        "trials/due.html",
        trials=trials,
        rows=due_rows(trials.items, settings, today),
        filters=form,
        report_link_states=REPORT_LINK_STATES,
    )


@bp.route("/trials/<int:trial_id>/lost", methods=["GET", "POST"])
@requires("record")
def lost(trial_id: int):
    """Mark a trial lost to follow-up, or take the mark back; audited, with a reason."""
    trial = db.get_or_404(Trial, trial_id)
    refuse_if_closed(trial)
    form = LostForm(mark="found" if trial.lost else "lost")
    if form.validate_on_submit():
        if (form.mark.data == "lost") == trial.lost:
            flash("Nothing changed: the trial was already so marked.", "info")
        elif trial.lost:
            trial.lost_at, trial.lost_reason = None, None
            flash("The trial is no longer marked lost to follow-up.", "success")
        else:
            trial.lost_at, trial.lost_reason = utcnow(), form.reason.data
            flash("Trial marked lost to follow-up.", "success")
        audit.give_reason(form.reason.data)
        db.session.commit()
        return redirect(url_for("trials.detail", trial_id=trial.id))
    return render_template("trials/lost.html", form=form, trial=trial)


@bp.route("/trials/<int:trial_id>/void", methods=["GET", "POST"])
@requires("record")
def void(trial_id: int):
    """Void a trial entered in error: gone from lists and rates, kept on file."""
    trial = db.get_or_404(Trial, trial_id)
    return void_page(
        trial,
        "trial",
        back=url_for("trials.detail", trial_id=trial.id),
        done=url_for("patients.detail", patient_id=trial.patient_id),
    )


@bp.route("/follow-ups/<int:follow_up_id>/void", methods=["GET", "POST"])
@requires("record")
def void_follow_up(follow_up_id: int):
    """Void a follow-up entered in error."""
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    trial_page = url_for("trials.detail", trial_id=follow_up.trial_id)
    return void_page(follow_up, "follow-up", back=trial_page, done=trial_page)
