"""Static files carry a digest of their content and are kept for a year."""

import re


def script_url(page: str, name: str) -> str:
    found = re.search(rf'src="(/static/{name}\?v=[0-9a-f]{{12}})"', page)
    assert found, f"no versioned {name} in the page"
    return found.group(1)


def test_static_urls_carry_a_digest_and_are_kept_a_year(client, auth):
    auth.login()
    url = script_url(client.get("/patients/").text, "tracker.js")
    with client.get(url) as response:
        assert response.status_code == 200
        cache = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache
    assert "no-cache" not in cache


def test_bootstraps_files_are_versioned_too(client, auth):
    auth.login()
    page = client.get("/patients/").text
    found = re.search(r'href="(/bootstrap/static/[^"]+\?v=[0-9a-f]{12})"', page)
    assert found, "Bootstrap's stylesheet has no digest"
    with client.get(found.group(1)) as response:
        assert "immutable" in response.headers["Cache-Control"]


def test_a_stale_or_missing_digest_gets_no_long_cache(client):
    for url in ("/static/tracker.js", "/static/tracker.js?v=000000000000"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert "immutable" not in response.headers.get("Cache-Control", "")
