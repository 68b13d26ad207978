"""The demo-data command: a populated app for a new user, kept off real records."""

import json
import random

import sqlalchemy as sa

from tracker.cli.demo import make_demo_patient
from tracker.extensions import db
from tracker.models import FollowUp, Patient, Trial


def test_demo_data_fills_an_empty_database(runner, records, users):
    result = runner.invoke(args=["demo-data", "--patients", "25", "--user", "admin"])
    assert result.exit_code == 0, result.output
    assert records.count(Patient) == 25
    assert records.count(Trial) >= 25
    assert records.count(FollowUp) > 0
    assert f"{records.count(Trial)} trials" in result.output


def test_demo_data_refuses_a_database_with_real_records(runner, records, users):
    records.patient(code="PF-0042")
    result = runner.invoke(args=["demo-data", "--patients", "5", "--user", "admin"])
    assert result.exit_code != 0
    assert "--force" in result.output
    assert records.count(Patient) == 1


def test_demo_data_with_force_adds_beside_real_records(runner, records, users):
    records.patient(code="PF-0042")
    result = runner.invoke(
        args=["demo-data", "--patients", "5", "--force", "--user", "admin"]
    )
    assert result.exit_code == 0, result.output
    assert records.count(Patient) == 6


def test_demo_data_is_reproducible_from_its_seed():
    def snapshot(seed):
        rng = random.Random(seed)
        patients = [make_demo_patient(rng, number) for number in range(20)]
        return [
            (
                patient.code,
                patient.birth_year,
                [
                    (
                        t.intervention,
                        t.activity,
                        t.pain_without,
                        t.pain_with,
                        [(f.follow_up_date, f.global_rating) for f in t.follow_ups],
                    )
                    for t in patient.trials
                ],
            )
            for patient in patients
        ]

    assert snapshot(7) == snapshot(7)
    assert snapshot(7) != snapshot(8)


def test_demo_data_rejects_a_patient_count_out_of_range(runner, records, users):
    result = runner.invoke(args=["demo-data", "--patients", "0", "--user", "admin"])
    assert result.exit_code != 0
    assert records.count(Patient) == 0


def test_demo_data_has_patient_reports_lost_trials_with_reasons_and_overdue_trials(
    app, runner, users
):
    result = runner.invoke(args=["demo-data", "--patients", "40", "--user", "admin"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        sources = dict(
            db.session.execute(
                sa.select(FollowUp.source, sa.func.count()).group_by(FollowUp.source)
            ).all()
        )
        lost_reasons = list(
            db.session.scalars(
                sa.select(Trial.lost_reason).where(Trial.lost_at.is_not(None))
            )
        )
    assert sources["patient"] > 0 and sources["clinic"] > sources["patient"]
    assert lost_reasons, "no trial is marked lost"
    assert all(reason and reason.strip() for reason in lost_reasons)
    assert f"({sources['patient']} reported by the patient)" in result.output
    assert f"{len(lost_reasons)} trials lost to follow-up" in result.output
    # The dashboard's completeness, from the same summary as report --json.
    report = runner.invoke(args=["report", "--json", "--unit", "trial"])
    assert report.exit_code == 0, report.output
    overall = json.loads(report.output)["completeness"]["overall"]
    for status in ("outcome_patient", "outcome_clinic", "overdue", "lost"):
        assert overall[status] > 0, (status, overall)


def test_demo_patient_reports_and_lost_marks_are_reproducible_from_its_seed():
    def snapshot(seed):
        rng = random.Random(seed)
        trials = [
            trial
            for number in range(40)
            for trial in make_demo_patient(rng, number).trials
        ]
        return [
            (t.lost_at, t.lost_reason, [f.source for f in t.follow_ups]) for t in trials
        ]

    assert snapshot(7) == snapshot(7)
    assert snapshot(7) != snapshot(8)
