"""``demo-data``: realistic made-up patients to try the tracker with."""

import random
from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

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
    click.echo(
        f"Demo data added: {counts['patient']} patients, {counts['trial']} trials, "
        f"{counts['follow_up']} follow-ups in the database."
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


def make_demo_patient(rng: random.Random, number: int) -> Patient:
    """A made-up patient with one to three trials and, mostly, a follow-up.

    Roughly a third of those with immediate relief and a tenth of the rest
    improve markedly, so the rule has something to show.
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
        if follow_up_date > today or rng.random() < 0.2:
            continue
        relief = pain_without > 0 and immediate_relief(pain_without, pain_with)
        improved = rng.random() < (0.4 if relief else 0.12)
        rating = "markedly_improved" if improved else rng.choice(GLOBAL_RATINGS[:4])
        trial.follow_ups.append(
            FollowUp(
                follow_up_date=follow_up_date,
                pain=max(0, pain_without - rng.randint(0, 4)),
                still_using=improved or rng.random() < 0.3,
                global_rating=rating,
            )
        )
    return patient
