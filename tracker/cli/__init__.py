"""The ``flask --app tracker`` commands, one module per group."""

from flask import Flask

from .backups import backup, restore
from .database import init_db
from .demo import demo_data
from .imports import import_trials
from .links import report_links
from .reports import export, report
from .users import create_site, create_user


def register(app: Flask) -> None:
    """Add the commands to the app's command line."""
    commands = (
        init_db,
        backup,
        restore,
        demo_data,
        create_site,
        create_user,
        report,
        export,
        report_links,
        import_trials,
    )
    for command in commands:
        app.cli.add_command(command)
