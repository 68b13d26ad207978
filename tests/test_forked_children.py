"""A forked checking child never outlives its parent or ignores being stopped."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from bench import load, load_clients
from tracker.csvio.forked import items_from_child

ROOT = Path(__file__).parents[1]

#: A parent whose child writes its pid, then works for ever without a word.
PARENT = """
import os, sys, time
from tracker.csvio.forked import items_from_child

def forever():
    with open(sys.argv[1] + ".tmp", "w") as note:
        note.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(0.05)
    yield

for _ in items_from_child(forever):
    pass
"""


def wait_for(condition, seconds: float = 10.0) -> bool:
    """Whether ``condition()`` came true within ``seconds`` (polled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")
def test_a_child_dies_when_its_parent_is_killed(tmp_path):
    note = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(note)], cwd=ROOT)
    try:
        assert wait_for(note.exists), "the child did not start"
        child = int(note.read_text())
        assert running(child)
    finally:
        parent.kill()
        parent.wait()
    assert wait_for(lambda: not running(child), seconds=2)


def test_a_child_blocked_on_a_full_pipe_is_ended_even_if_sigterm_is_caught():
    """As under gunicorn, whose workers catch SIGTERM: the child must not."""

    def big_items():
        while True:
            yield os.getpid(), b"x" * 1_000_000  # more than the pipe holds

    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        items = items_from_child(big_items)
        child, _ = next(items)
        closing = threading.Thread(target=items.close, daemon=True)
        closing.start()
        closing.join(30)
        assert not closing.is_alive(), "closing the generator waited for ever"
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not running(child)


@pytest.fixture
def trial_file(tmp_path):
    """A trial file large enough to be checked in a forked child."""
    path = tmp_path / "trials.csv"
    lines = ["patient_code,trial_date,intervention,activity,pain_without,pain_with"]
    lines += [
        f"PF-{number:06d},2025-01-06,insole,single_leg_squat,6,3"
        for number in range(60_000)
    ]
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")
def test_a_gunicorn_workers_child_dies_with_the_worker(app, database_url, trial_file):
    with load.served(database_url, workers=1, threads=4) as base:
        load.prepare_accounts(database_url, therapists=1, reviewers=0)
        session = requests.Session()
        page = session.get(f"{base}/auth/login")
        session.post(
            f"{base}/auth/login",
            data={
                "username": "load-therapist-00",
                "password": load.PASSWORD,
                "csrf_token": load_clients._token(page),
            },
        )
        form = session.get(f"{base}/imports/trials")
        upload = threading.Thread(
            target=_post_quietly,
            args=(
                session,
                f"{base}/imports/trials",
                load_clients._token(form),
                trial_file,
            ),
            daemon=True,
        )
        (worker,) = children_of(load.served.pid)
        upload.start()
        assert wait_for(lambda: [p for p in children_of(worker) if running(p)])
        (child,) = [pid for pid in children_of(worker) if running(pid)]
        os.kill(worker, signal.SIGKILL)
        assert wait_for(lambda: not running(child), seconds=2)
        upload.join(30)


def _post_quietly(session, url, token, path):
    """Post the upload; the worker is killed under it, so the answer may be lost."""
    try:
        with path.open("rb") as stream:
            session.post(
                url,
                data={"csrf_token": token},
                files={"file": (path.name, stream, "text/csv")},
                timeout=30,
            )
    except requests.RequestException:
        pass
