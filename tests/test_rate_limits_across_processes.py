"""With REDIS_URL, every server process draws on one budget: two real gunicorn servers on two
ports give the same limit as one. Runs whenever REDIS_URL is set (CI's second pass sets it) and
is skipped, saying so, otherwise: without Redis the limits are per process by design."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://... (CI does)"
    ),
]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=5) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture
def two_servers(tmp_path):
    ports = [free_port(), free_port()]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # /api/version reads no table
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "x" * 50,
        # The default burst of 100, refilled so slowly that nothing comes back during the test.
        "RATELIMIT_RATE": "6/h",
    }
    servers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--workers", "2"],
            cwd=ROOT,
            env=env | {"HOST": "127.0.0.1", "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 60
        for port in ports:
            while get_or_none(port) is None:
                assert time.monotonic() < deadline, "a server did not start"
                time.sleep(0.2)
        yield ports
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def get_or_none(port):
    try:
        return get(port)
    except OSError:
        return None


def test_two_server_processes_share_one_burst(two_servers):
    first, second = two_servers
    cache.clear()  # forget the start-up probes: the servers count in this same Redis

    answers = [get(port) for port in (first, second) * 51]

    assert [status for status, _ in answers] == [200] * 100 + [429] * 2
    assert [headers["X-Ratelimit-Remaining"] for _, headers in answers] == [
        str(left) for left in range(99, -1, -1)
    ] + ["0", "0"]
    assert {headers["X-Ratelimit-Limit"] for _, headers in answers} == {"100"}
    # One more every 600 seconds (6 an hour): the first comes back within that.
    resets = [int(headers["X-Ratelimit-Reset"]) for _, headers in answers]
    assert all(590 <= reset <= 600 for reset in resets), resets
    assert 590 <= int(answers[-1][1]["Retry-After"]) <= 600
