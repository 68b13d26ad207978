"""Who may do what: logins, roles, and the guard on every URL."""

import re

import pytest

from tracker.models import Patient, Trial

#: The only pages open without a login: a patient's report link needs its token.
PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.code",
    "auth.setup",
    "health.healthz",
    "patient_reports.report",
    "patient_reports.thanks",
}
STATIC_ENDPOINTS = {"static", "bootstrap.static"}


def example_url(rule) -> str:
    """The rule's URL with a plausible value for each argument."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1", rule.rule)


def test_every_page_but_login_refuses_an_anonymous_request(app, client, records):
    records.follow_up(records.trial())
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS | STATIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(example_url(rule), method=method)
            assert response.status_code == 302, (rule.rule, method)
            assert "/auth/login" in response.headers["Location"], rule.rule
            checked += 1
    assert checked > 20
    assert records.count(Trial) == 1


def test_only_login_setup_health_and_report_links_are_public(app):
    public = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "public", False)
    }
    assert public <= PUBLIC_ENDPOINTS
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in public | STATIC_ENDPOINTS
        and not hasattr(view, "required_permission")
    ]
    assert undeclared == []


@pytest.mark.parametrize(
    ("role", "url", "allowed"),
    [
        ("therapist", "/patients/new", True),
        ("reviewer", "/patients/new", False),
        ("admin", "/patients/new", True),
        ("therapist", "/admin/audit", False),
        ("reviewer", "/admin/audit", True),
        ("therapist", "/admin/users", False),
        ("reviewer", "/admin/users", False),
        ("admin", "/admin/users", True),
        ("reviewer", "/admin/settings", False),
        ("admin", "/admin/settings", True),
        ("reviewer", "/patients/", True),
        ("reviewer", "/follow-ups/due", True),
    ],
)
def test_each_role_reaches_only_its_pages(auth, client, role, url, allowed):
    auth.login(role)
    response = client.get(url)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert "Your role does not allow this page." in response.text


def test_a_reviewer_cannot_change_records_even_by_direct_post(auth, client, records):
    trial = records.trial(pain_with=3)
    patient = records.patient(code="PF-9000")
    auth.login("reviewer")
    posts = [
        ("/patients/new", {"code": "PF-0001"}),
        (f"/patients/{patient}/edit", {"code": "PF-9001", "reason": "x"}),
        (f"/trials/{trial}/edit", {"pain_with": "9", "reason": "x"}),
        (f"/trials/{trial}/void", {"reason": "x"}),
        (f"/patients/{patient}/trials/new", {"pain_with": "1"}),
        ("/admin/users/new", {"username": "mallory", "role": "admin"}),
        ("/admin/settings", {"relief_criterion": "mcid"}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert records.count(Patient) == 2
    page = client.get(f"/trials/{trial}").text
    assert "3 / 10" in page
    assert "Edit trial" not in page


def test_a_therapist_sees_no_admin_links(auth, client):
    auth.login("therapist")
    page = client.get("/patients/").text
    assert "Add a patient" in page
    assert "/admin/users" not in page
    assert "/admin/audit" not in page
