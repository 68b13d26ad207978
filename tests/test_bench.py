"""The bench filler and baseline work at a tiny size (correctness only, no timing)."""

from werkzeug.datastructures import MultiDict

import analysis
from bench.dashboard import baseline_query
from bench.fill import fill
from tracker.extensions import db
from tracker.filters import TrialFilterForm
from tracker.frames import trials_frame
from tracker.models import FollowUp, Patient, Trial
from tracker.settings import clinic_settings


def test_fill_writes_trials_patients_and_follow_ups(app, records):
    with app.app_context():
        filled = fill(db.engine, 200, seed=3)
    assert (filled.trials, filled.patients) == (200, 100)
    assert records.count(Trial) == 200
    assert records.count(Patient) == 100
    assert records.count(FollowUp) == filled.follow_ups > 0
    # The app's own inserts still get fresh ids after the bulk insert.
    assert records.trial() == 201


def test_baseline_counts_match_the_analysis_per_trial(app):
    with app.app_context():
        fill(db.engine, 200, seed=3)
    with app.test_request_context():
        settings = clinic_settings()
        trials = trials_frame(TrialFilterForm.from_args(MultiDict()), settings)
        rows = db.session.execute(baseline_query(settings)).all()
    assert 0 < len(trials) < 200  # voided trials are left out
    rates = analysis.response_rates(trials, unit="trial").set_index("intervention")
    for aid, count, patients, assessable, relief, followed, benefit in rows:
        row = rates.loc[aid]
        assert (count, patients, assessable) == (
            row["trials"],
            row["patients"],
            row["assessable"],
        )
        assert relief == row["immediate_relief_count"]
        assert followed == row["long_term_benefit_n"]
        assert benefit == row["long_term_benefit_count"]
