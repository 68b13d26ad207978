"""Imports in a clinic group: new patients at the user's site, none of another's."""

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Patient, Site, User

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


def import_file(runner, tmp_path, rows: str):
    path = tmp_path / "trials.csv"
    path.write_text(HEADER + rows)
    return runner.invoke(args=["import-trials", str(path), "--user", "nina"])


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


def test_a_user_of_two_sites_is_told_the_import_cannot_choose(app, runner, tmp_path):
    north_therapist(app, also_main=True)
    result = import_file(runner, tmp_path, "PF-N1,2026-01-05,insole,squat,6,2\n")
    assert result.exit_code != 0
    assert "You work at several sites" in result.output
