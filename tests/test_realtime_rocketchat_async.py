"""The reference realtime client, unchanged, against a real `make run`: `rocketchat-async` from
PyPI logs in, lists its rooms, subscribes, hears and sends messages, types and sees rooms
appear, the way a bot written for Rocket.Chat's websocket API would.

The client pins websockets<11, which the project's own tests cannot share, so it runs in a
virtualenv of its own, built once (var/rocketchat-async-venv, git-ignored) and reused, driven
through tests/rocketchat_async_driver.py as a subprocess that speaks JSON lines. A second,
plain websocket client (the project's `websockets`) watches what the first one emits.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import queue
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.servers import ROOT, make_run, own_database

pytestmark = pytest.mark.slow

CLIENT_REQUIREMENT = "rocketchat-async>=4.3,<5"
CLIENT_VENV = ROOT / "var" / "rocketchat-async-venv"
DRIVER = Path(__file__).with_name("rocketchat_async_driver.py")
ADMIN_PASSWORD = "an admin passphrase"
BOB_PASSWORD = "a long passphrase of his"


# --- the client's virtualenv ----------------------------------------------------------------


def client_python() -> Path:
    """The python of a virtualenv holding rocketchat-async, built on first use (under a lock,
    into a temporary folder renamed into place, so a half-built one is never used)."""
    python = CLIENT_VENV / "bin" / "python"
    marker = CLIENT_VENV / ".requirement"
    CLIENT_VENV.parent.mkdir(parents=True, exist_ok=True)
    with (CLIENT_VENV.parent / ".rocketchat-async-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and marker.exists() and marker.read_text() == CLIENT_REQUIREMENT:
            return python
        building = CLIENT_VENV.with_name(CLIENT_VENV.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=300)
        subprocess.run(
            [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", CLIENT_REQUIREMENT],
            check=True,
            timeout=600,
        )  # fmt: skip
        (building / ".requirement").write_text(CLIENT_REQUIREMENT)
        shutil.rmtree(CLIENT_VENV, ignore_errors=True)
        building.rename(CLIENT_VENV)
        # (Its scripts name the folder it was built in; only bin/python is used, which moves.)
        return python


@pytest.fixture(scope="session")
def rocketchat_async_python():
    return client_python()


class Driver:
    """tests/rocketchat_async_driver.py in the client's virtualenv: send() a command and get
    its reply; the callbacks' events are kept until event() asks for one."""

    def __init__(self, python: Path, log: Path) -> None:
        self.log = log.open("a")
        self.process = subprocess.Popen(
            [str(python), str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def next_line(self, deadline: float) -> dict[str, Any]:
        try:
            return self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError(f"the driver said nothing more; events: {self.events}") from None

    def send(self, do: str, timeout: float = 20, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"do": do, **fields}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(deadline)
            if line.get("reply") == do:
                return line
            self.events.append(line)

    def ok(self, do: str, **fields: Any) -> dict[str, Any]:
        answer = self.send(do, **fields)
        assert answer["ok"], answer
        return answer

    def event(self, predicate: Any, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if predicate(event):
                    return self.events.pop(index)
            self.events.append(self.next_line(deadline))

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.send("quit", timeout=5)
            self.process.wait(timeout=5)
        except (TimeoutError, subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.process.kill()
            self.process.wait()
        self.log.close()


# --- REST and a plain websocket -------------------------------------------------------------


def rest(base: str, path: str, body: Any = None, auth: tuple[str, str] | None = None) -> Any:
    """A v1 call (POST with a JSON body, GET without one); answers (status, JSON body)."""
    headers = {"Content-Type": "application/json"}
    if auth:
        headers |= {"X-Auth-Token": auth[0], "X-User-Id": auth[1]}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/api/v1/{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def rest_ok(base: str, path: str, body: Any = None, auth: tuple[str, str] | None = None) -> Any:
    status, answer = rest(base, path, body, auth)
    assert status == 200 and answer.get("success", True), (path, status, answer)
    return answer


def log_in(base: str, username: str, password: str) -> tuple[str, str]:
    data = rest_ok(base, "login", {"user": username, "password": password})["data"]
    return data["authToken"], data["userId"]


class PlainDDP:
    """A bare DDP client over the project's `websockets` (its sync API), connected and ready
    for methods; answers the server's pings while it waits. Also used by
    tests/test_realtime_across_processes.py."""

    def __init__(self, url: str) -> None:
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(ws_connect(url, open_timeout=10))
        self.ids = itertools.count(1)
        self.inbox: list[dict[str, Any]] = []
        assert self.recv() == {"server_id": "0"}
        self.send({"msg": "connect", "version": "1", "support": ["1"]})
        assert self.recv()["msg"] == "connected"

    def send(self, body: dict[str, Any]) -> None:
        self.ws.send(json.dumps(body))

    def recv(self, timeout: float = 5) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def wait_for(self, predicate: Any, timeout: float = 5) -> dict[str, Any]:
        for index, frame in enumerate(self.inbox):
            if predicate(frame):
                return self.inbox.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching frame; inbox: {self.inbox}")
            frame = self.recv(left)
            if frame.get("msg") == "ping":
                self.send({"msg": "pong"})
            elif predicate(frame):
                return frame
            else:
                self.inbox.append(frame)

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        method_id = f"m{next(self.ids)}"
        self.send({"msg": "method", "id": method_id, "method": method, "params": list(params)})
        result = self.wait_for(lambda f: f.get("msg") == "result" and f.get("id") == method_id)
        self.wait_for(lambda f: f.get("msg") == "updated" and method_id in f.get("methods", []))
        return result

    def sub(self, name: str, event_name: str) -> str:
        sub_id = f"s{next(self.ids)}"
        params = [event_name, {"useCollection": False, "args": []}]
        self.send({"msg": "sub", "id": sub_id, "name": name, "params": params})
        frame = self.wait_for(
            lambda f: (
                (f.get("msg") == "ready" and sub_id in f.get("subs", []))
                or (f.get("msg") == "nosub" and f.get("id") == sub_id)
            )
        )
        assert frame["msg"] == "ready", frame
        return sub_id

    def nothing_more(self, seconds: float = 1.0) -> None:
        """Asserts that nothing but pings arrives within `seconds` (and nothing is waiting)."""
        assert self.inbox == []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.recv(left)
            except TimeoutError:
                return
            if frame.get("msg") == "ping":
                self.send({"msg": "pong"})
            else:
                raise AssertionError(f"unexpected frame: {frame}")

    def close_code(self, timeout: float = 5) -> int | None:
        """Reads until the server closes the socket; its close code (TimeoutError if it
        stays open)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"still open; inbox: {self.inbox}")
                self.inbox.append(self.recv(left))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None

    def close(self) -> None:
        self.stack.close()


# --- the server -----------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    with (
        own_database(tmp_path) as database_url,
        make_run(
            tmp_path,
            database_url,
            ADMIN_USERNAME="admin",
            ADMIN_EMAIL="admin@example.com",
            ADMIN_PASSWORD=ADMIN_PASSWORD,
            RATELIMIT_RATE="1000/s",
            LOGIN_RATE="1000/m",
            # With REDIS_URL, a pub/sub channel of its own: no other test's server is heard.
            REALTIME_CHANNEL=f"chat:events:test-{secrets.token_hex(6)}",
        ) as (port, _log),
    ):
        yield port


@pytest.fixture
def driver(rocketchat_async_python, tmp_path):
    drivers: list[Driver] = []

    def start() -> Driver:
        drivers.append(Driver(rocketchat_async_python, tmp_path / "driver.log"))
        return drivers[-1]

    yield start
    for one in drivers:
        one.close()


def test_a_bot_session_with_the_rocketchat_async_client(server, driver):
    base, ws_url = f"http://127.0.0.1:{server}", f"ws://127.0.0.1:{server}/websocket"
    admin = log_in(base, "admin", ADMIN_PASSWORD)
    rest_ok(
        base,
        "users.register",
        {"username": "bob", "email": "bob@example.com", "pass": BOB_PASSWORD, "name": "Bob"},
    )
    bob_rest = log_in(base, "bob", BOB_PASSWORD)
    rid = rest_ok(base, "channels.create", {"name": "bots", "members": ["bob"]}, admin)["channel"][
        "_id"
    ]

    # A wrong password is refused, with Rocket.Chat's one answer.
    wrong = driver().send("start", url=ws_url, username="bob", password="not bob's password")
    assert wrong["ok"] is False and "User not found" in wrong["error"], wrong

    # Log in with the password, and list the rooms.
    bob = driver()
    assert (
        bob.ok("start", url=ws_url, username="bob", password=BOB_PASSWORD)["user_id"]
        == (bob_rest[1])
    )
    assert [rid, "c"] in bob.ok("get_channels")["channels"]

    # Subscribe, and hear a message posted over REST within a second.
    bob.ok("subscribe_messages", rid=rid)
    posted = rest_ok(base, "chat.postMessage", {"roomId": rid, "text": "hello bob"}, admin)
    sent_at = time.time()
    heard = bob.event(lambda e: e.get("event") == "message", timeout=5)
    assert (heard["rid"], heard["msg"], heard["msg_id"], heard["sender_id"]) == (
        rid,
        "hello bob",
        posted["message"]["_id"],
        admin[1],
    )
    assert heard["at"] - sent_at < 1.0, heard["at"] - sent_at

    # Send one over the socket: REST's channels.history has it.
    bob.ok("send_message", rid=rid, text="hello from the socket")
    history = rest_ok(base, f"channels.history?roomId={rid}", auth=admin)["messages"]
    assert [(m["msg"], m["u"]["username"]) for m in history[:2]] == [
        ("hello from the socket", "bob"),
        ("hello bob", "admin"),
    ]

    # Typing: a second, plain websocket client (the admin's) subscribed to user-activity sees it.
    watcher = PlainDDP(ws_url)
    try:
        assert "result" in watcher.call("login", {"resume": admin[0]})
        watcher.sub("stream-notify-room", f"{rid}/user-activity")
        bob.ok("typing", rid=rid)
        frame = watcher.wait_for(lambda f: f.get("msg") == "changed")
        assert frame["collection"] == "stream-notify-room"
        assert frame["fields"] == {
            "eventName": f"{rid}/user-activity",
            "args": ["bob", ["user-typing"], {}],
        }
    finally:
        watcher.close()

    # A new private group with bob in it appears through rooms-changed.
    bob.ok("subscribe_changes")
    group = rest_ok(base, "groups.create", {"name": "secret-plans", "members": ["bob"]}, admin)
    gid = group["group"]["_id"]
    changed = bob.event(lambda e: e.get("event") == "room-changed", timeout=5)
    assert (changed["rid"], changed["t"]) == (gid, "p")
    assert [gid, "p"] in bob.ok("get_channels")["channels"]

    # Resume with a token from the REST login.
    resumed = driver()
    assert (
        resumed.ok("resume", url=ws_url, username="bob", token=bob_rest[0])["user_id"]
        == (bob_rest[1])
    )
    assert {tuple(pair) for pair in resumed.ok("get_channels")["channels"]} >= {
        (rid, "c"),
        (gid, "p"),
    }
    resumed.ok("subscribe_messages", rid=gid)
    rest_ok(base, "chat.postMessage", {"roomId": gid, "text": "psst"}, admin)
    heard = resumed.event(lambda e: e.get("event") == "message")
    assert (heard["rid"], heard["msg"]) == (gid, "psst")
    # A forged token is refused (the client raises on the missing result).
    forged = driver().send("resume", url=ws_url, username="bob", token="not-a-token")
    assert forged["ok"] is False, forged
