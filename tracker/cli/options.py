"""Options shared by several commands, declared once."""

import click
import sqlalchemy as sa

from ..extensions import db
from ..labels import INTERVENTIONS
from ..models import User
from ..reporting.filters import (
    COUNTING_UNITS,
    InvalidFilters,
    TrialFilters,
    parse_filters,
)

FILTER_NAMES = (
    "since",
    "until",
    "intervention",
    "activity",
    "therapist",
    "product",
    "site",
)


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


def filter_options(*, unit: bool = False):
    """The trial filters as options (``--since`` … ``--product``, and ``--unit``)."""
    options = [
        click.option("--since", help="From this date (YYYY-MM-DD)."),
        click.option("--until", help="Up to and including this date (YYYY-MM-DD)."),
        click.option("--intervention", help=", ".join(INTERVENTIONS) + "."),
        click.option(
            "--activity", help="An activity code, e.g. single_leg_squat or stairs_down."
        ),
        click.option("--therapist", help="The user name that recorded the trials."),
        click.option("--product", help="The product name, as recorded."),
        click.option("--site", help="A site's name: its patients' trials only."),
    ]
    if unit:
        options.append(click.option("--unit", help=" or ".join(COUNTING_UNITS) + "."))

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def filters_from_options(values: dict) -> TrialFilters:
    """The filters the options give, or a usage error (exit status 2) naming each."""
    try:
        return parse_filters(values)
    except InvalidFilters as invalid:
        problems = "; ".join(
            f"--{name}: {' '.join(messages)}"
            for name, messages in invalid.errors.items()
        )
        raise click.UsageError(f"Invalid filters: {problems}") from None
