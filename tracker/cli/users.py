"""``create-user`` and ``create-site``: accounts and sites from the command line."""

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .. import audit
from ..auth import password_rules
from ..auth.forms import PASSWORD_MIN, username_problem
from ..auth.passwords import hash_password
from ..extensions import db
from ..labels import ROLES
from ..models import Site, User
from ..sites.changes import add_site
from ..sites.membership import (
    default_sites,
    site_name_problem,
    site_named,
    where,
)


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option(
    "--site",
    "site_names",
    multiple=True,
    metavar="NAME",
    help="A site the user works at (repeatable; default: the only site).",
)
@click.option("--all-sites", is_flag=True, help="The user sees every site.")
def create_user(username: str, role: str, site_names: tuple[str], all_sites: bool):
    """Create an account; the password is read from a prompt or standard input."""
    problem = username_problem(username)
    if problem:
        raise click.ClickException(problem)
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise click.ClickException(f"A user named {username!r} exists already.")
    sites = _sites(site_names, all_sites or role == "admin")
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=sys.stdin.isatty()
    )
    if len(password) < PASSWORD_MIN:
        raise click.ClickException(f"Use at least {PASSWORD_MIN} characters.")
    problem = password_rules.problem(password, username=username)
    if problem:
        raise click.ClickException(problem)
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        all_sites=all_sites,
        sites=sites,
    )
    db.session.add(user)
    db.session.flush()
    audit.log_event(
        "user_create",
        {"username": username, "role": role, "sites": where(user), "via": "cli"},
        user=user,
    )
    db.session.commit()
    click.echo(f"User {username} ({role}, {where(user)}) created.")


def _sites(names: tuple[str], every_site: bool) -> list[Site]:
    """The sites named, or the only one; a usage error when neither will do."""
    if every_site and not names:
        return []
    if not names:
        only = default_sites()
        if not only:
            raise click.UsageError(
                "The group has several sites: name the user's with --site NAME "
                "(repeatable) or give --all-sites."
            )
        return only
    sites = []
    for name in names:
        site = site_named(name)
        if site is None or site.retired:
            raise click.UsageError(f"No open site is called {name!r}.")
        sites.append(site)
    return sites


@click.command("create-site")
@with_appcontext
@click.argument("name")
def create_site(name: str):
    """Add a site to the clinic group."""
    name = name.strip()
    problem = site_name_problem(name)
    if problem:
        raise click.ClickException(problem)
    add_site(name, via="cli")
    db.session.commit()
    click.echo(f"Site {name} created.")
