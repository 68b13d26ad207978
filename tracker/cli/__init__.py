"""The ``flask --app tracker`` commands."""

import getpass
import random
import sqlite3
import sys
from datetime import date, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict

from analysis.rule import GLOBAL_RATINGS, immediate_relief

from .. import audit, csvio
from ..auth.forms import PASSWORD_MIN
from ..auth.passwords import hash_password
from ..extensions import db
from ..models import ACTIVITIES, ROLES, FollowUp, Patient, Trial, User
from ..reporting.filters import TrialFilterForm
from ..settings import clinic_settings
from ..storage import database
from ..storage.schema import upgrade_database

RECORD_TABLES = (Patient, Trial, FollowUp)


def register(app: Flask) -> None:
    """Add the commands to the app's command line."""
    commands = (init_db, backup, demo_data, create_user, report, export, import_trials)
    for command in commands:
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the database or apply the migrations it lacks (safe to repeat)."""
    upgrade_database()
    click.echo("Database is up to date.")


def record_counts() -> dict[str, int]:
    """How many rows each clinical table holds."""
    return {
        model.__tablename__: db.session.scalar(
            sa.select(sa.func.count()).select_from(model)
        )
        for model in RECORD_TABLES
    }


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(path: Path):
    """Copy the live SQLite database to PATH and check the copy."""
    if db.engine.dialect.name != "sqlite":
        raise click.ClickException(
            "This database is not SQLite: back it up with pg_dump "
            "(e.g. pg_dump --format=custom --file=tracker.dump DBNAME)."
        )
    if path.exists():
        raise click.ClickException(f"{path} exists already; choose a new file name.")
    source_path = db.engine.url.database
    # The online-backup API copies a consistent snapshot while others write.
    with sqlite3.connect(source_path) as source, sqlite3.connect(path) as target:
        source.execute("PRAGMA busy_timeout=5000")
        source.backup(target)
    with sqlite3.connect(path) as copy:
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
        counts = {
            model.__tablename__: copy.execute(
                f'SELECT count(*) FROM "{model.__tablename__}"'
            ).fetchone()[0]
            for model in RECORD_TABLES
        }
    if integrity != "ok":
        raise click.ClickException(f"The copy failed its integrity check: {integrity}")
    click.echo(f"Backed up to {path}: integrity ok.")
    for table, count in counts.items():
        click.echo(f"  {table}: {count} rows")


def existing_user(username: str) -> User:
    """The active account named by ``--user``, or a usage error."""
    user = db.session.scalar(
        sa.select(User).where(User.username == username, User.active)
    )
    if user is None:
        raise click.BadParameter(
            f"no active user named {username!r}", param_hint="--user"
        )
    return user


def user_option():
    """``--user NAME``: the account a data-changing command is audited under."""
    return click.option(
        "--user",
        "username",
        required=True,
        help="An existing account; the changes are audited under it.",
    )


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
def create_user(username: str, role: str):
    """Create an account; the password is read from a prompt or standard input."""
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise click.ClickException(f"A user named {username!r} exists already.")
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=sys.stdin.isatty()
    )
    if len(password) < PASSWORD_MIN:
        raise click.ClickException(f"Use at least {PASSWORD_MIN} characters.")
    user = User(username=username, role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.log_event(
        "user_create", {"username": username, "role": role, "via": "cli"}, user=user
    )
    db.session.commit()
    click.echo(f"User {username} ({role}) created.")


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


@click.command("report")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="The JSON of GET /api/summary.")
@click.option("--since", help="First trial date (YYYY-MM-DD).")
@click.option("--until", help="Last trial date (YYYY-MM-DD).")
@click.option("--intervention", help="insole, taping or brace.")
@click.option("--activity", help="One of the provoking activities, e.g. stairs_down.")
@click.option("--therapist", help="The user name that recorded the trials.")
@click.option("--product", help="The product name, as recorded.")
@click.option("--unit", help="patient (default) or trial.")
def report(as_json: bool, **options):
    """Print the dashboard's numbers: rates per aid against the band, the rule check."""
    import json

    from werkzeug.datastructures import MultiDict

    from ..reporting.filters import TrialFilterForm
    from ..reporting.summary import report_lines, summary
    from ..storage import database

    database.write_intent.set(False)
    given = MultiDict({name: value for name, value in options.items() if value})
    filters = TrialFilterForm.from_args(given)
    if filters.errors:
        problems = "; ".join(
            f"--{name}: {' '.join(messages)}"
            for name, messages in filters.errors.items()
        )
        raise click.UsageError(f"Invalid filters: {problems}")
    result = summary(filters)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo("\n".join(report_lines(result)))


