"""The trials frame carries every value as stored, whatever its range."""

from datetime import date, timedelta

import pandas as pd
import pytest

from tracker.extensions import db
from tracker.labels import ACTIVITIES, INTERVENTIONS
from tracker.models import Trial, utcnow
from tracker.reporting.filters import TrialFilters
from tracker.reporting.frames import trials_frame
from tracker.settings import clinic_settings


def test_every_small_value_survives_the_trip_from_the_database(app, users, records):
    ratings = [None, "markedly_worse", "same", "markedly_improved"]
    for number, (aid, activity) in enumerate(
        (aid, activity) for aid in INTERVENTIONS for activity in ACTIVITIES
    ):
        trial = records.trial(
            intervention=aid,
            activity=activity,
            activity_other="stairs at work" if activity == "other" else "",
            pain_without=(0, 10, 7)[number % 3],
            pain_with=(10, 0, 3, 7)[number % 4],
            trial_date=date(1969, 12, 25) + timedelta(days=number * 3),
        )
        rating = ratings[number % 4]
        if rating:
            records.follow_up(
                trial,
                weeks=12,
                global_rating=rating,
                pain=(0, 10, 4)[number % 3],
                still_using=number % 5 != 0,
            )
    with app.test_request_context():
        trials = trials_frame(TrialFilters())
        settings = clinic_settings()
        expected = []
        for trial in db.session.scalars(db.select(Trial).order_by(Trial.id)):
            outcome = trial.outcome(
                settings.follow_up_minimum_weeks, settings.follow_up_due_weeks
            )
            expected.append(
                {
                    "trial_id": trial.id,
                    "intervention": trial.intervention,
                    "activity": trial.activity,
                    "trial_date": pd.Timestamp(trial.trial_date),
                    "pain_without": trial.pain_without,
                    "pain_with": trial.pain_with,
                    "outcome_rating": outcome.global_rating if outcome else None,
                    "outcome_pain": float(outcome.pain) if outcome else None,
                    "outcome_still_using": outcome.still_using if outcome else None,
                }
            )
    assert len(trials) == len(INTERVENTIONS) * len(ACTIVITIES)
    got = trials[list(expected[0])].astype(object).where(trials.notna(), None)
    assert got.to_dict("records") == expected


@pytest.mark.parametrize("detail", [True, False])
def test_the_outcome_source_and_the_lost_mark_come_with_every_frame(
    app, records, detail
):
    voided = {"voided_at": utcnow(), "void_reason": "entered in error"}
    reported = records.trial()
    records.follow_up(reported, weeks=4, source="clinic")  # too early to count
    records.follow_up(reported, weeks=12, source="patient")
    seen = records.trial()
    records.follow_up(seen, weeks=12, source="clinic")
    records.follow_up(seen, weeks=20, source="patient")  # farther from week 12
    lost = records.trial(lost_at=utcnow(), lost_reason="moved away")
    records.follow_up(lost, weeks=12, source="patient", **voided)
    found_again = records.trial(lost_at=utcnow(), lost_reason="no answer")
    records.follow_up(found_again, weeks=11, source="clinic")
    with app.test_request_context():
        trials = trials_frame(TrialFilters(), detail=detail).set_index("trial_id")
    assert trials["outcome_source"].astype(object).where(
        trials["outcome_source"].notna(), None
    ).to_dict() == {
        reported: "patient",
        seen: "clinic",
        lost: None,
        found_again: "clinic",
    }
    assert list(trials["outcome_source"].cat.categories) == ["clinic", "patient"]
    assert trials["lost"].dtype == bool
    assert trials["lost"].to_dict() == {
        reported: False,
        seen: False,
        lost: True,
        found_again: True,
    }


def test_the_outcome_pain_and_still_using_come_with_the_summary_frame_too(app, records):
    stopped = records.trial(pain_without=7)
    records.follow_up(stopped, weeks=12, pain=5, still_using=False)
    kept_on = records.trial(pain_without=4)
    records.follow_up(kept_on, weeks=12, pain=0, still_using=True)
    waiting = records.trial()
    with app.test_request_context():
        trials = trials_frame(TrialFilters(), detail=False).set_index("trial_id")
    assert "activity" not in trials
    assert trials["outcome_still_using"].dtype == "boolean"
    assert trials["outcome_still_using"].astype(object).where(
        trials["outcome_still_using"].notna(), None
    ).to_dict() == {stopped: False, kept_on: True, waiting: None}
    assert trials["outcome_pain"].fillna(-1).to_dict() == {
        stopped: 5.0,
        kept_on: 0.0,
        waiting: -1,
    }
