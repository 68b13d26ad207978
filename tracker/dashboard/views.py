"""The dashboard for reviewers, /api/summary, and plotly.js served locally."""

import gzip
import hashlib
import threading
from datetime import date
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, request, send_file

from ..reporting.filters import TrialFilterForm
from ..settings import clinic_settings
from ..web.access import requires
from .cache import cached

bp = Blueprint("dashboard", __name__)

#: plotly.js from the installed plotly package: no CDN, the clinic may be offline.
#: Found without importing plotly, which loads on the first chart.
PLOTLY_JS = (
    Path(find_spec("plotly").submodule_search_locations[0])
    / "package_data"
    / "plotly.min.js"
)
PLOTLY_VERSION = version("plotly")
YEAR = 365 * 24 * 3600


@bp.get("/dashboard/")
@requires("review")
def index():
    """Rates per aid against the band, the rule check, and the tables behind them."""
    from .content import dashboard_content

    form = TrialFilterForm.from_args(request.args)
    filters, content = form.filters, None
    if filters is not None:
        settings = clinic_settings()
        # Follow-up statuses move on with the date: a new day, new numbers.
        today = date.today()
        content = cached(
            "page",
            (filters, settings, today),
            lambda: dashboard_content(filters, settings, today),
        )
    return render_template("dashboard/index.html", filters=form, content=content)


@bp.get("/api/summary")
@requires("review")
def summary_json():
    """The dashboard's numbers as JSON, the same as ``flask report --json``."""
    from .content import dashboard_summary

    form = TrialFilterForm.from_args(request.args)
    filters = form.filters
    if filters is None:
        return jsonify(errors=form.errors), 400
    settings = clinic_settings()
    today = date.today()
    result = cached(
        "summary",
        (filters, settings, today),
        lambda: dashboard_summary(filters, settings, today),
    )
    return jsonify(result.to_dict())


@bp.get(f"/dashboard/plotly-{PLOTLY_VERSION}.min.js")
@requires("read")
def plotly_js():
    """The chart library; the version in the URL lets browsers keep it for a year.

    Gzipped (4.8 MB down to 1.5 MB) for every browser that says it
    takes gzip, from a copy compressed once per process; plain otherwise.
    """
    if request.accept_encodings["gzip"] > 0:
        body, etag, modified = gzipped_plotly_js()
        response = Response(body, mimetype="text/javascript")
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(etag)
        response.last_modified = modified
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.make_conditional(request)
    else:
        response = send_file(
            PLOTLY_JS, mimetype="text/javascript", max_age=YEAR, conditional=True
        )
    response.vary.add("Accept-Encoding")  # caches keep the two bodies apart
    return response


#: plotly.min.js gzipped, its ETag and modification time, once compressed.
_gzipped: tuple[bytes, str, float] | None = None
_compressing = threading.Lock()


def gzipped_plotly_js() -> tuple[bytes, str, float]:
    """plotly.min.js gzipped, its ETag and modification time: compressed once.

    The lock keeps the first requests of a threaded server from compressing
    it side by side (about a fifth of a second each).
    """
    global _gzipped
    with _compressing:
        if _gzipped is None:
            body = gzip.compress(PLOTLY_JS.read_bytes(), compresslevel=9, mtime=0)
            etag = f"gz-{hashlib.sha256(body).hexdigest()[:32]}"
            _gzipped = body, etag, PLOTLY_JS.stat().st_mtime
        return _gzipped
