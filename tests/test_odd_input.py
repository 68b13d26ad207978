"""Odd numbers and characters in URLs get a clear 400 or 404, never a 500."""

from urllib.parse import quote

import pytest

ODD_VALUES = (
    "9223372036854775807",  # the largest 64-bit integer
    "99999999999999999999",  # beyond it
    "1" + "0" * 39,  # a 40-digit id
    "-1",
    "0",
    "\u00b2",  # a superscript two: a digit to str.isdigit(), not to int()
    "\u0663",  # an Arabic-Indic three
    "1\r\nSet-Cookie: injected=1",
)
#: Every query parameter a page reads, numbers or not.
PARAMETERS = (
    "page",
    "record",
    "next",
    "q",
    "since",
    "until",
    "table",
    "user",
    "intervention",
    "activity",
    "therapist",
    "product",
    "unit",
    "level",
    "include_voided",
)


def rule_urls(app, value: str) -> list[tuple[str, str]]:
    """(method, URL) for every rule, its path numbers replaced by ``value``."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", quote(value, safe=""))
            path = path.replace(f"<{argument}>", quote(value, safe=""))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint != "auth.logout":
                urls.append((method, path))
    return urls


@pytest.fixture
def admin(auth, records):
    """An administrator's browser, on a clinic with a record of each kind."""
    trial = records.trial()
    records.follow_up(trial, weeks=12)
    auth.login("admin")
    return auth._client


@pytest.mark.parametrize("value", ODD_VALUES)
def test_no_url_rule_answers_500_to_odd_numbers(app, admin, value):
    answers = {}
    for method, path in rule_urls(app, value):
        query = "&".join(f"{name}={quote(value, safe='')}" for name in PARAMETERS)
        for url in (path, f"{path}?{query}"):
            response = admin.open(url, method=method)
            answers[(method, url)] = response.status_code
            if response.is_streamed:
                response.get_data()  # a stream that breaks mid-way counts too
            response.close()
    assert [key for key, code in answers.items() if code >= 500] == []
    assert "injected" not in " ".join(
        header for _, header in admin.get("/patients/").headers
    )


@pytest.mark.parametrize(
    "url",
    [
        "/patients/?page=9223372036854775807",
        "/trials/?page=99999999999999999999",
        "/follow-ups/due?page=-1",
        "/admin/audit?record=99999999999999999999",
        "/admin/audit?record=%C2%B2",
        "/admin/audit?page=%D9%A3",
        "/exports/audit.csv?record=" + "1" * 40,
    ],
)
def test_an_out_of_range_number_is_a_400_that_says_which(admin, url):
    response = admin.get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert f"{name!r} must be a whole number" in response.text.replace("&#39;", "'")


def test_numbers_in_range_still_work(admin, records):
    assert admin.get("/patients/?page=1").status_code == 200
    assert admin.get("/patients/?page=999").status_code == 200  # empty page
    assert admin.get("/admin/audit?record=1&table=trial").status_code == 200
    assert admin.get("/admin/audit?record=").status_code == 200  # blank: no filter


def test_a_login_with_a_line_break_in_next_goes_home(client, users):
    response = client.post(
        "/auth/login?next=/patients/%0D%0ASet-Cookie:%20injected=1",
        data={"username": "therapist", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert "injected" not in response.headers.get("Location", "")
    assert "injected" not in response.headers.get("Set-Cookie", "").split(";")[0]
