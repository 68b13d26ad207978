"""Imports in a clinic group: new patients at the user's site, none of another's."""

import io
import re
from datetime import UTC, date, datetime

import sqlalchemy as sa

from tests.helpers import PASSWORD
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.models import SITE_NAME_MAX, Patient, Site, User

HEADER = "patient_code,trial_date,intervention,activity,pain_without,pain_with\n"


def north_therapist(app, *, also_main: bool = False) -> None:
    with app.app_context():
        north = Site(name="North")
        db.session.add(north)
        db.session.flush()
        sites = [north] + ([db.session.get(Site, 1)] if also_main else [])
        db.session.add(
            User(username="nina", role="therapist", password_hash="x", sites=sites)
        )
        db.session.commit()


def import_file(runner, tmp_path, rows: str, *options, user="nina", site_column=False):
    path = tmp_path / "trials.csv"
    header = HEADER.replace("\n", ",site\n") if site_column else HEADER
    path.write_text(header + rows)
    return runner.invoke(args=["import-trials", str(path), "--user", user, *options])


def site_of(app, code: str) -> str:
    with app.app_context():
        return db.session.scalar(
            sa.select(Site.name).join(Patient).where(Patient.code == code)
        )


def patient_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Patient.id)))


def test_new_patients_go_to_the_importing_users_site(app, runner, tmp_path):
    north_therapist(app)
    result = import_file(runner, tmp_path, "PF-N1,2026-01-05,insole,squat,6,2\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(sa.select(Patient.site_id)).all() == [2]


def test_a_row_for_another_sites_patient_is_refused_and_nothing_written(
    app, runner, records, tmp_path
):
    records.patient(code="PF-MAIN")
    north_therapist(app)
    result = import_file(
        runner,
        tmp_path,
        "PF-N1,2026-01-05,insole,squat,6,2\nPF-MAIN,2026-01-06,insole,squat,6,2\n",
    )
    assert result.exit_code != 0
    assert "line 3" in result.output
    assert "PF-MAIN is in use at another site of the group" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Patient.id))) == 1


def test_a_user_of_two_sites_is_asked_for_a_new_patients_site(app, runner, tmp_path):
    north_therapist(app, also_main=True)
    result = import_file(runner, tmp_path, "PF-N1,2026-01-05,insole,squat,6,2\n")
    assert result.exit_code != 0
    assert "line 2, column site: you work at several sites" in result.output


def test_the_site_option_places_new_patients_and_refuses_another_sites_rows(
    app, runner, records, tmp_path
):
    records.patient(code="PF-MAIN")
    north_therapist(app, also_main=True)
    rows = "PF-N1,2026-01-05,insole,squat,6,2\n"
    result = import_file(runner, tmp_path, rows, "--site", "north")
    assert result.exit_code == 0, result.output
    assert site_of(app, "PF-N1") == "North"
    result = import_file(
        runner, tmp_path, "PF-MAIN,2026-01-06,insole,squat,6,2\n", "--site", "North"
    )
    assert result.exit_code != 0
    assert (
        "line 2, column site: patient PF-MAIN belongs to Main clinic, not North"
        in result.output
    )


def test_a_site_option_the_user_does_not_have_is_refused(app, runner, tmp_path):
    north_therapist(app)
    rows = "PF-N1,2026-01-05,insole,squat,6,2\n"
    for site in ("Main clinic", "Nowhere"):
        result = import_file(runner, tmp_path, rows, "--site", site)
        assert result.exit_code != 0
        assert f"None of your open sites is called {site}." in result.output
    assert patient_count(app) == 0


def test_each_rows_site_column_places_an_admins_new_patients(
    app, runner, users, tmp_path
):
    north_therapist(app)
    rows = (
        "PF-A,2026-01-05,insole,squat,6,2,Main clinic\n"
        "PF-B,2026-01-05,insole,squat,6,2,NORTH\n"
        "PF-B,2026-01-06,taping,squat,6,2,\n"
    )
    result = import_file(runner, tmp_path, rows, user="admin", site_column=True)
    assert result.exit_code == 0, result.output
    assert (site_of(app, "PF-A"), site_of(app, "PF-B")) == ("Main clinic", "North")


