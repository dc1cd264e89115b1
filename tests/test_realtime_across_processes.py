"""The realtime API across server processes: two real `make run` servers (one worker process
each) on one database and one Redis. An event made by either reaches the sockets of both,
access lost or a token revoked on one ends what the other serves, and a Redis that goes away
and comes back leaves the sockets up and delivery resumed by itself.

Runs whenever REDIS_URL is set (CI's second pass sets it), as
test_rate_limits_across_processes does, and is skipped, saying so, otherwise: without Redis a
server is one process by design. Each pair of servers gets a pub/sub channel of its own
(REALTIME_CHANNEL), so servers of other tests on the same Redis are never heard.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ROOT, AdminSession, make_run, own_database
from tests.test_faults import PrivateRedis
from tests.test_realtime_rocketchat_async import PlainDDP, log_in, rest, rest_ok

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://... (CI does)"
    ),
]

ADMIN_PASSWORD = "an admin passphrase"
BOB_PASSWORD = "a long passphrase of his"


class Servers:
    """Two servers on one database and one Redis: `a` and `b` are their base URLs."""

    def __init__(self, ports: list[int], logs: list[Path]) -> None:
        self.a, self.b = (f"http://127.0.0.1:{port}" for port in ports)
        self.logs = logs
        self.settings: dict[str, str] = {}  # what they were started with, for a third process
        self.admin = log_in(self.a, "admin", ADMIN_PASSWORD)

    @staticmethod
    def ws(base: str) -> str:
        return base.replace("http://", "ws://") + "/websocket"

    def socket(self, base: str, token: str) -> PlainDDP:
        ddp = PlainDDP(self.ws(base))
        answer = ddp.call("login", {"resume": token})
        assert "result" in answer, answer
        return ddp

    def user(self, username: str) -> tuple[str, str]:
        """A new user, registered through one server and signed in through the other."""
        rest_ok(
            self.b,
            "users.register",
            {
                "username": username,
                "email": f"{username}@example.com",
                "pass": BOB_PASSWORD,
                "name": username.title(),
            },
        )
        return log_in(self.a, username, BOB_PASSWORD)


def two_servers(tmp_path: Path, redis_url: str) -> Any:
    """A context manager: the two servers started one after the other (the second finds the
    database migrated), sharing SECRET_KEY and a pub/sub channel of their own."""
    stack = ExitStack()
    database_url = stack.enter_context(own_database(tmp_path))
    settings = {
        "REDIS_URL": redis_url,
        "REALTIME_CHANNEL": f"chat:events:test-{secrets.token_hex(6)}",
        "SECRET_KEY": "realtime-" + "s3cr3t-K3y-" * 5,
        "WEB_CONCURRENCY": "1",
        "ADMIN_USERNAME": "admin",
        "ADMIN_EMAIL": "admin@example.com",
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RATELIMIT_RATE": "1000/s",
        "LOGIN_RATE": "1000/m",
    }
    ports, logs = [], []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        port, log = stack.enter_context(make_run(folder, database_url, **settings))
        ports.append(port)
        logs.append(log)
    pair = Servers(ports, logs)
    pair.settings = settings | {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path / "a/var")}
    return stack, pair


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    stack, pair = two_servers(tmp_path_factory.mktemp("across"), os.environ["REDIS_URL"])
    with stack:
        yield pair


def changed_message(text: str) -> Any:
    def matches(frame: dict[str, Any]) -> bool:
        return (
            frame.get("msg") == "changed"
            and frame.get("collection") == "stream-room-messages"
            and frame["fields"]["args"][0]["msg"] == text
        )

    return matches


def test_a_socket_hears_what_is_sent_through_the_other_process_until_it_leaves(servers):
    admin = servers.admin
    bob = servers.user("bob")
    rid = rest_ok(servers.b, "channels.create", {"name": "across", "members": ["bob"]}, admin)[
        "channel"
    ]["_id"]
    listener = servers.socket(servers.a, bob[0])  # bob, on server a
    talker = servers.socket(servers.b, admin[0])  # the admin, on server b
    try:
        sub_id = listener.sub("stream-room-messages", rid)

        # Over REST through b.
        posted = rest_ok(servers.b, "chat.postMessage", {"roomId": rid, "text": "via rest"}, admin)
        frame = listener.wait_for(changed_message("via rest"), timeout=3)
        assert frame["fields"]["eventName"] == rid
        message = frame["fields"]["args"][0]
        assert (message["_id"], message["rid"], message["u"]["username"]) == (
            posted["message"]["_id"],
            rid,
            "admin",
        )

        # With sendMessage over a socket on b.
        sent = talker.call("sendMessage", {"rid": rid, "msg": "via socket"})
        assert sent["result"]["msg"] == "via socket", sent
        frame = listener.wait_for(changed_message("via socket"), timeout=3)
        assert frame["fields"]["args"][0]["_id"] == sent["result"]["_id"]

        # Bob leaves through b: his subscription on a ends, and nothing more comes.
        rest_ok(servers.b, "channels.leave", {"roomId": rid}, bob)
        assert listener.wait_for(lambda f: f.get("msg") == "nosub", timeout=3) == {
            "msg": "nosub",
            "id": sub_id,
        }
        rest_ok(servers.b, "chat.postMessage", {"roomId": rid, "text": "after leaving"}, admin)
        assert "result" in talker.call("sendMessage", {"rid": rid, "msg": "still after"})
        rest_ok(servers.a, "chat.postMessage", {"roomId": rid, "text": "and on a"}, admin)
        listener.nothing_more(1.0)
        # The socket itself is fine: still signed in, still answering.
        listener.send({"msg": "ping", "id": "still-there"})
        assert listener.wait_for(lambda f: f.get("msg") == "pong") == {
            "msg": "pong",
            "id": "still-there",
        }
    finally:
        listener.close()
        talker.close()


def test_a_token_revoked_over_rest_closes_its_sockets_on_both_processes(servers):
    carol = servers.user("carol")
    other_login = log_in(servers.b, "carol", BOB_PASSWORD)  # another token of hers
    on_a = servers.socket(servers.a, carol[0])
    on_b = servers.socket(servers.b, carol[0])
    bystander = servers.socket(servers.a, other_login[0])
    try:
        rest_ok(servers.b, "logout", {}, carol)

        assert on_a.close_code(timeout=3) == 4001
        assert on_b.close_code(timeout=3) == 4001
        # The revoked token no longer works over REST either; the other login still does.
        status, _ = rest(servers.a, "me", auth=carol)
        assert status == 401
        assert bystander.call("login", {"resume": other_login[0]}).get("result")
        assert rest_ok(servers.a, "me", auth=other_login)["username"] == "carol"
    finally:
        on_a.close()
        on_b.close()
        bystander.close()


def test_a_user_deactivated_in_the_admin_is_cut_off_on_both_processes_for_good(servers):
    dave = servers.user("dave")  # in #general, as every new user
    assert rest_ok(servers.a, "me", auth=dave)["username"] == "dave"  # kept by a's access cache
    assert rest_ok(servers.b, "me", auth=dave)["username"] == "dave"
    on_a = servers.socket(servers.a, dave[0])
    on_b = servers.socket(servers.b, dave[0])
    admin_site = AdminSession(servers.b, "admin", ADMIN_PASSWORD)
    path = f"/admin/accounts/user/{dave[1]}/change/"
    try:
        on_a.sub("stream-room-messages", "GENERAL")
        on_b.sub("stream-room-messages", "GENERAL")
        general = {"roomId": "GENERAL", "text": "before"}
        rest_ok(servers.a, "chat.postMessage", general, servers.admin)
        on_a.wait_for(changed_message("before"), timeout=3)
        on_b.wait_for(changed_message("before"), timeout=3)

        form = admin_site.form(path, "user_form")
        del form["is_active"]  # the box unticked, on server b
        assert admin_site.submit(path, form).status_code == 302
        general = {"roomId": "GENERAL", "text": "after"}
        rest_ok(servers.a, "chat.postMessage", general, servers.admin)

        assert on_a.close_code(timeout=3) == 4001
        assert on_b.close_code(timeout=3) == 4001
        assert not [frame for frame in on_a.inbox + on_b.inbox if changed_message("after")(frame)]
        assert rest(servers.a, "me", auth=dave)[0] == 401
        assert rest(servers.b, "me", auth=dave)[0] == 401

        # Ticked again, on the form opened afresh: the old token stays dead on both.
        form = admin_site.form(path, "user_form")
        form["is_active"] = ["on"]
        assert admin_site.submit(path, form).status_code == 302
        assert rest(servers.a, "me", auth=dave)[0] == 401
        assert rest(servers.b, "me", auth=dave)[0] == 401
        assert log_in(servers.a, "dave", BOB_PASSWORD)[1] == dave[1]
    finally:
        on_a.close()
        on_b.close()


def test_changepassword_run_in_a_third_process_closes_the_sockets_of_both(servers):
    erin = servers.user("erin")
    on_a = servers.socket(servers.a, erin[0])
    on_b = servers.socket(servers.b, erin[0])
    try:
        on_a.sub("stream-room-messages", "GENERAL")
        # What an administrator types at the two prompts (getpass reads stdin without a tty).
        done = subprocess.run(
            [sys.executable, "manage.py", "changepassword", "erin"],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
            | servers.settings,
            input="a new passphrase for her\n" * 2,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # no controlling terminal: the prompts read stdin
        )
        assert done.returncode == 0, done.stderr
        assert "Password changed successfully for user 'erin'" in done.stdout

        assert on_a.close_code(timeout=3) == 4001
        assert on_b.close_code(timeout=3) == 4001
        assert rest(servers.a, "me", auth=erin)[0] == 401
        assert rest(servers.b, "me", auth=erin)[0] == 401
        assert log_in(servers.b, "erin", "a new passphrase for her")[1] == erin[1]
    finally:
        on_a.close()
        on_b.close()


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def test_redis_going_away_and_coming_back(tmp_path, private_redis):
    stack, servers = two_servers(tmp_path, private_redis.url)
    with stack:
        admin = servers.admin
        bob = servers.user("bob")  # logging in needs Redis (the login guard), so before
        rid = rest_ok(servers.b, "channels.create", {"name": "weather", "members": ["bob"]}, admin)[
            "channel"
        ]["_id"]
        listener = servers.socket(servers.a, bob[0])
        talker = servers.socket(servers.b, admin[0])
        try:
            listener.sub("stream-room-messages", rid)
            rest_ok(servers.b, "chat.postMessage", {"roomId": rid, "text": "before"}, admin)
            listener.wait_for(changed_message("before"), timeout=3)

            private_redis.stop()
            time.sleep(1)  # the hubs notice and start retrying

            # The sockets stay up and answer; REST keeps working (the events are lost).
            listener.send({"msg": "ping", "id": "during"})
            assert listener.wait_for(lambda f: f.get("msg") == "pong", timeout=3)["id"] == "during"
            during = talker.call("sendMessage", {"rid": rid, "msg": "socket during"})
            assert during["result"]["msg"] == "socket during", during
            rest_ok(servers.b, "chat.postMessage", {"roomId": rid, "text": "rest during"}, admin)
            history = rest_ok(servers.a, f"channels.history?roomId={rid}", auth=bob)["messages"]
            assert [m["msg"] for m in history[:2]] == ["rest during", "socket during"]

            private_redis.start()

            # The hub resubscribes by itself (its back-off is at most 5 s): delivery resumes.
            deadline = time.monotonic() + 30
            for attempt in range(1000):
                assert time.monotonic() < deadline, f"no delivery after Redis came back: {attempt}"
                text = f"after {attempt}"
                rest_ok(servers.b, "chat.postMessage", {"roomId": rid, "text": text}, admin)
                try:
                    listener.wait_for(changed_message(text), timeout=1)
                    break
                except TimeoutError:
                    pass  # published before the hub was back: lost, as docs/realtime.md says
            sent = talker.call("sendMessage", {"rid": rid, "msg": "socket after"})
            assert "result" in sent, sent
            listener.wait_for(changed_message("socket after"), timeout=1)
            rest_ok(servers.b, "chat.postMessage", {"roomId": rid, "text": "rest after"}, admin)
            listener.wait_for(changed_message("rest after"), timeout=1)
            # The socket still holds the same, single subscription: one frame per message.
            listener.nothing_more(0.5)
        finally:
            listener.close()
            talker.close()
        logs = "".join(log.read_text() for log in servers.logs)
        assert "realtime: subscribed to Redis again" in logs


def test_a_setting_changed_in_the_admin_of_one_process_rules_the_next_request_of_the_other(
    servers,
):
    """Message_MaxAllowedSize set in the Django admin of server b: server a, which had read the
    settings already (and keeps them), answers and enforces the new value at its very next
    request, and its anonymous socket hears public-settings-changed."""
    settings_of_a = "settings.public?_id=Message_MaxAllowedSize"
    assert rest_ok(servers.a, settings_of_a)["settings"] == [
        {"_id": "Message_MaxAllowedSize", "value": 5000}
    ]
    anonymous = PlainDDP(servers.ws(servers.a))
    admin_site = AdminSession(servers.b, "admin", ADMIN_PASSWORD)
    path = "/admin/accounts/setting/Message_MaxAllowedSize/change/"
    try:
        anonymous.sub("stream-notify-all", "public-settings-changed")
        form = admin_site.form(path, "setting_form")
        form["value"] = ["7"]
        assert admin_site.submit(path, form).status_code == 302

        assert rest_ok(servers.a, settings_of_a)["settings"] == [
            {"_id": "Message_MaxAllowedSize", "value": 7}
        ]
        long = {"roomId": "GENERAL", "text": "eight ch"}
        status, answer = rest(servers.a, "chat.postMessage", long, servers.admin)
        assert (status, answer["errorType"]) == (400, "error-message-size-exceeded")
        frame = anonymous.wait_for(
            lambda f: f.get("msg") == "changed" and f.get("collection") == "stream-notify-all",
            timeout=3,
        )
        assert frame["fields"] == {
            "eventName": "public-settings-changed",
            "args": ["updated", {"_id": "Message_MaxAllowedSize", "value": 7}],
        }

        # Back to the default over REST on a: b reads it at once.
        back = {"value": None}
        rest_ok(servers.a, "settings/Message_MaxAllowedSize", back, servers.admin)
        assert rest_ok(servers.b, "settings.public?_id=Message_MaxAllowedSize")["settings"] == [
            {"_id": "Message_MaxAllowedSize", "value": 5000}
        ]
        rest_ok(servers.b, "chat.postMessage", long, servers.admin)
    finally:
        anonymous.close()
