"""Realtime budgets against real servers (`make run`): one address's sockets capped at the
handshake, and, with Redis, one user's sends through several sockets on two server processes and
through REST drawn from one budget. The in-process tests are in tests/test_realtime_budgets.py."""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.servers import make_run, own_database
from tests.test_realtime_rocketchat_async import PlainDDP, log_in, rest, rest_ok

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "an admin passphrase"
BOB_PASSWORD = "a long passphrase of his"
SETTINGS = {
    "SECRET_KEY": "budgets-" + "s3cr3t-K3y-" * 5,
    "WEB_CONCURRENCY": "1",
    "ADMIN_USERNAME": "admin",
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": ADMIN_PASSWORD,
    "LOGIN_RATE": "1000/m",
}


def test_one_address_opens_only_so_many_sockets(tmp_path):
    with ExitStack() as stack:
        database_url = stack.enter_context(own_database(tmp_path))
        port, _ = stack.enter_context(
            make_run(tmp_path, database_url, **SETTINGS, REALTIME_SOCKETS_PER_ADDRESS="5")
        )
        url = f"ws://127.0.0.1:{port}/websocket"
        sockets = [stack.enter_context(ws_connect(url, open_timeout=10)) for _ in range(5)]
        for socket in sockets:
            assert socket.recv(timeout=5) == '{"server_id":"0"}'

        with pytest.raises(InvalidStatus) as refused:
            ws_connect(url, open_timeout=10)
        assert refused.value.response.status_code == 403

        # A socket that closes frees its place; the others were never disturbed.
        sockets[0].close()
        for _attempt in range(50):  # the server notices the close within moments
            try:
                replacement = stack.enter_context(ws_connect(url, open_timeout=10))
                break
            except InvalidStatus:
                pass
        else:
            pytest.fail("the closed socket's place was never freed")
        assert replacement.recv(timeout=5) == '{"server_id":"0"}'
        for socket in sockets[1:]:
            socket.send('{"msg": "connect", "version": "1", "support": ["1"]}')
            assert '"connected"' in socket.recv(timeout=5)


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://... (CI does)"
)
def test_one_users_sends_through_sockets_on_two_processes_and_rest_share_one_budget(tmp_path):
    settings = SETTINGS | {
        "REDIS_URL": os.environ["REDIS_URL"],
        "REALTIME_CHANNEL": f"chat:events:test-{secrets.token_hex(6)}",
        "RATELIMIT_RATE": "1000/s",
        # The sends' budget, for REST's chat.sendMessage and the socket's sendMessage alike: a
        # long window, so that none ends during the test.
        "RATELIMIT_RATES": "chat.sendMessage=6/h",
        "REALTIME_SEND_RATE": "1000/s",
    }
    with ExitStack() as stack:
        database_url = stack.enter_context(own_database(tmp_path))
        bases = []
        for name in ("a", "b"):
            folder = tmp_path / name
            folder.mkdir()
            port, _ = stack.enter_context(make_run(folder, database_url, **settings))
            bases.append(f"http://127.0.0.1:{port}")
        a, b = bases
        admin = log_in(a, "admin", ADMIN_PASSWORD)
        body = {"username": "bob", "email": "bob@example.com", "pass": BOB_PASSWORD, "name": "B"}
        rest_ok(b, "users.register", body)
        bob = log_in(a, "bob", BOB_PASSWORD)
        rid = rest_ok(a, "channels.create", {"name": "budget", "members": ["bob"]}, admin)[
            "channel"
        ]["_id"]

        def socket(base: str) -> PlainDDP:
            ddp = PlainDDP(base.replace("http://", "ws://") + "/websocket")
            stack.callback(ddp.close)
            assert "result" in ddp.call("login", {"resume": bob[0]})
            return ddp

        sockets = [socket(a), socket(b), socket(a), socket(b)]

        def send_over_socket(index: int) -> Any:
            answer = sockets[index % 4].call("sendMessage", {"rid": rid, "msg": f"s{index}"})
            return answer.get("error", {}).get("error", "sent")

        def send_over_rest(index: int) -> Any:
            body = {"message": {"rid": rid, "msg": f"r{index}"}}
            status, answer = rest(b if index % 2 else a, "chat.sendMessage", body, bob)
            return "sent" if status == 200 else (status, answer.get("errorType"))

        outcomes = []
        for index in range(4):
            outcomes.append(send_over_socket(index))
            outcomes.append(send_over_rest(index))

        refused = (429, "error-too-many-requests")
        assert outcomes == ["sent"] * 6 + ["too-many-requests", refused]
        history = rest_ok(a, f"channels.history?roomId={rid}&count=20", auth=bob)["messages"]
        assert sorted(m["msg"] for m in history if m["msg"][0] in "sr") == [
            "r0",
            "r1",
            "r2",
            "s0",
            "s1",
            "s2",
        ]
