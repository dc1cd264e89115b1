"""The README's promise, end to end: `make run` serves a real gunicorn server, and the README's
curl walkthrough works against it line by line."""

import json
import os
import re
import subprocess
import urllib.request

import pytest

from tests.servers import ROOT, make_run, own_database

# Values that differ on every run: ids, tokens and times.
WILDCARDS = {"authToken", "userId", "request_id", "_id", "ts", "_updatedAt", "lm"}

pytestmark = pytest.mark.slow


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


def call(port, path, body, headers=()):
    """POSTs `body` as JSON and returns the JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **dict(headers)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    with (
        own_database(tmp_path) as database_url,
        make_run(
            tmp_path,
            database_url,
            ADMIN_USERNAME="sing",
            ADMIN_EMAIL="sing@example.com",
            ADMIN_PASSWORD="MySECRET",
        ) as running,
    ):
        yield running


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
    # The walkthrough leaves sing in GENERAL: the next login (a bot's) posts there at once.
    token = call(port, "/api/v1/login", {"user": "sing", "password": "MySECRET"})["data"]
    posted = call(
        port,
        "/api/v1/chat.postMessage",
        {"channel": "#general", "text": "a bot's next post"},
        headers={"X-Auth-Token": token["authToken"], "X-User-Id": token["userId"]},
    )
    assert (posted["success"], posted["message"]["msg"]) == (True, "a bot's next post")
    for page in ("/admin/login/", "/static/admin/css/base.css"):  # the admin, styled
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=5) as response:
            assert response.status == 200
    output = log_path.read_text()
    assert "Created the first admin: sing <sing@example.com>" in output
    assert f"Listening at: http://127.0.0.1:{port}" in output
    base = f"http://127.0.0.1:{port}"
    assert f"\nReady: {base}  admin: {base}/admin/  docs: {base}/api/docs/\n" in output
    # WEB_CONCURRENCY=2, but without Redis the sockets' events cannot cross processes: one.
    assert output.count("Booting worker") == (2 if os.environ.get("REDIS_URL") else 1)
