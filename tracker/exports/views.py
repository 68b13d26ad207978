"""CSV downloads (streamed, audited) and the upload of past trials with a preview."""

import re
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from .. import csvio
from ..reporting.filters import TrialFilterForm
from ..settings import clinic_settings
from ..storage import database
from ..web.access import can, requires
from ..web.params import audit_filters
from .forms import ConfirmForm, ExportOptionsForm, UploadForm

bp = Blueprint("exports", __name__)

#: Uploads waiting for their confirmation are removed after this long.
UPLOAD_LIFETIME_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


@bp.get("/exports/")
@requires("read")
def index():
    """The downloads a user's role allows, and the upload of past trials."""
    return render_template(
        "exports/index.html",
        filters=TrialFilterForm.from_args(request.args),
        options=ExportOptionsForm(request.args),
    )


@bp.get("/exports/trials.csv")
@requires("review")
def trials():
    """The filtered trials, one row per trial."""
    return _download(csvio.trials_export)


@bp.get("/exports/followups.csv")
@requires("review")
def follow_ups():
    """Every follow-up of the filtered trials."""
    return _download(csvio.follow_ups_export)


@bp.get("/exports/audit.csv")
@requires("administer")
def audit_trail():
    """The audit trail with the audit page's filters; full level only."""
    return _streamed(csvio.audit_export(audit_filters()))


def _download(make_export):
    """A trials or follow-ups export at the level the user's role allows."""
    form = TrialFilterForm.from_args(request.args)
    options = ExportOptionsForm(request.args)
    if form.filters is None or not options.validate():
        errors = {**form.errors, **options.errors}
        abort(400, " ".join(messages[0] for messages in errors.values()))
    full_allowed = can("administer")
    level = options.chosen_level(full_allowed)
    if level == "full" and not full_allowed:
        abort(403, "Your role downloads de-identified exports only.")
    if options.include_voided.data and level != "full":
        abort(400, "Voided records are only in full exports.")
    return _streamed(
        make_export(form.filters, clinic_settings(), level, options.include_voided.data)
    )


def _streamed(export: csvio.Export) -> Response:
    """Send an export as it is written, and audit it once it has been sent."""

    def generate():
        try:
            yield from export.chunks()
        finally:
            export.finish(via="web")

    # content_type as given: mimetype= would add a second "; charset=utf-8".
    response = Response(
        stream_with_context(generate()), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export.filename}"'
    )
    return response


@bp.route("/imports/trials", methods=["GET", "POST"])
@requires("record")
def upload():
    """Check an uploaded trial file and show what importing it would do."""
    form = UploadForm()
    if form.validate_on_submit():
        _remove_stale_uploads()
        token = secrets.token_urlsafe(24)
        filename = Path(form.file.data.filename or "upload.csv").name[:200]
        path = _upload_path(token)
        try:
            form.file.data.save(path)
        except OSError as error:
            path.unlink(missing_ok=True)
            if not database.is_disk_full(error):
                raise
            form.file.errors.append(
                "The server's disk is full, so the file could not be kept for "
                "checking; nothing was imported. Tell whoever runs the server."
            )
            return render_template("exports/upload.html", form=form), 507
        site = form.chosen_site()
        session["pending_import"] = {"token": token, "filename": filename, "site": site}
        report = _import(path, filename, site, dry_run=True)
        return render_template(
            "exports/preview.html",
            report=report,
            confirm=ConfirmForm(token=token),
            site=site,
        )
    return render_template("exports/upload.html", form=form)


@bp.post("/imports/trials/confirm")
@requires("record")
def confirm():
    """Import the file the preview checked: every row, or none."""
    form = ConfirmForm()
    pending = session.pop("pending_import", None)
    path = _upload_path(pending["token"]) if pending else None
    if (
        not form.validate_on_submit()
        or path is None
        or not secrets.compare_digest(pending["token"], form.token.data)
        or not path.exists()
    ):
        flash("That upload has expired. Choose the file again.", "warning")
        return redirect(url_for("exports.upload"))
    try:
        report = _import(path, pending["filename"], pending.get("site"), dry_run=False)
    finally:
        path.unlink(missing_ok=True)
    if not report.written:
        return render_template(
            "exports/preview.html",
            report=report,
            confirm=None,
            site=pending.get("site"),
        )
    flash(
        f"Imported {pending['filename']}: {report.accepted} trials added "
        f"({report.new_patients} new patients, {report.follow_ups} follow-ups), "
        f"{len(report.duplicates)} duplicates skipped.",
        "success",
    )
    return redirect(url_for("trials.index"))


@bp.errorhandler(413)
def too_large(error):
    """An upload over the size limit: say so, and how to import it instead."""
    size = current_app.config["MAX_CONTENT_LENGTH"]
    limit = f"{size / 2**20:g} MB" if size >= 2**20 else f"{size // 1024} KB"
    message = (
        f"The file is larger than {limit}, the most the upload page takes. "
        "Split it into smaller files, or ask an administrator to import it with "
        "flask --app tracker import-trials FILE --user NAME."
    )
    return render_template(
        "errors/error.html", code=413, title="File too large", message=message
    ), 413


def _import(
    path: Path, filename: str, site: str | None, dry_run: bool
) -> csvio.ImportReport:
    with path.open("rb") as stream:
        return csvio.import_trials(
            stream,
            filename,
            current_user._get_current_object(),
            dry_run=dry_run,
            site=site,
        )


def _upload_folder() -> Path:
    folder = Path(
        current_app.config.get("IMPORT_FOLDER")
        or Path(current_app.instance_path) / "imports"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _upload_path(token: str) -> Path | None:
    """Where an upload waits for its confirmation; None for a malformed token."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    return _upload_folder() / f"{token}.csv"


def _remove_stale_uploads() -> None:
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for path in _upload_folder().glob("*.csv"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
