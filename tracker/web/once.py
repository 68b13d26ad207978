"""One record per create form, however often it is sent.

A double tap on a tablet posts the same form twice, sometimes at the same
moment from two server threads. Each create form carries a random key,
made when the form is shown; the first submission saves its record and the
key in one transaction, and the key's primary key refuses a second. A
repeated submission saves nothing and is shown the record the first made.
"""

from __future__ import annotations

import re
import secrets
from typing import TypeVar

import sqlalchemy as sa
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField
from wtforms.validators import Optional, Regexp

from ..extensions import db
from ..models import SUBMISSION_KEY_LENGTH, FormSubmission

Record = TypeVar("Record", bound=db.Model)

_KEY = re.compile(rf"[0-9a-f]{{{SUBMISSION_KEY_LENGTH}}}\Z")


def new_key() -> str:
    """A fresh submission key, for each showing of a create form."""
    return secrets.token_hex(SUBMISSION_KEY_LENGTH // 2)


class OnceOnlyForm(FlaskForm):
    """A create form whose submission saves at most one record.

    A submission without the key (a script posting the fields) is saved as
    before, without the protection.
    """

    submission_key = HiddenField(
        "Form key",
        default=new_key,
        validators=[
            Optional(),
            Regexp(_KEY, message="The form was damaged; please open it again."),
        ],
    )


def earlier(form: OnceOnlyForm, model: type[Record]) -> Record | None:
    """The record an earlier submission of this form made, if one did.

    Asked before the form is validated: the repeat of a saved patient form
    would otherwise be refused for its code, now in use.
    """
    key = form.submission_key.data if form.is_submitted() else None
    return _saved(key, model) if key else None


def commit_once(form: OnceOnlyForm, record: Record) -> Record:
    """Add and commit the new ``record`` with the form's key; the record that stands.

    That is ``record``, or, when another submission of the same form saved
    first (a second thread, say), the earlier one, and then nothing of
    this transaction is saved. Check :func:`earlier` before making the
    record, so a repeated submission usually builds nothing.
    """
    key = form.submission_key.data
    model = type(record)
    db.session.add(record)
    try:
        db.session.flush()
        if key:
            db.session.add(
                FormSubmission(
                    key=key,
                    table_name=model.__tablename__,
                    record_id=record.id,
                    user_id=current_user.id,
                )
            )
        db.session.commit()
    except IntegrityError:
        # The same key saved meanwhile in another transaction (or the record
        # itself clashed with one saved meanwhile: then it is that one).
        db.session.rollback()
        saved = _saved(key, model) if key else None
        if saved is None:
            raise
        return saved
    return record


def _saved(key: str, model: type[Record]) -> Record | None:
    """The record an earlier submission with ``key`` made, if any."""
    record_id = db.session.scalar(
        sa.select(FormSubmission.record_id).where(
            FormSubmission.key == key,
            FormSubmission.table_name == model.__tablename__,
        )
    )
    return None if record_id is None else db.session.get(model, record_id)
