"""Many clients at once against a live multi-worker server (`make run`: gunicorn, 4 worker
processes, rate limits off) on PostgreSQL: nothing lost, nothing doubled, nothing half done.

SQLite serialises every write, so these races only mean something on PostgreSQL. The tests run
whenever DATABASE_URL points at PostgreSQL (CI's second pass does) and are skipped, saying so,
otherwise. The server gets a database of its own (tests/servers.own_database), which the tests
also read directly to compare with what the API says.
"""

import http.client
import json
import os
from concurrent.futures import ThreadPoolExecutor

import dj_database_url
import pytest

from tests.conftest import PASSWORD
from tests.servers import make_run, own_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does); SQLite serialises "
        "every write, so races cannot happen there",
    ),
]

SENDERS = 32
MESSAGES = 10_000


class Server:
    """A live server and a direct connection to its database."""

    def __init__(self, port: int, database_url: str) -> None:
        self.port = port
        self.database_url = database_url

    def call(self, method, path, body=None, headers=None):
        """One request on a fresh connection: (status, decoded JSON)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            data = json.dumps(body).encode() if body is not None else None
            all_headers = {"Content-Type": "application/json"} | (headers or {})
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def log_in(self, username, password=PASSWORD):
        status, body = self.call("POST", "/api/login", {"user": username, "password": password})
        assert status == 200, body
        return {"X-Auth-Token": body["data"]["authToken"], "X-User-Id": body["data"]["userId"]}

    def query(self, sql, *params):
        import psycopg2

        config = dj_database_url.parse(self.database_url)
        connection = psycopg2.connect(
            dbname=config["NAME"],
            user=config["USER"],
            password=config["PASSWORD"],
            host=config["HOST"],
            port=config["PORT"] or 5432,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("concurrency")
    with (
        own_database(tmp_path) as database_url,
        make_run(
            tmp_path,
            database_url,
            WEB_CONCURRENCY="4",
            RATELIMIT_ENABLE="false",
            ADMIN_USERNAME="boss",
            ADMIN_EMAIL="boss@example.com",
            ADMIN_PASSWORD=PASSWORD,
        ) as (port, _log),
    ):
        yield Server(port, database_url)


@pytest.fixture(scope="module")
def boss(server):
    return server.log_in("boss")


@pytest.fixture(scope="module")
def people(server, boss):
    """{username: headers} for SENDERS users registered in one batch."""
    records = [
        {"email": f"p{n}@example.com", "name": f"person{n}", "pass": PASSWORD}
        for n in range(SENDERS)
    ]
    status, body = server.call("POST", "/api/bulk/register", {"users": records}, boss)
    assert status == 200, body
    with ThreadPoolExecutor(max_workers=8) as pool:
        headers = list(pool.map(server.log_in, [r["name"] for r in records]))
    return dict(zip([r["name"] for r in records], headers, strict=True))


def test_32_senders_lose_none_of_10000_messages_and_count_exactly(server, boss, people):
    status, body = server.call(
        "POST", "/api/v1/channels.create", {"name": "busy", "members": list(people)}, boss
    )
    assert status == 200, body
    room_id = body["channel"]["_id"]
    senders = list(people.values())
    shares = [MESSAGES // SENDERS + (n < MESSAGES % SENDERS) for n in range(SENDERS)]

    def send_share(n):
        answers = []
        for i in range(shares[n]):
            text = f"sender {n} message {i}"
            if i % 2:  # both APIs, through the same service
                answers.append(
                    server.call(
                        "POST",
                        "/api/v1/chat.postMessage",
                        {"roomId": room_id, "text": text},
                        senders[n],
                    )
                )
            else:
                answers.append(
                    server.call("POST", f"/api/rooms/{room_id}/send", {"msg": text}, senders[n])
                )
        return answers

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        answers = [answer for share in pool.map(send_share, range(SENDERS)) for answer in share]

    failures = [answer for answer in answers if answer[0] != 200]
    assert failures == []
    assert len(answers) == MESSAGES
    # Through the API: the room's counter, the history's total, and every message once.
    status, info = server.call("GET", f"/api/v1/channels.info?roomId={room_id}", headers=boss)
    assert status == 200
    assert info["channel"]["msgs"] == MESSAGES
    status, page = server.call(
        "GET", f"/api/v1/channels.messages?roomId={room_id}&count=1", headers=boss
    )
    assert page["total"] == MESSAGES
    # In the database: as many rows as answers, with distinct times, and `lm` the newest.
    [(rows, distinct_ids, distinct_times, newest)] = server.query(
        "SELECT count(*), count(DISTINCT id), count(DISTINCT ts), max(ts) FROM rooms_message"
        " WHERE room_id = %s",
        room_id,
    )
    assert rows == distinct_ids == distinct_times == MESSAGES
    [(msgs, lm)] = server.query("SELECT msgs, lm FROM rooms_room WHERE id = %s", room_id)
    assert msgs == MESSAGES
    assert lm == newest
    texts = {
        row[0] for row in server.query("SELECT msg FROM rooms_message WHERE room_id = %s", room_id)
    }
    assert len(texts) == MESSAGES


def test_concurrent_joins_and_leaves_end_in_one_consistent_membership(server, boss, people):
    status, body = server.call("POST", "/api/v1/channels.create", {"name": "revolving"}, boss)
    assert status == 200, body
    room_id = body["channel"]["_id"]
    name, headers = next(iter(people.items()))
    calls = [
        ("POST", f"/api/rooms/{room_id}/join", {}),
        ("POST", f"/api/rooms/{room_id}/leave", {}),
        ("POST", "/api/v1/channels.join", {"roomId": room_id}),
        ("POST", "/api/v1/channels.leave", {"roomId": room_id}),
    ]
    plan = [calls[(n * 7 + n // 4) % len(calls)] for n in range(200)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda c: server.call(*c, headers=headers), plan))

    for (_, path, _), (status, body) in zip(plan, answers, strict=True):
        if "join" in path:
            assert status == 200, body
        else:  # leaving a room one is not in (any more) is Rocket.Chat's 400
            assert status == 200 or body["errorType"] == "error-user-not-in-room", body
    user_id = headers["X-User-Id"]
    [(in_db,)] = server.query(
        "SELECT count(*) FROM rooms_subscription WHERE room_id = %s AND user_id = %s",
        room_id,
        user_id,
    )
    assert in_db in (0, 1)
    status, members = server.call(
        "GET", f"/api/v1/channels.members?roomId={room_id}&count=100", headers=boss
    )
    assert status == 200
    assert (name in [m["username"] for m in members["members"]]) == bool(in_db)
    status, joined = server.call("GET", "/api/joinedRooms", headers=headers)
    assert (room_id in [room["_id"] for room in joined["rooms"]]) == bool(in_db)
    # And the membership still works both ways.
    assert server.call("POST", f"/api/rooms/{room_id}/join", {}, headers)[0] == 200
    assert server.call("POST", f"/api/rooms/{room_id}/leave", {}, headers)[0] == 200
    assert server.query(
        "SELECT count(*) FROM rooms_subscription WHERE room_id = %s AND user_id = %s",
        room_id,
        user_id,
    ) == [(0,)]


@pytest.mark.parametrize("path", ["/api/bulk/createRoom", "/api/v1/channels.create"])
def test_concurrent_creates_of_one_name_make_one_room_and_a_clear_400(server, boss, path):
    name = f"contested{path.count('v1')}"
    body = {"rooms": [{"name": name, "members": []}]} if "bulk" in path else {"name": name}

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: server.call("POST", path, body, boss), range(16)))

    successes = [answer for status, answer in answers if status == 200]
    refusals = [answer for status, answer in answers if status != 200]
    assert len(successes) == 1, answers
    assert len(refusals) == 15
    for status, answer in answers:
        assert status in (200, 400), answer
    for answer in refusals:
        assert answer["errorType"] == "error-duplicate-channel-name", answer
        assert name in answer["message"] or "taken meanwhile" in answer["message"], answer
    assert server.query("SELECT count(*) FROM rooms_room WHERE lower(name) = %s", name) == [(1,)]
    [(room_id,)] = server.query("SELECT id FROM rooms_room WHERE name = %s", name)
    # The one room is whole: its creator is its one member, and owns it.
    assert server.query("SELECT count(*) FROM rooms_subscription WHERE room_id = %s", room_id) == [
        (1,)
    ]


def test_concurrent_logins_and_logouts_leave_no_revoked_token_usable(server, people):
    names = list(people)[:8]

    def log_in_and_out(name):
        """Four logins; two of them logged out again, each twice at once."""
        tokens = [server.log_in(name) for _ in range(4)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            outs = list(
                pool.map(
                    lambda headers: server.call("POST", "/api/logout", None, headers),
                    [tokens[0], tokens[0], tokens[1], tokens[1]],
                )
            )
        return tokens, outs

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(log_in_and_out, names))

    revoked, kept = [], []
    for tokens, outs in results:
        # Of two logouts of one token at once, at least one succeeds; the other may find it gone.
        assert all(status in (200, 401) for status, _ in outs), outs
        assert 200 in (outs[0][0], outs[1][0]) and 200 in (outs[2][0], outs[3][0]), outs
        revoked += tokens[:2]
        kept += tokens[2:]

    with ThreadPoolExecutor(max_workers=8) as pool:
        revoked_answers = list(
            pool.map(lambda h: server.call("GET", "/api/v1/me", None, h), revoked)
        )
        kept_answers = list(pool.map(lambda h: server.call("GET", "/api/v1/me", None, h), kept))
    assert [status for status, _ in revoked_answers] == [401] * len(revoked)
    assert [status for status, _ in kept_answers] == [200] * len(kept)
    import hashlib

    digests = [hashlib.sha256(h["X-Auth-Token"].encode()).hexdigest() for h in revoked]
    assert server.query(
        "SELECT count(*) FROM accounts_logintoken WHERE digest = ANY(%s)", digests
    ) == [(0,)]
