"""Starting the app and its commands loads nothing heavy."""

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "scipy", "statsmodels", "plotly")

LOADED_AFTER_CREATE_APP = """
import json, sys
from tracker import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
app.cli.list_commands(None)
print(json.dumps([name for name in %r if name in sys.modules]))
"""


def loaded_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_create_app_imports_no_statistics_or_chart_library():
    assert loaded_after(LOADED_AFTER_CREATE_APP % (HEAVY,)) == []


def test_the_dashboard_loads_the_statistics_when_first_used():
    """The check above can fail: the dashboard does need what it leaves out."""
    code = LOADED_AFTER_CREATE_APP.replace(
        "app.cli.list_commands(None)",
        "import tracker.dashboard.content",
    ) % (HEAVY,)
    assert loaded_after(code) == list(HEAVY)
