"""How long a command takes to start, beside the bare Flask stack it is built on.

Each figure is the median wall time of whole processes, so it includes the
interpreter's own start, as a clinic's shell sees it:

- the baseline: ``python -c "import flask, flask_sqlalchemy, flask_wtf,
  flask_login, flask_migrate"``;
- ``flask --app tracker --help`` and ``flask --app tracker create-user``
  (password from standard input) on a scratch SQLite database;
- the first dashboard view after a start, which pays for loading pandas,
  SciPy, statsmodels and plotly, beside a second view of the same page
  (the dashboard's cache is off, so both compute the page).

``python -m bench.startup`` prints them; ``python -m bench`` adds them to its
table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_STACK = "import flask, flask_sqlalchemy, flask_wtf, flask_login, flask_migrate"

FIRST_VIEW = """
import json, sys, time
from tracker import create_app
app = create_app({
    "SQLALCHEMY_DATABASE_URI": sys.argv[1],
    "SECRET_KEY": "bench",
    "DASHBOARD_CACHE": False,
    "WTF_CSRF_ENABLED": False,
})
client = app.test_client()
client.post("/auth/login", data={"username": "bench-admin", "password": sys.argv[2]})
times = []
for _ in range(2):
    started = time.perf_counter()
    assert client.get("/dashboard/").status_code == 200
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""

PASSWORD = "bench-password-12345"


def _run(command: list[str], env: dict, stdin: str | None = None) -> float:
    """Seconds one whole process takes; it must succeed."""
    started = time.perf_counter()
    subprocess.run(
        command, env=env, input=stdin, text=True, check=True, capture_output=True
    )
    return time.perf_counter() - started


#: The most ``report --json`` may take at 1M trials (the evidence issue's target).
REPORT_TARGET_SECONDS = 2.5


def report_command(url: str, runs: int) -> float:
    """Median seconds of ``flask --app tracker report --json`` on ``url``.

    The whole command, as a reviewer's shell or a cron job runs it: start,
    the statistics' imports, the read and every figure of /api/summary.
    """
    env = os.environ | {"DATABASE_URL": url}
    command = [sys.executable, "-m", "flask", "--app", "tracker", "report", "--json"]
    _run(command, env)  # the file's pages in the operating system's cache
    return statistics.median(_run(command, env) for _ in range(runs))


def measure(runs: int = 7) -> dict[str, float]:
    """Median seconds of each start, and the first and second dashboard view."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'startup.sqlite'}"
        env = os.environ | {"DATABASE_URL": url}
        flask = [sys.executable, "-m", "flask", "--app", "tracker"]
        create_user = [*flask, "create-user", "--role", "admin"]
        # The first start creates the database; it is not among the timed ones.
        _run([*create_user, "bench-admin"], env, PASSWORD)
        _run([*flask, "demo-data", "--user", "bench-admin", "--patients", "200"], env)
        bare, help_, created = [], [], []
        for number in range(runs):
            bare.append(_run([sys.executable, "-c", BARE_STACK], env))
            help_.append(_run([*flask, "--help"], env))
            created.append(_run([*create_user, f"bench-{number}"], env, PASSWORD))
        views = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", FIRST_VIEW, url, PASSWORD],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for _ in range(max(1, runs // 2))
        ]
    return {
        "bare stack import": statistics.median(bare),
        "flask --help": statistics.median(help_),
        "create-user": statistics.median(created),
        "dashboard first view": statistics.median(first for first, _ in views),
        "dashboard second view": statistics.median(second for _, second in views),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    figures = measure(parser.parse_args().runs)
    bare = figures["bare stack import"]
    for name, seconds in figures.items():
        ratio = f"  ({seconds / bare:.2f} x bare stack)" if "view" not in name else ""
        print(f"{name:<24}{seconds:8.3f} s{ratio}")


if __name__ == "__main__":
    main()
