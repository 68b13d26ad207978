"""``report-links``: the patients' report links as CSV, for a clinic's own messages."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from analysis.follow_up import FollowUpStatus

from .. import audit
from ..csvio.cells import formula_guard
from ..csvio.streaming import Export
from ..extensions import db
from ..patient_reports import links
from ..settings import ClinicSettings, clinic_settings
from ..trials.due import DueFilters, due_query, status_of
from .options import existing_user

#: What ``--status`` lists: never trials with an outcome or marked lost.
STATUSES = {
    "due": (FollowUpStatus.DUE,),
    "overdue": (FollowUpStatus.OVERDUE,),
    "all": (FollowUpStatus.AWAITING, FollowUpStatus.DUE, FollowUpStatus.OVERDUE),
}
HEADER = ("patient_code", "trial_id", "trial_date", "aid", "due_date", "status", "link")


@click.command("report-links")
@with_appcontext
@click.option(
    "--status",
    type=click.Choice(list(STATUSES)),
    default="due",
    show_default=True,
    help="Which trials without an outcome: due, overdue, or all (awaiting too); "
    "never those marked lost.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="The address the links start with, e.g. https://physio.example.org "
    "(default: the PUBLIC_URL setting).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A new file to write, readable by its owner only (default: standard output).",
)
@click.option(
    "--user",
    "username",
    help="An existing account the new links and the export are audited under "
    "(optional; the operating-system user is always recorded).",
)
def report_links(status: str, base_url: str | None, out: Path | None, username):
    """Write the report links of trials still without an outcome as CSV; audited.

    A trial without an open link gets one. Trials whose links' last day has
    passed are left out.
    """
    base = _base_url(base_url)
    if out is not None and out.exists():
        raise click.ClickException(f"{out} exists already; choose a new file name.")
    user = existing_user(username) if username else None
    settings, today = clinic_settings(), date.today()
    with _output(out) as stream:
        with audit.acting_as(user) if user else nullcontext():
            rows, created, expired = _rows(STATUSES[status], settings, today, base)
        # The new links are kept before any is written out.
        db.session.commit()
        the_export = Export(
            "report_links",
            "full",
            HEADER,
            rows,
            details={"status": status, "links_created": created, "expired": expired},
        )
        the_export.write_to(stream)
    the_export.finish(user, via="command line", os_user=getpass.getuser())
    where = f" to {out}" if out is not None else ""
    click.echo(
        f"Wrote {_count(the_export.count, 'report link')}{where} ({len(created)} new).",
        err=True,
    )
    if expired:
        click.echo(
            f"Left out {_count(expired, 'trial')} whose links' last day has passed "
            f"({settings.report_link_weeks} weeks after the trial).",
            err=True,
        )


def _base_url(given: str | None) -> str:
    """``--base-url`` or ``PUBLIC_URL``; a usage error (exit status 2) if neither."""
    base = given or current_app.config.get("PUBLIC_URL")
    if not base:
        raise click.UsageError(
            "No address for the links: give --base-url https://... or set "
            "PUBLIC_URL (see docs/deployment.md, 'Sending report links')."
        )
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.UsageError(
            f"{base!r} is not a web address: it starts with https:// (or http://)."
        )
    return base


def _rows(
    statuses, settings: ClinicSettings, today: date, base: str
) -> tuple[list[tuple], list[int], int]:
    """The CSV rows, the ids of the links made, and how many trials were left out."""
    query = due_query(DueFilters(statuses=statuses), settings, today).add_columns(
        status_of(settings, today)
    )
    due_after = timedelta(weeks=settings.follow_up_due_weeks)
    rows, created, expired = [], [], 0
    for trial, status in db.session.execute(query):
        if today > links.expires_on(trial, settings):
            expired += 1
            continue
        link = links.open_link(trial)
        if link is None:
            link = links.create_link(trial)
            created.append(link.id)
        url = links.public_url(links.token_for(link), base)
        rows.append(
            (
                formula_guard(trial.patient.code),
                trial.id,
                trial.trial_date.isoformat(),
                trial.intervention,
                (trial.trial_date + due_after).isoformat(),
                status,
                formula_guard(url),
            )
        )
    return rows, created, expired


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    """Standard output, or a new file private from the start, in place once whole.

    The file is written under a draft name and linked into place, like a
    backup: a failure leaves nothing, and a file that appeared meanwhile is
    never replaced.
    """
    if out is None:
        yield sys.stdout
        return
    draft = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        stream = os.fdopen(
            os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
            "w",
            encoding="utf-8",
            newline="",
        )
    except OSError as error:
        raise click.ClickException(
            f"{out} cannot be written: {_reason(error)}."
        ) from None
    try:
        with stream:
            yield stream
        os.link(draft, out)
    except FileExistsError:
        raise click.ClickException(
            f"{out} exists already; choose a new file name."
        ) from None
    except OSError as error:
        raise click.ClickException(
            f"{out} cannot be written: {_reason(error)}."
        ) from None
    finally:
        draft.unlink(missing_ok=True)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
