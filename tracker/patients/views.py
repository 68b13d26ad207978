"""Patients: the list, search, and each patient's page."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..extensions import db
from ..models import Patient
from .forms import PatientForm

bp = Blueprint("patients", __name__, url_prefix="/patients")


@bp.get("/")
def index():
    """Every patient, or those whose code contains the search text."""
    search = request.args.get("q", "").strip()
    query = sa.select(Patient).order_by(Patient.code)
    if search:
        query = query.where(Patient.code.icontains(search, autoescape=True))
    patients = db.paginate(query, per_page=50, error_out=False)
    return render_template("patients/index.html", patients=patients, search=search)


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Add a patient under a clinic code."""
    form = PatientForm()
    if form.validate_on_submit():
        patient = Patient()
        form.fill(patient)
        db.session.add(patient)
        db.session.commit()
        flash(f"Patient {patient.code} added.", "success")
        return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=None)


@bp.get("/<int:patient_id>")
def detail(patient_id: int):
    """A patient with every trial, its verdict and its follow-ups."""
    patient = db.get_or_404(Patient, patient_id)
    return render_template("patients/detail.html", patient=patient)


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
def update(patient_id: int):
    """Correct a patient's details."""
    patient = db.get_or_404(Patient, patient_id)
    form = PatientForm(patient=patient)
    if form.validate_on_submit():
        form.fill(patient)
        db.session.commit()
        flash(f"Patient {patient.code} updated.", "success")
        return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=patient)
