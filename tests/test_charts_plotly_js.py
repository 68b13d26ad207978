"""plotly.js served gzip-compressed, compressed once, with the long cache kept."""

import gzip
import re

import pytest

from tracker.dashboard import views

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


@pytest.fixture
def plotly_url(client, auth):
    auth.login("therapist")
    return f"/dashboard/plotly-{views.PLOTLY_VERSION}.min.js"


def get(client, url, **headers):
    response = client.get(url, headers=headers)
    body = response.get_data()
    response.close()
    return response, body


def test_plotly_js_is_sent_gzipped_to_browsers_that_take_it(client, plotly_url):
    response, body = get(client, plotly_url, **{"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers.getlist("Vary")[0]
    assert response.mimetype == "text/javascript"
    assert response.cache_control.max_age >= 30 * 24 * 3600
    assert response.content_length == len(body) < views.PLOTLY_JS.stat().st_size / 3
    assert gzip.decompress(body) == views.PLOTLY_JS.read_bytes()


def test_plotly_js_is_sent_plain_without_gzip_in_accept_encoding(client, plotly_url):
    for headers in (
        {},
        {"Accept-Encoding": "identity"},
        {"Accept-Encoding": "gzip;q=0"},
    ):
        response, body = get(client, plotly_url, **headers)
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers, headers
        assert "Accept-Encoding" in response.headers.get("Vary", "")
        assert response.cache_control.max_age >= 30 * 24 * 3600
        assert body == views.PLOTLY_JS.read_bytes()


def test_plotly_js_is_compressed_once_not_per_request(client, plotly_url, monkeypatch):
    calls = []
    compress = gzip.compress
    monkeypatch.setattr(
        views.gzip, "compress", lambda *a, **k: calls.append(1) or compress(*a, **k)
    )
    monkeypatch.setattr(views, "_gzipped", None)
    first = [get(client, plotly_url, **{"Accept-Encoding": "gzip"})[1]]
    first += [get(client, plotly_url, **{"Accept-Encoding": "gzip"})[1] for _ in "ab"]
    assert len(calls) == 1
    assert first[0] == first[1] == first[2]


def test_the_gzipped_copy_answers_revalidation_with_304(client, plotly_url):
    response, _ = get(client, plotly_url, **{"Accept-Encoding": "gzip"})
    etag = response.headers["ETag"]
    plain, _ = get(client, plotly_url)
    assert plain.headers["ETag"] != etag  # the two bodies differ, so do their tags
    again, body = get(
        client, plotly_url, **{"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert body == b""


@pytest.mark.parametrize("page", ["dashboard", "patient"])
def test_chart_scripts_are_deferred_plotly_first_with_the_nonce(
    client, auth, records, page
):
    patient = records.patient()
    records.trial(patient)
    auth.login("admin")
    path = "/dashboard/" if page == "dashboard" else f"/patients/{patient}"
    html = client.get(path).text
    scripts = [
        attributes
        for attributes in SCRIPT.findall(html)
        if "plotly" in attributes or "charts.js" in attributes
    ]
    assert len(scripts) == 2
    plotly, charts = scripts
    assert "plotly" in plotly and "charts.js" in charts
    for attributes in scripts:
        assert re.search(r"\bdefer\b", attributes), attributes
        assert "nonce=" in attributes
