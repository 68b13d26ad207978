"""Browser journeys: the app on a real HTTP server, driven in Debian's Chromium.

Chromium comes from Debian's package (``.ci/run`` installs it), never from
``playwright install``. Without it these tests are skipped, unless
``E2E_REQUIRED`` is set, as in CI, where a missing browser is a failure.
"""

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from bench.browser import LAUNCH_ARGS

CHROMIUM = shutil.which("chromium") or "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
WIDTHS = {"tablet": 768, "desktop": 1280}


def pytest_collection_modifyitems(items):
    if Path(CHROMIUM).exists() or os.environ.get("E2E_REQUIRED"):
        return
    skip = pytest.mark.skip(reason="Debian's chromium is not installed")
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, with nothing reaching for the network."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # The benchmark's Chromium, as a clinic's browser would read the pages.
        "args": [*LAUNCH_ARGS, "--lang=en-GB"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "UTC"}


def closing_responses(app):
    """Close every response, even one whose connection the browser dropped.

    Werkzeug's development server skips a response's close() when the
    browser resets the connection mid-file (it navigated on), leaving the
    file to the garbage collector and a ResourceWarning to a later test. A
    generator's ``finally`` runs as soon as the server lets go of it.
    """

    def serve(environ, start_response):
        response = app(environ, start_response)

        def body():
            try:
                yield from response
            finally:
                if hasattr(response, "close"):
                    response.close()

        return body()

    return serve


@pytest.fixture
def live_server(app, make_app):
    """The app with CSRF on, served over HTTP on 127.0.0.1 by a thread."""
    app = make_app(WTF_CSRF_ENABLED=True, TESTING=False)
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(autouse=True)
def only_localhost(request):
    """Fail the journey if the browser asks anything of another host."""
    if "context" not in request.fixturenames:
        yield
        return
    context = request.getfixturevalue("context")
    strays = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            strays.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield
    assert strays == [], f"requests left 127.0.0.1: {strays}"


@pytest.fixture
def screenshot(page):
    """Save the page at tablet and desktop width under test-artifacts/."""

    def take(name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        size = page.viewport_size
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 1000})
            page.wait_for_timeout(400)  # responsive charts redraw after a resize
            page.screenshot(path=ARTIFACTS / f"{name}-{label}.png", full_page=True)
        page.set_viewport_size(size)

    return take


@pytest.fixture
def axe_check(page):
    """Fail on any accessibility violation axe-core finds, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check():
        results = axe.run(page)
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} "
            f"{[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"]
        ]
        assert violations == [], f"{page.url}: {violations}"

    return check