def test_a_rows_site_must_be_the_users_the_imports_and_the_patients(
    app, runner, records, tmp_path
):
    records.patient(code="PF-MAIN")
    north_therapist(app, also_main=True)
    with app.app_context():
        db.session.add(Site(name="South"))
        db.session.commit()
    rows = (
        "PF-1,2026-01-05,insole,squat,6,2,South\n"
        "PF-2,2026-01-05,insole,squat,6,2,Main clinic\n"
        "PF-MAIN,2026-01-05,insole,squat,6,2,North\n"
        "PF-3,2026-01-05,insole,squat,6,2,North\n"
    )
    result = import_file(runner, tmp_path, rows, "--site", "North", site_column=True)
    assert result.exit_code != 0
    for problem in (
        "line 2, column site: none of your sites is called South",
        "line 3, column site: this row is for Main clinic; the import is for North",
        "line 4, column site: patient PF-MAIN belongs to Main clinic, not North",
    ):
        assert problem in result.output
    assert "line 5" not in result.output
    assert patient_count(app) == 1


def test_a_retired_site_takes_no_new_patients_from_an_import(
    app, runner, users, tmp_path
):
    north_therapist(app)
    with app.app_context():
        db.session.add(Site(name="Old", retired_at=datetime.now(UTC)))
        db.session.commit()
    result = import_file(
        runner,
        tmp_path,
        "PF-1,2026-01-05,insole,squat,6,2,Old\n",
        user="admin",
        site_column=True,
    )
    assert result.exit_code != 0
    assert "line 2, column site: Old is retired: it takes no new patients" in (
        result.output
    )


def test_the_upload_page_offers_a_user_of_two_sites_the_imports_site(
    app, client, auth, tmp_path
):
    north_therapist(app, also_main=True)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "nina"))
        user.password_hash = hash_password(PASSWORD)
        db.session.commit()
    auth.login("nina")
    page = client.get("/imports/trials").text
    assert '<option value="North">North</option>' in page
    preview = client.post(
        "/imports/trials",
        data={
            "site": "North",
            "file": (
                io.BytesIO(HEADER.encode() + b"PF-N1,2026-01-05,insole,squat,6,2\n"),
                "t.csv",
            ),
        },
    )
    assert "For the site" in preview.text and "North" in preview.text
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.text)
    done = client.post("/imports/trials/confirm", data={"token": token.group(1)})
    assert done.status_code == 302
    assert site_of(app, "PF-N1") == "North"
    refused = client.post(
        "/imports/trials",
        data={"site": "South", "file": (io.BytesIO(HEADER.encode()), "t.csv")},
    )
    assert "Choose one of your sites." in refused.text


def test_a_user_of_one_site_is_offered_no_choice(client, auth):
    auth.login("therapist")
    assert 'name="site"' not in client.get("/imports/trials").text


def test_a_row_already_recorded_is_skipped_whatever_site_the_import_is_for(
    app, runner, records, tmp_path
):
    patient = records.patient(code="PF-MAIN")
    records.trial(
        patient,
        trial_date=date(2026, 1, 6),
        activity="squat",
        pain_without=6,
        pain_with=2,
    )
    north_therapist(app, also_main=True)
    rows = "PF-MAIN,2026-01-06,insole,squat,6,2\nPF-N1,2026-01-07,insole,squat,6,2\n"
    result = import_file(runner, tmp_path, rows, "--site", "North")
    assert result.exit_code == 0, result.output
    assert "1 duplicates skipped" in result.output
    assert site_of(app, "PF-N1") == "North"


def test_a_user_of_no_open_site_is_told_so_and_a_long_site_cell_is_cut(
    app, runner, tmp_path
):
    north_therapist(app)
    with app.app_context():
        north = db.session.scalar(sa.select(Site).where(Site.name == "North"))
        north.retired_at = datetime.now(UTC)
        db.session.commit()
    result = import_file(runner, tmp_path, "PF-N1,2026-01-05,insole,squat,6,2\n")
    assert "line 2, column site: you work at no open site" in result.output
    long_name = "N" * 5000
    result = import_file(
        runner,
        tmp_path,
        f"PF-N1,2026-01-05,insole,squat,6,2,{long_name}\n",
        site_column=True,
    )
    assert f"none of your sites is called {'N' * SITE_NAME_MAX}…" in result.output
    assert long_name not in result.output
