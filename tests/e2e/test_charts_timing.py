"""Charts that load at once: plotly.js gzipped and cached, the tables shown
before the charts, and the time to charts drawn and first paint recorded.

The times are written to ``test-artifacts/chart-timings.json`` and printed,
never asserted: ``python -m bench`` reports them against the targets.
"""

import json
import random
import re
import statistics
from urllib.parse import urlsplit

from playwright.sync_api import expect

from bench.browser import busiest_patient, log_in, visit
from tests.e2e.conftest import ARTIFACTS
from tests.helpers import PASSWORD
from tracker.cli.demo import make_demo_patient
from tracker.extensions import db

PLOTLY = re.compile(r"/dashboard/plotly-[^/]*\.min\.js$")


def seed_demo_patients(app, patients: int = 150) -> int:
    """Made-up patients as demo-data adds them; the one with most trials."""
    with app.app_context():
        rng = random.Random(20)
        db.session.add_all(make_demo_patient(rng, n) for n in range(patients))
        db.session.commit()
        return busiest_patient()


def test_tables_show_before_plotly_arrives_then_the_charts(live_server, users, page):
    base = live_server.base_url
    seed_demo_patients(live_server)
    log_in(page, base, "admin", PASSWORD)
    held = []
    page.route(PLOTLY, lambda route: held.append(route))  # waits to be let through
    page.goto(f"{base}/dashboard/", wait_until="commit")
    expect(
        page.get_by_text("Of patients who felt relief at once").first
    ).to_be_visible()
    expect(page.locator("table").first).to_be_visible()
    page.wait_for_function("() => performance.getEntriesByType('paint').length > 0")
    assert len(held) == 1  # asked for, not yet here
    assert page.locator("html[data-charts-drawn]").count() == 0
    assert page.locator(".dashboard-chart .main-svg").count() == 0

    with page.expect_response(PLOTLY) as plotly:
        held[0].fallback()
    assert plotly.value.headers["content-encoding"] == "gzip"
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", "true")
    charts = page.locator(".dashboard-chart")
    assert charts.count() >= 5
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_attribute("data-drawn", "true")
        expect(charts.nth(index).locator(".main-svg").first).to_be_attached()


def test_chart_pages_on_a_warm_cache_record_their_timings(
    live_server, users, browser, browser_context_args
):
    """Drawn from plotly.js in the browser's cache; times recorded, not judged.

    A context of its own: the suite's guard routes every request, and
    Chromium keeps no HTTP cache for a context with routes. Requests are
    watched for other hosts instead.
    """
    base = live_server.base_url
    patient = seed_demo_patients(live_server)
    context = browser.new_context(**browser_context_args)
    strays = []
    context.on(
        "request",
        lambda request: (
            urlsplit(request.url).hostname != "127.0.0.1"
            and not request.url.startswith("data:")
            and strays.append(request.url)
        ),
    )
    page = context.new_page()
    log_in(page, base, "admin", PASSWORD)
    timings = {}
    for name, path in (
        ("dashboard", "/dashboard/"),
        ("patient", f"/patients/{patient}"),
    ):
        if name == "dashboard":  # the first visit fetches plotly.js, gzipped
            with page.expect_response(PLOTLY) as plotly:
                visit(page, base + path)
            assert "gzip" in plotly.value.request.all_headers()["accept-encoding"]
            assert plotly.value.headers["content-encoding"] == "gzip"
            assert "Accept-Encoding" in plotly.value.headers["vary"]
        visit(page, base + path)  # from the second visit on, compiled code too
        runs = [visit(page, base + path) for _ in range(3)]
        for run in runs:
            assert run["plotly_transfer_size"] == 0  # from the cache
            assert run["charts"] is not None and run["first_paint"] is not None
        drawn = page.locator("[data-figure]")
        assert drawn.count() >= (5 if name == "dashboard" else 1)
        assert drawn.count() == page.locator("[data-figure][data-drawn=true]").count()
        timings[name] = {
            key: round(statistics.median(run[key] for run in runs))
            for key in ("charts", "first_paint", "first_contentful_paint")
        }
    context.close()
    assert strays == []
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chart-timings.json").write_text(json.dumps(timings, indent=2))
    print("ms from navigation, medians of 3 warm visits:", timings)
