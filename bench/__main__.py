"""Every benchmark, one table: ``python -m bench --trials 100000``.

For each database (SQLite always; PostgreSQL too when DATABASE_URL names
one) a scratch database of the chosen size is filled in bulk and measured,
each figure beside its baseline from the same run:

- dashboard summary (trials frame + analysis) vs the same counts as one
  SQL GROUP BY; the dashboard page's server time (up to 100k trials), and
  what the follow-up completeness figures add to its first view, as a share
  beside the 10% target;
- ``flask --app tracker report --json`` as a whole command (start, imports,
  read, every figure), beside the 2.5 s it may take at 1M trials;
- page server times (patient list, patient page, trial form, trial page,
  trials list, follow-ups due) vs ``/healthz``;
- concurrent writes: four processes saving trials through the form vs four
  processes committing plain single-row INSERTs;
- the trials export vs ``csv.writer`` over a plain cursor, and the import of
  that file vs ``executemany`` (on scratch databases of their own, see
  ``bench/export_import.py``);
- start-up: ``flask --app tracker --help`` and ``create-user`` vs importing
  the bare Flask stack, with their ratio, and the first dashboard view after
  a start vs a second one (``bench/startup.py``);
- keeping sites apart: the patient and trials lists, follow-ups due and
  the dashboard's first view for a reviewer of one site, before and after
  two more sites of as many trials join, with the ratio beside the 10%
  target (``bench/sites.py``; run last on the database, up to 100k trials);
- the chart pages in headless Chromium on a warm cache: navigation to
  charts drawn and to first paint, for the dashboard and a patient page,
  beside the targets (800 ms, 300 ms), and the patient list's first paint
  (``bench/browser.py``; left out without Chromium or with
  ``--skip-browser``).

The table is printed and written as JSON (``bench/results/bench.json``
unless ``--json`` says where).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench import browser, dashboard, export_import, pages, sites, startup, writes
from tracker import database_uri

RESULTS = Path(__file__).parent / "results"


def rows_for(
    name: str, url: str, trials: int, repeat: int, saves: int, in_browser: bool
) -> list[dict]:
    """Fill ``url`` and measure the dashboard, pages, browser and concurrent writes."""
    figures = dashboard.measure(url, trials, repeat, seed=1)
    rows = [
        row(name, trials, "fill (bulk insert)", figures["fill"], None, "s"),
        row(
            name,
            trials,
            "dashboard summary",
            figures["summary"],
            figures["baseline"],
            "s",
            "SQL GROUP BY",
        ),
    ]
    if figures["page"] is not None:
        rows += [
            row(name, trials, f"dashboard page, {state}", figures[key], None, "s")
            for state, key in (
                ("first view", "page"),
                ("after a change", "page_changed"),
                ("unchanged", "page_warm"),
            )
        ]
        share = figures["completeness"] / figures["page"]
        rows += [
            row(
                name,
                trials,
                "completeness, first view",
                figures["completeness"],
                figures["page"],
                "s",
                "dashboard first view",
            ),
            row(
                name,
                trials,
                "completeness, share",
                share,
                dashboard.COMPLETENESS_TARGET,
                "x",
                "target (at most)",
            ),
        ]
    rows.append(
        row(
            name,
            trials,
            "report --json (whole command)",
            startup.report_command(url, repeat),
            startup.REPORT_TARGET_SECONDS,
            "s",
            "target at 1M trials (at most)",
        )
    )
    page_times = pages.measure(url, repeat)
    baseline = page_times.pop("healthz (baseline)")
    rows += [
        row(name, trials, page, seconds, baseline, "s", "/healthz")
        for page, seconds in page_times.items()
    ]
    if in_browser:
        rows += browser_rows(name, trials, browser.measure(url, max(repeat, 3)))
    written = writes.measure(url, processes=4, count=saves)
    rows.append(
        row(
            name,
            trials,
            "concurrent saves (4 processes)",
            written["app_writes_per_s"],
            written["plain_inserts_per_s"],
            "per s",
            "plain INSERTs",
        )
    )
    if trials <= sites.MOST_TRIALS:
        rows += site_rows(name, trials, sites.measure(url, trials, repeat))
    return rows


def site_rows(name: str, trials: int, figures: dict) -> list[dict]:
    """Each page for a user of one site of three beside one site, and the ratio."""
    rows = []
    for page, (before, after) in figures.items():
        rows += [
            row(name, trials, f"{page}, 1 site of 3", after, before, "s", "one site"),
            row(
                name,
                trials,
                f"{page}, site criteria",
                after / before,
                sites.TARGET,
                "x",
                "target (at most)",
            ),
        ]
    return rows


def browser_rows(name: str, trials: int, figures: dict | None) -> list[dict]:
    """Charts drawn and first paint in Chromium, beside the targets."""
    if figures is None:
        print("bench: no Chromium or playwright; the browser rows are left out")
        return []
    rows = []
    for page, short in (("dashboard", "dashboard"), ("patient page", "patient")):
        for key, words in (("charts", "charts drawn"), ("first_paint", "first paint")):
            if key in figures[page]:  # Chromium reported it on every visit
                rows.append(
                    row(
                        name,
                        trials,
                        f"browser: {short} {words}",
                        figures[page][key],
                        browser.TARGETS[key],
                        "s",
                        "target (at most)",
                    )
                )
    if "first_paint" in figures["patient list"]:
        rows.append(
            row(
                name,
                trials,
                "browser: first paint, no charts",
                figures["patient list"]["first_paint"],
                None,
                "s",
            )
        )
    return rows


def csv_rows(name: str, trials: int, postgres: str | None) -> list[dict]:
    """The export and import figures for one size."""
    (result,) = export_import.run([trials], postgres)
    return [
        row(
            name,
            trials,
            "trials export",
            result["export"]["seconds"],
            result["export_baseline"]["seconds"],
            "s",
            "csv.writer over a cursor",
        ),
        row(
            name,
            trials,
            "trials import",
            result["import"]["seconds"],
            result["import_baseline"]["seconds"],
            "s",
            "executemany",
        ),
    ]


def startup_rows(runs: int) -> list[dict]:
    """Command start-up beside the bare stack, and the first dashboard view."""
    figures = startup.measure(runs)
    bare = figures["bare stack import"]
    rows = []
    for command in ("flask --help", "create-user"):
        rows += [
            row("SQLite", None, command, figures[command], bare, "s", "bare stack"),
            row("SQLite", None, f"{command}, ratio", figures[command] / bare, 1, "x"),
        ]
    rows.append(
        row(
            "SQLite",
            None,
            "dashboard first view after start",
            figures["dashboard first view"],
            figures["dashboard second view"],
            "s",
            "second view",
        )
    )
    return rows


def row(database, trials, what, value, baseline, unit, baseline_name=""):
    """One line of the table."""
    return {
        "database": database,
        "trials": trials,
        "benchmark": what,
        "value": round(value, 4),
        "baseline": None if baseline is None else round(baseline, 4),
        "baseline_is": baseline_name,
        "unit": unit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--saves", type=int, default=200, help="trials each writer process saves"
    )
    parser.add_argument("--skip-csv", action="store_true", help="no export/import")
    parser.add_argument(
        "--skip-browser", action="store_true", help="no chart pages in Chromium"
    )
    parser.add_argument(
        "--json", type=Path, default=RESULTS / "bench.json", help="where the table goes"
    )
    args = parser.parse_args()
    if not 1 <= args.trials <= 1_000_000:
        parser.error("--trials must be between 1 and 1,000,000")

    targets = [("SQLite", dashboard.sqlite_databases, None)]
    if os.environ.get("DATABASE_URL"):
        server = database_uri(os.environ["DATABASE_URL"])
        targets.append(
            ("PostgreSQL", lambda n: dashboard.postgresql_databases(server, n), server)
        )
    table = startup_rows(2 * args.repeat + 1)
    for name, databases, postgres in targets:
        for url in databases(args.trials):
            table += rows_for(
                name, url, args.trials, args.repeat, args.saves, not args.skip_browser
            )
        if not args.skip_csv:
            table += csv_rows(name, args.trials, postgres)

    print(
        f"{'database':<11}{'trials':>9}  {'benchmark':<32}{'value':>10}"
        f"{'baseline':>10}  unit   baseline is"
    )
    for line in table:
        baseline = "" if line["baseline"] is None else f"{line['baseline']:.4g}"
        print(
            f"{line['database']:<11}{line['trials'] or '':>9}  "
            f"{line['benchmark']:<32}"
            f"{line['value']:>10.4g}{baseline:>10}  {line['unit']:<6} "
            f"{line['baseline_is']}"
        )
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