@click.command("export")
@with_appcontext
@click.argument("kind", type=click.Choice(csvio.KINDS))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option("--since", help="Trials (or audit events) from this date, YYYY-MM-DD.")
@click.option("--until", help="Up to and including this date, YYYY-MM-DD.")
@click.option("--intervention", help="insole, taping or brace.")
@click.option("--activity", help="An activity code, e.g. single_leg_squat.")
@click.option("--therapist", help="Trials recorded by this user name.")
@click.option("--product", help="Trials of this product name, as recorded.")
@click.option(
    "--level",
    type=click.Choice(csvio.LEVELS),
    default="full",
    show_default=True,
    help="de-identified: no free text, no dates, age bands.",
)
@click.option("--include-voided", is_flag=True, help="Keep voided records (full).")
@click.option(
    "--user",
    "username",
    help="An existing account the export is audited under (optional; the "
    "operating-system user is always recorded).",
)
def export(kind, out, level, include_voided, username, **filter_values):
    """Write the trials, follow-ups or audit trail as CSV; the export is audited."""
    # Read without taking SQLite's write lock; the audit row is written after.
    database.write_intent.set(False)
    user = existing_user(username) if username else None
    the_export = _build_export(kind, level, include_voided, filter_values)
    if out is None:
        the_export.write_to(sys.stdout)
    else:
        with (
            out.open("w", encoding="utf-8", newline="") as stream,
            click.progressbar(
                length=the_export.total() or 0, label=f"Exporting {kind}"
            ) as bar,
        ):
            the_export.write_to(stream, lambda count: bar.update(count - bar.pos))
    db.session.rollback()
    database.write_intent.set(True)
    the_export.log(user, via="command line", os_user=getpass.getuser())
    db.session.commit()
    if out is not None:
        click.echo(f"Wrote {the_export.count} rows to {out}.")


def _build_export(kind, level, include_voided, values) -> csvio.Export:
    """The export the options ask for, or a usage error."""
    if kind == "audit":
        if (
            level != "full"
            or include_voided
            or any(
                values[key]
                for key in ("intervention", "activity", "therapist", "product")
            )
        ):
            raise click.UsageError(
                "The audit export takes only --since, --until and --user, "
                "and is full level."
            )
        return csvio.audit_export(
            {"since": values["since"] or "", "until": values["until"] or ""}
        )
    if include_voided and level != "full":
        raise click.UsageError("Voided records are only in full exports.")
    filters = TrialFilterForm.from_args(
        MultiDict({key: value for key, value in values.items() if value})
    )
    if filters.errors:
        raise click.UsageError(
            " ".join(
                f"--{name}: {messages[0]}" for name, messages in filters.errors.items()
            )
        )
    make = csvio.trials_export if kind == "trials" else csvio.follow_ups_export
    return make(filters, clinic_settings(), level, include_voided)


@click.command("import-trials")
@with_appcontext
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@user_option()
@click.option("--dry-run", is_flag=True, help="Check the file; write nothing.")
@click.pass_context
def import_trials(ctx, file: Path, username: str, dry_run: bool):
    """Import past trials from a CSV trial file: every row, or none."""
    user = existing_user(username)
    size = file.stat().st_size
    with (
        file.open("rb") as stream,
        click.progressbar(length=size, label=f"Reading {file.name}") as bar,
    ):
        report = csvio.import_trials(
            stream,
            file.name,
            user,
            dry_run=dry_run,
            progress=lambda position: bar.update(position - bar.pos),
        )
    click.echo(
        f"{report.rows} rows read: {report.accepted} accepted "
        f"({report.new_patients} new patients, {report.follow_ups} follow-ups), "
        f"{len(report.duplicates)} duplicates skipped, {report.refused} refused."
    )
    for duplicate in report.duplicates:
        click.echo(str(duplicate))
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.written:
        click.echo(f"Written in one transaction, audited under {username}.")
    elif dry_run and report.ok:
        click.echo("Dry run: the file is fine; nothing was written.")
    else:
        click.echo("Nothing was written.", err=True)
        ctx.exit(1)
