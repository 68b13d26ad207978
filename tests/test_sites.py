"""Sites: the admin's pages and commands, users' sites, and the site filter."""

import json

import sqlalchemy as sa

from tests.helpers import PASSWORD
from tracker.extensions import db
from tracker.models import AuditEvent, Patient, Site, User


def site_rows(app) -> list[tuple[str, bool]]:
    with app.app_context():
        sites = db.session.scalars(sa.select(Site).order_by(Site.id))
        return [(site.name, site.retired) for site in sites]


def actions(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.table_name == "site")
            )
        )


def test_an_admin_adds_renames_and_retires_a_site_and_each_is_audited(
    app, client, auth
):
    auth.login("admin")
    assert client.post("/admin/sites/new", data={"name": "North"}).status_code == 302
    north = site_rows(app).index(("North", False)) + 1
    client.post(f"/admin/sites/{north}", data={"name": "North Quay"})
    client.post(f"/admin/sites/{north}/retire")
    assert site_rows(app) == [("Main clinic", False), ("North Quay", True)]
    assert actions(app) == ["site_create", "site_rename", "site_retire"]
    page = client.get("/admin/sites").get_data(as_text=True)
    assert "North Quay" in page and "Retired" in page


def test_a_site_name_taken_in_any_case_or_blank_is_refused_beside_the_field(
    app, client, auth
):
    auth.login("admin")
    for name, message in (
        ("main CLINIC", "A site called Main clinic exists already."),
        ("   ", "Enter the site&#39;s name."),
        ("x" * 81, "At most 80 characters."),
    ):
        response = client.post("/admin/sites/new", data={"name": name})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    assert site_rows(app) == [("Main clinic", False)]


def test_sites_are_for_admins_only_and_an_unknown_site_is_404(client, auth):
    auth.login("therapist")
    assert client.get("/admin/sites").status_code == 403
    auth.logout()
    auth.login("admin")
    assert client.get("/admin/sites/99").status_code == 404
    assert client.post("/admin/sites/99/retire").status_code == 404


def test_create_site_and_create_user_with_sites_from_the_command_line(app, runner):
    assert runner.invoke(args=["create-site", "North"]).exit_code == 0
    assert "exists already" in runner.invoke(args=["create-site", "north"]).output
    # Two sites now: a therapist needs --site or --all-sites.
    create = ["create-user", "nina", "--role", "therapist"]
    result = runner.invoke(args=create, input=f"{PASSWORD}\n")
    assert result.exit_code != 0 and "--site NAME" in result.output
    result = runner.invoke(args=[*create, "--site", "North"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "(therapist, North) created" in result.output
    result = runner.invoke(
        args=["create-user", "rex", "--role", "reviewer", "--all-sites"],
        input=f"{PASSWORD}\n",
    )
    assert "(reviewer, every site) created" in result.output
    result = runner.invoke(
        args=["create-user", "sam", "--role", "therapist", "--site", "South"],
        input=f"{PASSWORD}\n",
    )
    assert "No open site is called 'South'" in result.output
    with app.app_context():
        nina = db.session.scalar(sa.select(User).where(User.username == "nina"))
        assert [site.name for site in nina.sites] == ["North"]


def test_an_admin_gives_a_user_sites_and_the_change_is_audited(app, client, auth):
    with app.app_context():
        db.session.add(Site(name="North"))
        db.session.commit()
        therapist = db.session.scalar(
            sa.select(User.id).where(User.username == "therapist")
        )
    auth.login("admin")
    response = client.post(
        f"/admin/users/{therapist}",
        data={"role": "therapist", "active": "y", "sites": ["1", "2"]},
    )
    assert response.status_code == 302
    response = client.post(
        f"/admin/users/{therapist}", data={"role": "therapist", "active": "y"}
    )
    assert "Choose at least one site, or every site." in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, therapist)
        assert [site.name for site in user.sites] == ["Main clinic", "North"]
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "user_update")
        ).one()
        assert event.changes["sites"] == ["Main clinic", "Main clinic, North"]


def test_a_therapist_of_two_sites_chooses_the_new_patients_site(app, client, auth):
    with app.app_context():
        north = Site(name="North")
        db.session.add(north)
        db.session.flush()
        user = db.session.scalar(sa.select(User).where(User.username == "therapist"))
        user.sites.append(north)
        db.session.commit()
    auth.login("therapist")
    form = client.get("/patients/new").get_data(as_text=True)
    assert '<select class="form-select" id="site_id"' in form or 'id="site_id"' in form
    response = client.post("/patients/new", data={"code": "PF-1", "site_id": "99"})
    assert "Choose one of your sites." in response.get_data(as_text=True)
    client.post("/patients/new", data={"code": "PF-1", "site_id": "2"})
    with app.app_context():
        assert db.session.scalars(sa.select(Patient.site_id)).all() == [2]


def test_the_site_filter_narrows_report_and_refuses_an_unknown_site(
    app, runner, records
):
    with app.app_context():
        db.session.add(Site(name="North"))
        db.session.commit()
    records.trial(records.patient(site_id=2))
    records.trial()
    whole = json.loads(runner.invoke(args=["report", "--json"]).output)
    north = json.loads(
        runner.invoke(args=["report", "--json", "--site", "north"]).output
    )
    assert (whole["overall"]["trials"], north["overall"]["trials"]) == (2, 1)
    result = runner.invoke(args=["report", "--site", "South"])
    assert result.exit_code != 0 and "None of your sites is called South" in (
        result.output
    )
