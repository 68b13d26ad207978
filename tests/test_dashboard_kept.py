"""The dashboard's kept trials frame: read once, then only what changed."""

from datetime import date, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

import tracker.dashboard.kept as kept
from tests import helpers
from tracker.extensions import db
from tracker.models import AuditEvent, Trial
from tracker.reporting.filters import parse_filters
from tracker.reporting.frames import trials_frame
from tracker.settings import clinic_settings


@pytest.fixture
def clinic(records):
    today = date.today()
    patients = [records.patient() for _ in range(4)]
    trials = []
    for number in range(12):
        trial = records.trial(
            patients[number % 4],
            intervention=("insole", "taping", "brace")[number % 3],
            pain_without=6,
            pain_with=2 + number % 5,
            trial_date=today - timedelta(days=100 + number),
        )
        if number % 2:
            records.follow_up(trial, weeks=12, global_rating="markedly_improved")
        trials.append(trial)
    return {"patients": patients, "trials": trials}


@pytest.fixture
def reads(monkeypatch):
    """The number of rows each read of trial columns gave."""
    sizes = []

    def counting(query):
        columns = read_columns(query)
        sizes.append(len(columns["trial_id"]))
        return columns

    read_columns = kept.read_columns
    monkeypatch.setattr(kept, "read_columns", counting)
    return sizes


def frames(app, **args) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The kept frame and a fresh read of the same view, both sorted by trial."""
    with app.test_request_context():
        filters = parse_filters(args)
        settings = clinic_settings()
        current = kept.current_trials_frame(filters, settings)
        fresh = trials_frame(filters, settings)
        db.session.rollback()
    return current.reset_index(drop=True), fresh.reset_index(drop=True)


def assert_up_to_date(app, **args) -> pd.DataFrame:
    current, fresh = frames(app, **args)
    pd.testing.assert_frame_equal(current, fresh)
    return current


def follow_up_form(**overrides) -> dict:
    ten_days_ago = (date.today() - timedelta(days=10)).isoformat()
    return helpers.follow_up_form(follow_up_date=ten_days_ago, pain="1") | overrides


def test_changes_through_the_app_are_read_again_alone(app, client, auth, clinic, reads):
    auth.login("admin")
    first, second = clinic["trials"][:2]
    assert len(assert_up_to_date(app)) == 12
    assert reads == [12]

    client.post(
        f"/trials/{first}/follow-ups/new", data=follow_up_form(global_rating="same")
    )
    assert_up_to_date(app)
    assert reads[-1] == 1  # only the trial with the new follow-up

    client.post(f"/trials/{second}/void", data={"reason": "entered twice"})
    assert len(assert_up_to_date(app)) == 11
    assert reads[-1] == 0  # read again, and no longer shown

    patient = clinic["patients"][2]
    client.post(f"/patients/{patient}/void", data={"reason": "wrong clinic"})
    assert len(assert_up_to_date(app)) == 8
    assert reads[-1] == 0

    assert_up_to_date(app)
    assert len(reads) == 4  # nothing changed: nothing read


def test_rows_added_outside_the_app_are_seen(app, clinic, records, reads):
    assert_up_to_date(app)
    records.trial(pain_with=6)
    records.follow_up(clinic["trials"][0], weeks=13, global_rating="markedly_worse")
    assert len(assert_up_to_date(app)) == 13
    assert reads[-1] == 2


def test_each_filter_keeps_its_own_frame(app, client, auth, clinic, reads):
    auth.login("admin")
    assert len(assert_up_to_date(app, intervention="brace")) == 4
    assert len(assert_up_to_date(app)) == 12
    client.post(f"/trials/{clinic['trials'][2]}/void", data={"reason": "test"})
    assert len(assert_up_to_date(app, intervention="brace")) == 3
    assert len(assert_up_to_date(app, unit="trial")) == 11
    assert reads == [4, 12, 0, 0]  # the voided trial, read again, is left out


def test_a_change_committed_after_a_newer_one_is_still_seen(app, clinic, reads):
    """On PostgreSQL an audit id below the newest can commit later (see kept.py)."""
    assert_up_to_date(app)
    late, early = clinic["trials"][:2]
    with app.app_context():
        newest = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
        # The later transaction commits first, leaving a gap in the audit ids...
        _change_behind_the_app(early, pain_with=6, audit_id=newest + 3)
    assert_up_to_date(app)
    with app.app_context():
        # ...which the earlier one fills when it commits.
        _change_behind_the_app(late, pain_with=6, audit_id=newest + 1)
    current = assert_up_to_date(app)
    assert reads[-1] == 1
    changed = current["trial_id"].isin([late, early])
    assert (current.loc[changed, "pain_with"] == 6).all()


def _change_behind_the_app(trial_id: int, pain_with: int, audit_id: int) -> None:
    """Change a trial and write its audit row with a chosen id, as a slow commit."""
    db.session.execute(
        sa.update(Trial).where(Trial.id == trial_id).values(pain_with=pain_with)
    )
    db.session.execute(
        sa.insert(AuditEvent).values(
            id=audit_id,
            action="update",
            table_name=Trial.__tablename__,
            record_id=trial_id,
            changes={"pain_with": [None, pain_with]},
        )
    )
    db.session.commit()


def test_many_changes_read_everything_again(app, clinic, records, reads, monkeypatch):
    monkeypatch.setattr(kept, "MOST_CHANGES", 2)
    assert_up_to_date(app)
    for _ in range(3):
        records.trial()
    assert len(assert_up_to_date(app)) == 15
    assert reads == [12, 15]


def test_missing_ids_are_found_in_runs():
    assert kept._missing(1, 10, [1, 2, 5, 9, 12], 0.0) == [
        kept.Unseen(3, 4, 0.0),
        kept.Unseen(6, 8, 0.0),
        kept.Unseen(10, 10, 0.0),
    ]
    assert kept._missing(4, 6, [4, 5, 6], 0.0) == []
    assert kept._missing(5, 4, [], 0.0) == []


def test_marking_a_trial_lost_is_read_again_alone(app, client, auth, clinic, reads):
    auth.login("admin")
    trial = clinic["trials"][0]
    assert not assert_up_to_date(app)["lost"].any()

    response = client.post(
        f"/trials/{trial}/lost",
        data={"mark": "lost", "reason": "moved away, cannot be reached"},
    )

    assert response.status_code == 302
    current = assert_up_to_date(app)
    assert reads[-1] == 1
    assert current.loc[current["lost"], "trial_id"].tolist() == [trial]
