"""A credential sent in a query string (which the API never reads there) does not reach the
access log of a real `make run`: its value is [redacted], the rest of the request line stays."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from websockets.sync.client import connect as ws_connect

from chat_project.serving.access_log import redact
from tests.servers import make_run, own_database

pytestmark = pytest.mark.slow


def request(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers or {})) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_credentials_in_query_strings_are_redacted_in_the_access_log(tmp_path):
    with (
        own_database(tmp_path) as database_url,
        make_run(
            tmp_path,
            database_url,
            ADMIN_USERNAME="sing",
            ADMIN_EMAIL="sing@example.com",
            ADMIN_PASSWORD="MySECRET-9f3k",
        ) as (port, log_path),
    ):
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(
            urllib.request.Request(
                f"{base}/api/v1/login",
                json.dumps({"user": "sing", "password": "MySECRET-9f3k"}).encode(),
                {"Content-Type": "application/json"},
            )
        ) as answer:
            data = json.load(answer)["data"]
        token, user_id = data["authToken"], data["userId"]
        headers = {"X-Auth-Token": token, "X-User-Id": user_id}

        assert request(f"{base}/api/v1/me?authToken={token}&keep=visible", None, headers) == 200
        request(f"{base}/api/v1/me?X-Auth-Token={token}&rc_token={token}&resume={token}")
        request(f"{base}/api/login?user=sing&password=MySECRET-9f3k")
        with ws_connect(f"ws://127.0.0.1:{port}/websocket?token={token}", open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=5)) == {"server_id": "0"}

        deadline = time.monotonic() + 10
        while "WebSocket /websocket?token=" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        log = log_path.read_text()

    assert token not in log
    assert "MySECRET-9f3k" not in log
    assert "GET /api/v1/me?authToken=[redacted]&keep=visible HTTP/1.1" in log
    assert (
        "GET /api/v1/me?X-Auth-Token=[redacted]&rc_token=[redacted]&resume=[redacted] HTTP/1.1"
        in log
    )
    assert "/api/login?user=sing&password=[redacted] HTTP/1.1" in log
    assert "WebSocket /websocket?token=[redacted]" in log


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ("GET /api/v1/me?authToken=abc HTTP/1.1", "GET /api/v1/me?authToken=[redacted] HTTP/1.1"),
        ("/x?Auth%2DToken=abc&a=1", "/x?Auth%2DToken=[redacted]&a=1"),
        ("/x?access_token=abc&apiKey=k", "/x?access_token=[redacted]&apiKey=[redacted]"),
        ("/x?pass=abc&user=sing", "/x?pass=[redacted]&user=sing"),
        ("/x?roomId=GENERAL&count=5", "/x?roomId=GENERAL&count=5"),
        ("/x?token", "/x?token"),  # no value, nothing to hide
        ("/no/query", "/no/query"),
        (
            '"GET /reset-password/aB3.c4d-5e6f HTTP/1.1" 200',
            '"GET /reset-password/[redacted] HTTP/1.1" 200',
        ),
    ],
)
def test_which_parameters_are_redacted(line, logged):
    assert redact(line) == logged
