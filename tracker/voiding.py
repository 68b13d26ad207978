"""Voiding a record: it leaves lists and rates but stays on file and in the trail."""

from flask import abort, flash, redirect, render_template

from .extensions import db
from .models import utcnow
from .web.forms import VoidForm


def void_page(record, what: str, back: str, done: str):
    """Ask why, then void ``record`` and go to ``done``; ``back`` cancels.

    The audit trail records the void (and its reason) in the same commit.
    """
    form = VoidForm()
    if not record.voided and form.validate_on_submit():
        record.voided_at, record.void_reason = utcnow(), form.reason.data
        db.session.commit()
        flash(f"{what[:1].upper()}{what[1:]} voided.", "success")
        return redirect(done)
    return render_template("void.html", form=form, record=record, what=what, back=back)


#: What a therapist calls each kind of record.
RECORD_NAMES = {"patient": "patient", "trial": "trial", "follow_up": "follow-up"}


def refuse_if_closed(record) -> None:
    """Answer 409 when ``record``, its trial or its patient was voided."""
    closed_by = record.closed_by
    if closed_by is not None:
        name = RECORD_NAMES[closed_by.__tablename__]
        abort(
            409,
            f"This {name} was voided, so it takes no new records and no edits; "
            "it stays on file as it was.",
        )
