"""The dashboard for reviewers, /api/summary, and plotly.js served locally."""

from pathlib import Path

import plotly
from flask import Blueprint, jsonify, render_template, request, send_file

from ..reporting.filters import TrialFilterForm
from ..settings import clinic_settings
from ..web.access import requires
from .cache import cached
from .content import dashboard_content, dashboard_summary

bp = Blueprint("dashboard", __name__)

#: plotly.js from the installed plotly package: no CDN, the clinic may be offline.
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_VERSION = plotly.__version__
YEAR = 365 * 24 * 3600


@bp.get("/dashboard/")
@requires("review")
def index():
    """Rates per aid against the band, the rule check, and the tables behind them."""
    filters = TrialFilterForm.from_args(request.args)
    content = None
    if not filters.errors:
        settings = clinic_settings()
        content = cached(
            "page",
            (_key(filters), settings),
            lambda: dashboard_content(filters, settings),
        )
    return render_template("dashboard/index.html", filters=filters, content=content)


@bp.get("/api/summary")
@requires("review")
def summary_json():
    """The dashboard's numbers as JSON, the same as ``flask report --json``."""
    filters = TrialFilterForm.from_args(request.args)
    if filters.errors:
        return jsonify(errors=filters.errors), 400
    settings = clinic_settings()
    result = cached(
        "summary",
        (_key(filters), settings),
        lambda: dashboard_summary(filters, settings),
    )
    return jsonify(result.to_dict())


def _key(filters: TrialFilterForm) -> tuple:
    """The valid filters as a cache key (the counting unit among them)."""
    return tuple(sorted(filters.as_args().items()))


@bp.get(f"/dashboard/plotly-{PLOTLY_VERSION}.min.js")
@requires("read")
def plotly_js():
    """The chart library; the version in the URL lets browsers keep it for a year."""
    return send_file(
        PLOTLY_JS, mimetype="text/javascript", max_age=YEAR, conditional=True
    )
