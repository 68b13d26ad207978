"""The chart pages in a real browser: navigation to charts drawn, first paint.

The app on a filled database is served over HTTP on 127.0.0.1 by a thread
and driven by headless Chromium (Debian's ``/usr/bin/chromium`` through
playwright, never ``playwright install``). Logged in, the browser opens each
page twice to warm its cache (plotly.js is kept for a year; Chromium keeps
it compiled from the second visit on), then ``repeat`` times more; each
visit reports, in milliseconds from the start of navigation:

- *charts drawn*: the ``charts-drawn`` performance mark that
  ``static/charts.js`` sets once Plotly has drawn every chart on the page;
- *first paint*: the ``first-paint`` entry of
  ``performance.getEntriesByType("paint")``;

and the medians are reported beside the issue's targets (charts within
800 ms on a warm cache, first paint under 300 ms). The patient list, a page
without charts, is measured too, for comparison. The e2e suite
(``tests/e2e/test_charts_timing.py``) records the same figures for its own
small database, without asserting any of them.

``python -m bench.browser --trials 2000`` runs it alone on a scratch SQLite
database; ``python -m bench`` runs it on the database it has filled.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import threading
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from werkzeug.serving import make_server

from bench.writes import PASSWORD, bench_app, ensure_account
from tracker.extensions import db
from tracker.models import Patient, Trial

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TARGETS = {"charts": 0.8, "first_paint": 0.3}
#: Visits before the timed ones: the HTTP cache, then V8's code cache.
WARM_UP = 2
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: Read once the page says its charts are drawn (or at once on a page without).
TIMINGS = """() => {
  const paint = Object.fromEntries(
    performance.getEntriesByType("paint").map((e) => [e.name, e.startTime])
  );
  const drawn = performance.getEntriesByName("charts-drawn")[0];
  const plotly = performance
    .getEntriesByType("resource")
    .find((e) => e.name.includes("/plotly-"));
  return {
    charts: drawn ? drawn.startTime : null,
    first_paint: paint["first-paint"] ?? null,
    first_contentful_paint: paint["first-contentful-paint"] ?? null,
    plotly_transfer_size: plotly ? plotly.transferSize : null,
  };
}"""


FIRST_PAINT = "() => performance.getEntriesByName('first-paint').length > 0"


def available() -> bool:
    """Whether playwright and Debian's Chromium are both installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def visit(page, url: str, charts: bool = True) -> dict:
    """Open ``url`` and return its timings (ms from navigation), charts drawn."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url, wait_until="commit")
    if charts:
        page.wait_for_selector("html[data-charts-drawn]", state="attached")
    else:
        page.wait_for_load_state("load")
    # Paint entries land once the frame is on screen, which may be after load.
    try:
        page.wait_for_function(FIRST_PAINT, timeout=5000)
    except PlaywrightTimeout:
        pass  # reported as None
    return page.evaluate(TIMINGS)


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for(state="attached")


@contextmanager
def served(app):
    """``app`` served over HTTP on 127.0.0.1 by a thread; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def busiest_patient() -> int:
    """The patient with the most trials: the fullest pain chart."""
    return db.session.scalar(
        sa.select(Trial.patient_id)
        .join(Patient)
        .where(Trial.voided_at.is_(None), Patient.voided_at.is_(None))
        .group_by(Trial.patient_id)
        .order_by(sa.func.count().desc(), Trial.patient_id)
        .limit(1)
    )


def measure(url: str, repeat: int = 5) -> dict[str, dict[str, float]] | None:
    """Median seconds to charts drawn and to first paint, per page.

    None when playwright or Chromium is missing. ``url`` is a filled database.
    """
    if not available():
        return None
    from playwright.sync_api import sync_playwright

    app = bench_app(url)
    with app.app_context():
        ensure_account("bench-admin", "admin")
        patient_id = busiest_patient()
    pages = {
        "dashboard": ("/dashboard/", True),
        "patient page": (f"/patients/{patient_id}", True),
        "patient list": ("/patients/", False),
    }
    with served(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        try:
            context = browser.new_context(locale="en-GB", timezone_id="UTC")
            page = context.new_page()
            log_in(page, base, "bench-admin", PASSWORD)
            runs = {name: [] for name in pages}
            for path, charts in pages.values():
                # The first visit fills the HTTP cache; Chromium keeps
                # plotly.js compiled from the second on.
                for _ in range(WARM_UP):
                    visit(page, base + path, charts)
            for _ in range(repeat):
                for name, (path, charts) in pages.items():
                    runs[name].append(visit(page, base + path, charts))
        finally:
            browser.close()
    with app.app_context():
        db.engine.dispose()
    return {
        name: {
            key: statistics.median(run[key] for run in visits) / 1000
            for key in ("charts", "first_paint")
            if all(run[key] is not None for run in visits)
        }
        for name, visits in runs.items()
    }


def main() -> None:
    from bench.dashboard import measure as fill_and_measure
    from bench.dashboard import sqlite_databases

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not available():
        raise SystemExit(f"needs playwright and Chromium at {CHROMIUM}")
    for url in sqlite_databases(args.trials):
        fill_and_measure(url, args.trials, 1, seed=1)
        figures = measure(url, args.repeat)
        print(f"{'page':<14}{'charts drawn':>14}{'first paint':>13}  (medians, s)")
        for name, times in figures.items():
            charts = f"{times['charts']:.3f}" if "charts" in times else "—"
            print(f"{name:<14}{charts:>14}{times['first_paint']:>13.3f}")
        charts, paint = TARGETS["charts"], TARGETS["first_paint"]
        print(f"targets: charts within {charts} s, first paint under {paint} s")


if __name__ == "__main__":
    main()
