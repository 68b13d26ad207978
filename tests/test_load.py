"""The load script at a tiny size, against gunicorn: no failures, no lost writes."""

import socket
import subprocess
import sys
import time

import requests

from bench import load


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_mixed_load_loses_no_writes(app, database_url, tmp_path):
    port = free_port()
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "load test"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            f"tracker:create_app({config!r})",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        load.prepare_accounts(database_url, therapists=3, reviewers=1)
        tally = load.run(base, therapists=3, reviewers=1, seconds=3)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert tally.failures == [], errors[-2000:]
    assert len(tally.saved_trials) > 5
    lost = load.lost_writes(database_url, tally)
    assert lost == dict.fromkeys(lost, 0)
    assert set(lost) == {
        "trials",
        "trial_audit_rows",
        "follow_ups",
        "follow_up_audit_rows",
    }
    figures = load.summary(tally, 3)
    assert {"trial_save", "dashboard", "export"} <= set(figures)
