"""Presence across real server processes sharing Redis: a user signed in on one server is online
as seen from the other, and turns offline there a few seconds after the first server is killed
(kill -9: nothing closes its sockets; their deadlines pass and the survivor's sweep notices).
Runs whenever REDIS_URL is set (CI's second pass sets it) and is skipped, saying so, otherwise:
without Redis each process keeps its own presence by design."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
TTL = 3

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://... (CI does)"
    ),
]


def call(port, method, path, body=None, headers=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"} | (headers or {}),
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def two_servers(tmp_path, request):
    """Two `manage.py serve` processes of one worker each, on one database and one Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "x" * 50,
        "RATELIMIT_ENABLE": "false",
        "PRESENCE_TTL_SECONDS": str(TTL),
        "REALTIME_CHANNEL": f"chat:test-presence:{secrets.token_hex(4)}",  # ours alone
    }
    request.addfinalizer(lambda: forget_keys(env["REALTIME_CHANNEL"]))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--workers", "1"],
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
            while True:
                try:
                    call(port, "GET", "/api/version")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "a server did not start"
                    time.sleep(0.2)
        yield ports, servers
    finally:
        for server in servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)


def forget_keys(channel):
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in client.scan_iter(match=f"{channel}:*"):
        client.delete(key)


def sign_up(port, username):
    password = f"a passphrase {secrets.token_hex(4)}"
    status, body = call(
        port,
        "POST",
        "/api/v1/users.register",
        {"username": username, "email": f"{username}@example.com", "pass": password},
    )
    assert status == 200, body
    status, body = call(port, "POST", "/api/v1/login", {"user": username, "password": password})
    assert status == 200, body
    return body["data"]["userId"], body["data"]["authToken"]


class Socket:
    """A plain websocket DDP client."""

    def __init__(self, port):
        self.url = f"ws://127.0.0.1:{port}/websocket"

    async def __aenter__(self):
        self.ws = await connect(self.url)
        await self.send({"msg": "connect", "version": "1", "support": ["1"]})
        await self.wait(lambda f: f.get("msg") == "connected")
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def send(self, body):
        await self.ws.send(json.dumps(body))

    async def wait(self, predicate, timeout=5.0):
        async def first():
            while True:
                frame = json.loads(await self.ws.recv())
                if frame.get("msg") == "ping":
                    await self.send({"msg": "pong"})
                elif predicate(frame):
                    return frame

        return await asyncio.wait_for(first(), timeout)

    async def login(self, token):
        await self.send(
            {"msg": "method", "id": "login", "method": "login", "params": [{"resume": token}]}
        )
        answer = await self.wait(lambda f: f.get("msg") == "result" and f.get("id") == "login")
        assert "result" in answer, answer

    async def sub(self, name, event):
        await self.send({"msg": "sub", "id": event, "name": name, "params": [event, False]})
        await self.wait(lambda f: f.get("msg") == "ready" and event in f.get("subs", []))

    async def user_status(self, uid, code, timeout):
        return await self.wait(
            lambda f: (
                f.get("msg") == "changed"
                and f["fields"]["eventName"] == "user-status"
                and f["fields"]["args"][0][0] == uid
                and f["fields"]["args"][0][2] == code
            ),
            timeout,
        )


def test_presence_is_shared_and_a_killed_servers_users_go_offline(two_servers):
    (first, second), (first_server, _) = two_servers
    alice_id, alice_token = sign_up(second, "alice")
    bob_id, bob_token = sign_up(second, "bob")
    bob_headers = {"X-Auth-Token": bob_token, "X-User-Id": bob_id}

    def presence_seen_from_second():
        status, body = call(
            second, "GET", f"/api/v1/users.getPresence?userId={alice_id}", headers=bob_headers
        )
        assert status == 200, body
        return body["presence"]

    async def scenario():
        async with Socket(second) as bob:
            await bob.login(bob_token)
            await bob.sub("stream-notify-logged", "user-status")
            alice = Socket(first)
            await alice.__aenter__()
            await alice.login(alice_token)
            await bob.user_status(alice_id, 1, timeout=5)  # online, seen on the other server
            assert presence_seen_from_second() == "online"

            os.killpg(first_server.pid, signal.SIGKILL)  # no socket of it closes cleanly
            first_server.wait(timeout=10)
            killed = time.monotonic()
            await bob.user_status(alice_id, 0, timeout=TTL * 3)
            took = time.monotonic() - killed
            assert presence_seen_from_second() == "offline"
            assert took <= TTL + TTL / 3 + 1.5, took

    asyncio.run(scenario())
