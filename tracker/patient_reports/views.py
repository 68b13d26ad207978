"""The patient's result sheet and the report page its link opens.

The report page is public: it needs only an unguessable token, shows
nothing that identifies the patient, and works without JavaScript.
"""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for

from .. import audit
from ..extensions import db
from ..models import FollowUp, ReportLink, Trial, utcnow
from ..settings import clinic_settings
from ..storage import database
from ..voiding import refuse_if_closed
from ..web.access import public, requires
from . import links, qr, throttle, words
from .forms import SelfReportForm

bp = Blueprint("patient_reports", __name__)


@bp.after_request
def _no_referrer(response):
    # The report page's URL holds its token: no Referer carries it anywhere.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/trials/<int:trial_id>/sheet")
@requires("record")
def sheet(trial_id: int):
    """The result sheet the patient takes home, with their report link."""
    trial = db.get_or_404(Trial, trial_id)
    settings = clinic_settings()
    link = None
    if trial.closed_by is None:
        link = links.open_link(trial)
        if link is None:
            # A write after this request's reads could be refused at once by
            # SQLite: begin again, ready to write, and look once more.
            database.begin_writing(db.session)
            link = links.ensure_open_link(trial)
            db.session.commit()
    verdict = trial.verdict(settings.relief_criterion)
    # Past its last day a link is not printed: the patient could not use it.
    url = None
    if link is not None and links.usable(link, settings):
        url = links.public_url(links.token_for(link))
    return render_template(
        "patient_reports/sheet.html",
        trial=trial,
        verdict=verdict,
        words=words.result_words(trial, verdict.value),
        aid=words.aid_words(trial),
        activity=words.activity_words(trial),
        criterion=words.CRITERIA[settings.relief_criterion],
        url=url,
        qr_svg=qr.svg(url) if url else None,
        expires=links.expires_on(trial, settings),
    )


@bp.post("/trials/<int:trial_id>/report-link/revoke")
@requires("record")
def revoke(trial_id: int):
    """Stop the trial's report link working (a lost sheet, say)."""
    trial = db.get_or_404(Trial, trial_id)
    link = links.open_link(trial)
    if link is None:
        abort(409, "This trial has no report link to revoke.")
    links.revoke(link, "revoked by a therapist")
    db.session.commit()
    return redirect(url_for("trials.detail", trial_id=trial.id, _anchor="report-link"))


@bp.post("/trials/<int:trial_id>/report-link/new")
@requires("record")
def new_link(trial_id: int):
    """Replace the trial's report link with a new one, then show the sheet."""
    trial = db.get_or_404(Trial, trial_id)
    refuse_if_closed(trial)
    old = links.open_link(trial)
    if old is not None:
        links.revoke(old, "replaced by a new link")
    links.create_link(trial)
    db.session.commit()
    return redirect(url_for(".sheet", trial_id=trial.id))


@bp.route(f"{links.PATH}<token>", methods=["GET", "POST"])
@public
def report(token: str):
    """The patient's follow-up, from home, through the link on their sheet."""
    address = request.remote_addr or "-"
    if throttle.is_refused(address):
        return _unusable(429)
    settings = clinic_settings()
    link = links.link_for_token(token)
    if link is None:
        # Only a forged or unknown token can be a guess: count it. A genuine
        # one that is spent or expired (a patient sending again) is not.
        throttle.count_refusal(address)
        return _unusable(404)
    if not links.usable(link, settings):
        return _unusable(404)
    trial = link.trial
    form = SelfReportForm()
    if form.validate_on_submit():
        database.begin_writing(db.session)
        if not _record_report(link, form):
            return _unusable(404)
        return redirect(url_for(".thanks"))
    return render_template(
        "patient_reports/report.html",
        form=form,
        aid=words.aid_words(trial),
        activity=words.activity_words(trial),
    )


@bp.get(f"{links.PATH}thanks")
@public
def thanks():
    """After a report: nothing about it, so the page can be shown to anyone."""
    return render_template("patient_reports/thanks.html")


def _unusable(code: int):
    """One page for every link that cannot be used, whatever the reason."""
    return render_template("patient_reports/unusable.html", code=code), code


def _record_report(link: ReportLink, form: SelfReportForm) -> bool:
    """Spend the link and save the follow-up, in one transaction.

    The link is spent by an UPDATE that only an open link matches, so of two
    submissions at once exactly one saves (the other waits for the row, then
    matches nothing).
    """
    spent = db.session.execute(
        sa.update(ReportLink)
        .where(
            ReportLink.id == link.id,
            ReportLink.used_at.is_(None),
            ReportLink.revoked_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        return False
    follow_up = FollowUp(
        trial_id=link.trial_id,
        follow_up_date=date.today(),
        pain=int(form.pain.data),
        still_using=form.still_using.data == "yes",
        global_rating=form.global_rating.data,
        source="patient",
    )
    audit.reported_by_patient()
    db.session.add(follow_up)
    db.session.flush()
    db.session.execute(
        sa.update(ReportLink)
        .where(ReportLink.id == link.id)
        .values(follow_up_id=follow_up.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True
