"""The demo-data command: a populated app for a new user, kept off real records."""

import random

from tracker.cli.demo import make_demo_patient
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
