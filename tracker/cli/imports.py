"""``import-trials``: past trials from a CSV trial file."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import csvio
from .options import existing_user, user_option


@click.command("import-trials")
@with_appcontext
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
)
@user_option()
@click.option("--dry-run", is_flag=True, help="Check the file; write nothing.")
@click.option(
    "--site",
    metavar="NAME",
    help="The site the file is for: its new patients go there, and rows of "
    "another site are refused (needed by users of several sites unless each "
    "row names its site).",
)
@click.pass_context
def import_trials(ctx, file: Path, username: str, dry_run: bool, site: str | None):
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
            site=site,
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
