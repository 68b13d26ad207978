"""Patients: the list, search, and each patient's page."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..models import Patient
from ..voiding import refuse_if_closed, void_page
from ..web import once
from ..web.access import requires
from ..web.params import paginate
from .forms import NewPatientForm, PatientUpdateForm

bp = Blueprint("patients", __name__, url_prefix="/patients")


@bp.get("/")
@requires("read")
def index():
    """Every patient, or those whose code contains the search text."""
    search = request.args.get("q", "").strip()
    query = (
        sa.select(Patient)
        .where(Patient.voided_at.is_(None))
        .order_by(Patient.code)
        # The page's trials and follow-ups in two queries, not two per patient.
        .options(selectinload(Patient.trials))
    )
    if search:
        query = query.where(Patient.code.icontains(search, autoescape=True))
    patients = paginate(query, per_page=50)
    return render_template("patients/index.html", patients=patients, search=search)


@bp.route("/new", methods=["GET", "POST"])
@requires("record")
def create():
    """Add a patient under a clinic code."""
    form = NewPatientForm()
    patient = once.earlier(form, Patient)
    if patient is None and form.validate_on_submit():
        patient = Patient()
        form.fill(patient)
        patient = once.commit_once(form, patient)
    if patient is not None:
        flash(f"Patient {patient.code} added.", "success")
        return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=None)


@bp.get("/<int:patient_id>")
@requires("read")
def detail(patient_id: int):
    """A patient with every trial, its verdict and its follow-ups."""
    from ..reporting import charts  # plotly loads on the first chart

    patient = db.get_or_404(Patient, patient_id)
    pain_chart = charts.to_json(charts.patient_pain_figure(patient))
    return render_template(
        "patients/detail.html", patient=patient, pain_chart=pain_chart
    )


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@requires("record")
def update(patient_id: int):
    """Correct a patient's details, saying why."""
    patient = db.get_or_404(Patient, patient_id)
    refuse_if_closed(patient)
    form = PatientUpdateForm(patient=patient)
    if form.validate_on_submit():
        form.fill(patient)
        audit.give_reason(form.reason.data)
        db.session.commit()
        flash(f"Patient {patient.code} updated.", "success")
        return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=patient)


@bp.route("/<int:patient_id>/void", methods=["GET", "POST"])
@requires("record")
def void(patient_id: int):
    """Void a patient added by mistake: gone from lists, kept on file."""
    patient = db.get_or_404(Patient, patient_id)
    return void_page(
        patient,
        f"patient {patient.code}",
        back=url_for("patients.detail", patient_id=patient.id),
        done=url_for("patients.index"),
    )
