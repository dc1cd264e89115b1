"""The README's promise, end to end: `make run` serves a real gunicorn server, and the README's
curl walkthrough works against it line by line."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Values that differ on every run: ids, tokens and times.
WILDCARDS = {"authToken", "userId", "request_id", "_id", "ts", "_updatedAt", "lm"}

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def walkthrough():
    """[(command, expected JSON or None)], with TOKEN= / USER_ID= lines as ("set", None)."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->(.*?)<!-- walkthrough:end -->", readme, re.S)
    steps = []
    for line in block.group(1).splitlines():
        if line.startswith("curl "):
            steps.append([line, None])
        elif line.startswith("# {"):
            steps[-1][1] = json.loads(line[2:])
        elif re.match(r"^(TOKEN|USER_ID)=", line):
            steps.append([line.split("=")[0], None])
    return steps


def same_shape(actual, expected):
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(
                isinstance(actual[key], str) if key in WILDCARDS else same_shape(actual[key], value)
                for key, value in expected.items()
            )
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_shape(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return actual == expected


@pytest.fixture
def database_url(tmp_path):
    """A database of the smoke test's own: a SQLite file, or a new PostgreSQL database when the
    suite runs against PostgreSQL."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'smoke.sqlite3'}"
        return
    import psycopg2

    server = dj_database_url.parse(configured)
    name = f"chat_smoke_{secrets.token_hex(4)}"
    admin = psycopg2.connect(
        dbname="postgres",
        user=server["USER"],
        password=server["PASSWORD"],
        host=server["HOST"],
        port=server["PORT"] or 5432,
    )
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield configured.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def server(tmp_path, database_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "WEB_CONCURRENCY": "2",
        "ADMIN_USERNAME": "sing",
        "ADMIN_EMAIL": "sing@example.com",
        "ADMIN_PASSWORD": "MySECRET",
    }
    log_path = tmp_path / "server.log"
    log = log_path.open("a")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make run did not serve:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        yield port, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_make_run_serves_the_readme_walkthrough_with_gunicorn(server):
    port, log_path = server
    variables = {}
    last = {}

    for command, expected in walkthrough():
        if command in {"TOKEN", "USER_ID"}:
            variables[command] = last["data"]["authToken" if command == "TOKEN" else "userId"]
            continue
        result = subprocess.run(
            ["bash", "-c", command.replace("localhost:3000", f"localhost:{port}")],
            env=os.environ | variables,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        last = json.loads(result.stdout)
        if expected is not None:
            assert same_shape(last, expected), f"{command}\n got {last}\n expected {expected}"

    assert len(variables) == 2
    for page in ("/admin/login/", "/static/admin/css/base.css"):  # the admin, styled
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=5) as response:
            assert response.status == 200
    output = log_path.read_text()
    assert "Created the first admin: sing <sing@example.com>" in output
    assert f"Listening at: http://127.0.0.1:{port}" in output
    assert output.count("Booting worker") == 2
