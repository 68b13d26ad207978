"""A report link's token never reaches a server log: it opens the patient's form."""

import logging
import socket
import subprocess
import sys
import threading
import time

import requests
from werkzeug.serving import make_server

TOKEN = "7-Zq3xVb9LmN0pRs2TuWy4Ab"
PATH = f"/r/{TOKEN}"


def test_the_development_server_logs_report_links_without_their_token(app, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            url = f"http://127.0.0.1:{server.server_port}{PATH}"
            requests.get(url, headers={"Referer": url}, timeout=10).close()
    finally:
        server.shutdown()
        thread.join()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/r/[token hidden]" in logged
    assert TOKEN not in logged


def test_gunicorns_access_log_holds_no_report_link_token(app, database_url, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    access_log = tmp_path / "access.log"
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "log test"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(U)s "%(f)s" %({x-forwarded-for}i)s',
            f"bench.serving:warmed_app({config!r})",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/healthz", timeout=1).close()
                break
            except requests.RequestException:
                time.sleep(0.1)
        response = requests.get(
            f"{base}{PATH}", headers={"Referer": f"{base}{PATH}"}, timeout=10
        )
        assert response.status_code == 404
        response.close()
    finally:
        server.terminate()
        server.communicate(timeout=60)
    logged = access_log.read_text()
    assert "/r/[token hidden]" in logged
    assert TOKEN not in logged
