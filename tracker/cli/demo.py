"""``demo-data``: realistic made-up patients to try the tracker with."""

import random
from datetime import UTC, date, datetime, time, timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from analysis.follow_up import FollowUpStatus, follow_up_status
from analysis.rule import GLOBAL_RATINGS, immediate_relief

from .. import audit
from ..extensions import db
from ..labels import ACTIVITIES
from ..models import FollowUp, Patient, Trial
from .database import record_counts
from .options import existing_user, user_option


@click.command("demo-data")
@with_appcontext
@user_option()
@click.option(
    "--patients", default=40, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option(
    "--force", is_flag=True, help="Add demo data even where real records exist."
)
def demo_data(username: str, patients: int, seed: int, force: bool):
    """Fill the database with realistic made-up patients, trials and follow-ups."""
    user = existing_user(username)
    if not force and db.session.scalar(sa.select(Patient.id).limit(1)) is not None:
        raise click.ClickException(
            "The database already holds patients; demo data would mix with them. "
            "Use --force to add it anyway."
        )
    rng = random.Random(seed)
    with (
        audit.acting_as(user),
        click.progressbar(range(patients), label="Adding demo patients") as bar,
    ):
        for number in bar:
            db.session.add(make_demo_patient(rng, number))
            if number % 500 == 499:
                db.session.commit()
        db.session.commit()
    counts = record_counts()
    reported = db.session.scalar(
        sa.select(sa.func.count(FollowUp.id)).where(FollowUp.source == "patient")
    )
    lost = db.session.scalar(
        sa.select(sa.func.count(Trial.id)).where(Trial.lost_at.is_not(None))
    )
    click.echo(
        f"Demo data added: {counts['patient']} patients, {counts['trial']} trials, "
        f"{counts['follow_up']} follow-ups ({reported} reported by the patient), "
        f"{lost} trials lost to follow-up in the database."
    )


DEMO_PRODUCTS = {
    "insole": [
        "prefabricated full-length insole, medial wedge",
        "off-the-shelf 3/4 orthosis",
    ],
    "taping": ["McConnell patellar taping", "kinesiology tape"],
    "brace": ["patellar stabilising sleeve", "infrapatellar strap"],
}
DEMO_ACTIVITIES = [a for a in ACTIVITIES if a != "other"]
#: Why a therapist gave up on an outcome, as they write it on the lost form.
DEMO_LOST_REASONS = [
    "Moved away; no reply to two calls",
    "Did not come back after the first visit",
    "Phone number no longer in use",
    "Stopped treatment and asked not to be contacted",
]


def make_demo_patient(rng: random.Random, number: int) -> Patient:
    """A made-up patient with one to three trials and, mostly, a follow-up.

    Roughly a third of those with immediate relief and a tenth of the rest
    improve markedly, so the rule has something to show. About a third of
    the follow-ups from week 10 on were reported by the patient by link; of
    the trials left overdue without an outcome, two in five were marked lost
    with a reason, so the dashboard's completeness has every status to show.
    """
    today = date.today()
    patient = Patient(
        code=f"DEMO-{number + 1:05d}",
        birth_year=today.year - rng.randint(14, 60),
        sex=rng.choice(["female", "female", "male"]),
        affected_side=rng.choice(["left", "right", "both"]),
    )
    for _ in range(rng.randint(1, 3)):
        intervention = rng.choice(list(DEMO_PRODUCTS))
        pain_without = rng.choice([0, *range(2, 9)])
        pain_with = max(0, min(10, pain_without - rng.choice([-1, 0, 0, 1, 1, 2, 3])))
        trial = Trial(
            trial_date=today - timedelta(days=rng.randint(0, 400)),
            intervention=intervention,
            product=rng.choice(DEMO_PRODUCTS[intervention]),
            activity=rng.choice(DEMO_ACTIVITIES),
            pain_without=pain_without,
            pain_with=pain_with,
        )
        patient.trials.append(trial)
        weeks = rng.choice([2, 6, 10, 12, 12, 13, 16])
        follow_up_date = trial.trial_date + timedelta(weeks=weeks)
        if follow_up_date <= today and rng.random() >= 0.2:
            trial.follow_ups.append(make_demo_follow_up(rng, trial, follow_up_date))
        # The clinic's default weeks: an outcome from week 6, due at week 12.
        has_outcome = bool(trial.follow_ups) and weeks >= 6
        status = follow_up_status(trial.trial_date, has_outcome, False, today)
        if status is FollowUpStatus.OVERDUE and rng.random() < 0.4:
            lost_on = trial.trial_date + timedelta(weeks=rng.randint(17, 20))
            trial.lost_at = datetime.combine(min(lost_on, today), time(12), UTC)
            trial.lost_reason = rng.choice(DEMO_LOST_REASONS)
    return patient


def make_demo_follow_up(
    rng: random.Random, trial: Trial, follow_up_date: date
) -> FollowUp:
    """A follow-up of ``trial``; from week 10 on, often the patient's own report."""
    pain_without, pain_with = trial.pain_without, trial.pain_with
    relief = pain_without > 0 and immediate_relief(pain_without, pain_with)
    improved = rng.random() < (0.4 if relief else 0.12)
    rating = "markedly_improved" if improved else rng.choice(GLOBAL_RATINGS[:4])
    by_link = (follow_up_date - trial.trial_date).days >= 70 and rng.random() < 0.35
    return FollowUp(
        follow_up_date=follow_up_date,
        pain=max(0, pain_without - rng.randint(0, 4)),
        still_using=improved or rng.random() < 0.3,
        global_rating=rating,
        source="patient" if by_link else "clinic",
    )
