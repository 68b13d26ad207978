"""``create-user``: accounts from the command line."""

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
from ..models import User


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
def create_user(username: str, role: str):
    """Create an account; the password is read from a prompt or standard input."""
    problem = username_problem(username)
    if problem:
        raise click.ClickException(problem)
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise click.ClickException(f"A user named {username!r} exists already.")
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=sys.stdin.isatty()
    )
    if len(password) < PASSWORD_MIN:
        raise click.ClickException(f"Use at least {PASSWORD_MIN} characters.")
    problem = password_rules.problem(password, username=username)
    if problem:
        raise click.ClickException(problem)
    user = User(username=username, role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.log_event(
        "user_create", {"username": username, "role": role, "via": "cli"}, user=user
    )
    db.session.commit()
    click.echo(f"User {username} ({role}) created.")
