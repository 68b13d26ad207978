"""``report`` and ``export``: the dashboard's numbers and the CSV files."""

import getpass
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import csvio
from ..settings import clinic_settings
from ..storage import database
from .options import FILTER_NAMES, existing_user, filter_options, filters_from_options


@click.command("report")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="The JSON of GET /api/summary.")
@filter_options(unit=True)
def report(as_json: bool, **options):
    """Print the dashboard's numbers: rates per aid against the band, the rule check."""
    import json

    from ..reporting.report_text import report_lines
    from ..reporting.summary import summary

    database.write_intent.set(False)
    result = summary(filters_from_options(options))
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
@filter_options()
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
    the_export.finish(user, via="command line", os_user=getpass.getuser())
    if out is not None:
        click.echo(f"Wrote {the_export.count} rows to {out}.")


def _build_export(kind, level, include_voided, values) -> csvio.Export:
    """The export the options ask for, or a usage error."""
    if kind == "audit":
        if (
            level != "full"
            or include_voided
            or any(values[key] for key in FILTER_NAMES if key not in ("since", "until"))
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
    filters = filters_from_options(values)
    make = csvio.trials_export if kind == "trials" else csvio.follow_ups_export
    return make(filters, clinic_settings(), level, include_voided)
