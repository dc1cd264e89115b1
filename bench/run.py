"""The benchmark: the hot endpoints against a bare Django + DRF ceiling, at 10 k and 1 M messages,
the ways of serving them compared, and the realtime API's fan-out.

    .venv/bin/python bench/run.py            # the full run (`make bench`), about 25 minutes
    .venv/bin/python bench/run.py --smoke    # a few seconds a scenario: proves the harness works

It makes a database of its own on the local PostgreSQL (BENCH_DATABASE_URL), seeds it with COPY,
starts the product as `make run` would in production (gunicorn, DEBUG off, PostgreSQL, Redis,
rate limits on, with budgets the load never reaches) and the bare app under bench/bare with the same gunicorn settings, drives both
with wrk from this second process after a warm-up, and writes bench/results/latest.json and
latest.md (git-ignored) plus a summary on stdout. Beside the bench room, two scenarios on
`make run`'s setup only: subscriptions.get of a user in `mode.subscribed` rooms (against a bare
select of the same rows), and a send into a group of `mode.members` members (against the bare
insert, interleaved with the sends into the bench room).

At 10 k messages each product endpoint is also served by the old gunicorn sync WSGI workers and
by alternative settings of `manage.py serve` (see `servings`), among them the same with rate limits
off, runs interleaved, and the report gives each setup's ratio to the best WSGI figure and the
limits' cost (limits on against off). Then the realtime round: subscribers to the
bench room's `stream-room-messages`, half on each of two `manage.py serve --workers 1` processes
(sharing PostgreSQL and Redis), in separate subscriber processes, while messages are sent over
REST at `rate` a second, then as fast as the senders can (the burst): delivered/sent,
send-to-receive latency, and deliveries a second per server process.

It measures; it asserts no timing. It exits non-zero only if the harness itself failed (a
scenario with no result or errors, a server that died, a realtime message not delivered to
every subscriber).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import io
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/chat_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOM = "BENCHROOM"
BIG_ROOM = "BIGROOM"  # mode.members members: a send costs the same as into a small room
SUBS_USER = "benchsubs"  # a member of mode.subscribed rooms of its own: subscriptions.get
PASSWORD = "bench passphrase"  # noqa: S105 - the throwaway bench database's only user login

# The product process and this one share the database settings. Rate limits are on, as `make run`
# has them, every request counted, with budgets the load never reaches (a limited request would be
# an error in the report). LIMITS_OFF is the setup beside it that measures what counting costs.
os.environ.update(
    DATABASE_URL=DATABASE_URL,
    REDIS_URL=REDIS_URL,
    DJANGO_SETTINGS_MODULE="chat_project.settings",
    RATELIMIT_ENABLE="true",
    RATELIMIT_RATE="1000000/s",
    LOGIN_RATE="1000000/s",
    # Many logins of one account at once each reserve a failure before the password is checked
    # (accounts.login_guard): the bench's concurrent logins would pass the default 10.
    LOGIN_FAILURES_PER_USER="1000000",
    LOGIN_FAILURES_PER_ADDRESS="1000000",
    REALTIME_METHOD_RATE="1000000/s",
    REALTIME_SEND_RATE="1000000/s",
    # Every bench socket comes from 127.0.0.1: up to all of the largest round's on one process.
    REALTIME_SOCKETS_PER_ADDRESS="100000",
)
LIMITS_OFF = "serve, rate limits off"
sys.path.insert(0, str(ROOT))


@dataclass
class Mode:
    duration: int
    warmup: int
    runs: int
    connections: int
    threads: int
    small: int  # messages in the first phase
    large: int  # ... in the second
    rooms: int
    users: int
    subscribed: int  # rooms of the subscriptions user (subscriptions.get)
    members: int  # members of the big room (a send into it)
    # The realtime benchmark: subscribers to the bench room spread over two server processes.
    subscribers: tuple[int, ...]  # one round each
    rate: int  # messages a second sent over REST in the steady phase...
    seconds: int  # ... for this long
    burst: int  # seconds of sending as fast as the senders can
    clients: int  # subscriber processes


FULL = Mode(
    duration=10,
    warmup=3,
    runs=3,
    connections=16,
    threads=2,
    small=10_000,
    large=1_000_000,
    rooms=1000,
    users=200,
    subscribed=5_000,
    members=10_000,
    subscribers=(100, 1000),
    rate=20,
    seconds=10,
    burst=5,
    clients=2,
)
SMOKE = Mode(
    duration=1,
    warmup=1,
    runs=1,
    connections=4,
    threads=1,
    small=500,
    large=2_000,
    rooms=20,
    users=10,
    subscribed=200,
    members=500,
    subscribers=(20,),
    rate=20,
    seconds=2,
    burst=1,
    clients=2,
)


@dataclass
class Result:
    name: str
    phase: str
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0
    drops: int = 0  # keep-alive connections closed by the server (see wrk)
    queries: int | None = None
    ceiling: str | None = None
    serving: str | None = None  # which server setup answered (None: the bare app)


# --- services and the database ---------------------------------------------------------------------


def ensure_services() -> None:
    """PostgreSQL and Redis up (CI's script knows how to start or install them)."""
    subprocess.run(["bash", str(ROOT / ".ci" / "services.sh")], check=True)


def fresh_database() -> None:
    import dj_database_url
    import psycopg2

    parts = dj_database_url.parse(DATABASE_URL)
    admin = psycopg2.connect(
        dbname="postgres",
        user=parts["USER"],
        password=parts["PASSWORD"],
        host=parts["HOST"],
        port=parts["PORT"] or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parts["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{parts["NAME"]}"')
    admin.close()
    manage("migrate", "--noinput", "-v", "0")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def copy_rows(cursor: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    """COPY rows in (tab-separated text), in chunks so a million rows need little memory."""

    def encode(value: Any) -> str:
        if value is None:
            return r"\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")

    while True:
        chunk = io.StringIO()
        count = 0
        for row in rows:
            chunk.write("\t".join(encode(v) for v in row) + "\n")
            count += 1
            if count == 50_000:
                break
        if not count:
            return
        chunk.seek(0)
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", chunk)


ROOM_COLUMNS = [
    "id",
    "t",
    "name",
    "creator_id",
    "ts",
    "updated_at",
    "msgs",
    "lm",
    "is_default",
    "read_only",
    "archived",
    "topic",
    "description",
    "announcement",
    "custom_fields",
    "join_code",
]


def room_row(
    rid: str, t: str, name: str, creator: str, now: datetime, msgs: int
) -> tuple[Any, ...]:
    """A rooms_room row (ROOM_COLUMNS): a room with `msgs` messages, the last a minute ago."""
    lm = now - timedelta(minutes=1) if msgs else None
    return (rid, t, name, creator, now, now, msgs, lm, False, False, False, "", "", "", "{}", "")


# A subscription with the user's own state (rooms.models.Subscription): read marks, mentions,
# hidden or favourite. name/fname stay blank: a channel or group shows its room's.
SUBSCRIPTION_COLUMNS = [
    "room_id",
    "user_id",
    "ts",
    "read_msgs",
    "ls",
    "lr",
    "user_mentions",
    "group_mentions",
    "closed_at",
    "f",
    "name",
    "fname",
    "updated_at",
]


def subscription_row(
    rid: str,
    uid: str,
    now: datetime,
    *,
    read_msgs: int = 0,
    user_mentions: int = 0,
    group_mentions: int = 0,
    hidden: bool = False,
    favourite: bool = False,
) -> tuple[Any, ...]:
    closed_at = now - timedelta(hours=1) if hidden else None
    return (
        rid,
        uid,
        now,
        read_msgs,
        now,
        None,
        user_mentions,
        group_mentions,
        closed_at,
        favourite,
        "",
        "",
        now,
    )


@dataclass
class Seeded:
    users: list[str]  # bench0, bench1...: users[0] signs in for the REST scenarios
    tokens: list[str]  # login tokens for the realtime subscribers, the first users[0]'s
    subs_token: tuple[str, str]  # (token, user id) of SUBS_USER


def seed(mode: Mode) -> Seeded:
    """Users, rooms with members, the bench room's first `mode.small` messages, and a login
    token for each realtime subscriber (users taken in turn; the first token is users[0]'s).
    Besides: SUBS_USER, a member of `mode.subscribed` private groups of its own with varied
    state (unread messages, mentions, favourites, hidden, owner of some), and BIG_ROOM, a private
    group of `mode.members` members (every user, users[0] included, and as many more as it
    takes). Groups, not channels, so that /api/publicRooms lists the same as without them."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from chat_project.db.ids import random_id

    rng = random.Random(7)
    now = datetime.now(UTC)
    password = make_password(PASSWORD)
    users = [random_id() for _ in range(mode.users)]
    subs_user = random_id()
    extra = [random_id() for _ in range(max(0, mode.members - mode.users))]
    accounts = (
        [(uid, f"bench{n}") for n, uid in enumerate(users)]
        + [(subs_user, SUBS_USER)]
        + [(uid, f"member{n}") for n, uid in enumerate(extra)]
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(
            raw,
            "accounts_user",
            [
                "id",
                "username",
                "email",
                "name",
                "password",
                "is_active",
                "is_staff",
                "is_superuser",
                "created_at",
                "updated_at",
                "preferences",
            ],
            (
                (
                    uid,
                    username,
                    f"{username}@example.com",
                    username.capitalize(),
                    password,
                    True,
                    False,
                    False,
                    now,
                    now,
                    "{}",
                )
                for uid, username in accounts
            ),
        )
        copy_rows(
            raw,
            "accounts_user_roles",
            ["user_id", "role_id"],
            ((uid, "user") for uid, _ in accounts),
        )
        rooms = [(ROOM, "bench")] + [(random_id(), f"room{n}") for n in range(mode.rooms - 1)]
        groups = [(random_id(), f"group{n}", rng.randrange(0, 500)) for n in range(mode.subscribed)]
        big_msgs = 1000
        copy_rows(
            raw,
            "rooms_room",
            ROOM_COLUMNS,
            itertools.chain(
                (
                    room_row(rid, "c", name, users[0], now, rng.randrange(0, 500))
                    for rid, name in rooms
                ),
                (room_row(rid, "p", name, subs_user, now, msgs) for rid, name, msgs in groups),
                [room_row(BIG_ROOM, "p", "big", users[0], now, big_msgs)],
            ),
        )

        def subscriptions() -> Iterator[tuple[Any, ...]]:
            for rid, _ in rooms:
                for uid in {users[0], *rng.sample(users, 5)}:
                    yield subscription_row(rid, uid, now)
            for rid, _, msgs in groups:
                # Most read up to a few messages back; some with mentions, hidden, favourite.
                yield subscription_row(
                    rid,
                    subs_user,
                    now,
                    read_msgs=max(0, msgs - rng.choice([0, 0, 0, 1, 5, 40])),
                    user_mentions=rng.choice([0] * 9 + [1]),
                    group_mentions=rng.choice([0] * 19 + [2]),
                    hidden=rng.random() < 0.1,
                    favourite=rng.random() < 0.05,
                )
            for uid in users + extra:
                yield subscription_row(
                    BIG_ROOM, uid, now, read_msgs=big_msgs - rng.randrange(0, 50)
                )

        copy_rows(raw, "rooms_subscription", SUBSCRIPTION_COLUMNS, subscriptions())
        # The creator owns a room (Rocket.Chat's owner role): SUBS_USER a tenth of its groups.
        raw.execute(
            "INSERT INTO rooms_subscription_roles (subscription_id, role_id) "
            "SELECT id, 'owner' FROM rooms_subscription WHERE user_id = %s AND room_id = ANY(%s)",
            [subs_user, [rid for rid, _, _ in groups[::10]]],
        )
        raw.execute("CREATE TABLE bare_message (LIKE rooms_message INCLUDING ALL)")
    add_messages(mode.small, users)
    from accounts.models import LoginToken
    from accounts.tokens import token_digest

    tokens = [secrets.token_urlsafe(32) for _ in range(max(mode.subscribers))]
    subs_secret = secrets.token_urlsafe(32)
    LoginToken.objects.bulk_create(
        LoginToken(
            user_id=uid,
            digest=token_digest(secret),
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        for uid, secret in [
            *((users[n % len(users)], secret) for n, secret in enumerate(tokens)),
            (subs_user, subs_secret),
        ]
    )
    return Seeded(users, tokens, (subs_secret, subs_user))


def add_messages(upto: int, users: list[str]) -> None:
    """Fills the bench room (and its bare twin) up to `upto` messages: authors drawn from every
    user, times a few seconds apart over the past months, strictly rising as the product keeps
    them."""
    from django.db import connection

    from chat_project.db.ids import random_id

    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("SELECT count(*) FROM rooms_message WHERE room_id = %s", [ROOM])
        have = raw.fetchone()[0]
        rng = random.Random(have)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        words = [
            "the",
            "a",
            "chat",
            "message",
            "hello",
            "ok",
            "deploy",
            "build",
            "lunch",
            "review",
            "merge",
            "ship",
        ]

        def rows() -> Iterator[tuple[Any, ...]]:
            ts = start + timedelta(seconds=have * 3)
            for _ in range(have, upto):
                ts += timedelta(milliseconds=rng.randrange(1, 6000))
                text = " ".join(rng.choices(words, k=rng.randrange(2, 20)))
                yield (random_id(), ROOM, rng.choice(users), text, ts, ts, "", "", "", "[]")

        columns = [
            "id",
            "room_id",
            "author_id",
            "msg",
            "ts",
            "updated_at",
            "alias",
            "emoji",
            "avatar",
            "attachments",
        ]
        copy_rows(raw, "rooms_message", columns, rows())
        raw.execute(
            "INSERT INTO bare_message SELECT * FROM rooms_message WHERE room_id = %s AND id NOT IN (SELECT id FROM bare_message)",
            [ROOM],
        )
        raw.execute(
            "UPDATE rooms_room SET msgs = (SELECT count(*) FROM rooms_message WHERE room_id = %s), lm = (SELECT max(ts) FROM rooms_message WHERE room_id = %s) WHERE id = %s",
            [ROOM, ROOM, ROOM],
        )
        raw.execute("ANALYZE")


# --- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(command: list[str], port: int, probe: str, env: dict[str, str]) -> Iterator[None]:
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=os.environ | env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(
                        f"server {command} did not start:\n{log.read()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def gunicorn_options(workers: int) -> list[str]:
    return ["--workers", str(workers), "--worker-class", "sync", "--timeout", "30"]


# --- wrk -------------------------------------------------------------------------------------------


LUA = """
local counter = 0
local headers = {{["Content-Type"] = "{content_type}"{auth}}}
request = function()
  counter = counter + 1
  local body = {body}
  return wrk.format("{method}", "{path}", headers, body)
end
"""


def lua_script(
    method: str, path: str, *, token: tuple[str, str] | None, body: str | dict[str, Any] | None
) -> str:
    """A wrk script: the auth headers, and a body (a form if a string, else JSON) in which
    UNIQUE becomes a counter and a random number, so that no two requests send the same."""
    auth = f', ["X-Auth-Token"] = "{token[0]}", ["X-User-Id"] = "{token[1]}"' if token else ""
    if body is None:
        lua_body = "nil"
    else:
        text = body if isinstance(body, str) else json.dumps(body)
        lua_body = json.dumps(text).replace(
            "UNIQUE", '" .. counter .. "-" .. math.random(1, 1000000000) .. "'
        )
    content_type = (
        "application/x-www-form-urlencoded" if isinstance(body, str) else "application/json"
    )
    return LUA.format(content_type=content_type, auth=auth, body=lua_body, method=method, path=path)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, script: str, mode: Mode, seconds: int) -> tuple[float, float, float, int, int]:
    """(requests/s, p50 ms, p99 ms, errors, drops). Errors: non-2xx answers, failed connects and
    timeouts. Drops: keep-alive connections the server closed under a request (read and write
    errors), as a worker recycled after gunicorn's max_requests does; a client retries those."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(mode.threads),
            "-c",
            str(mode.connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "--timeout",  # a slow answer is a latency to report, not a harness error
            "10s",
            "-s",
            handle.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * UNITS[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(bad.group(1)) if bad else 0
    drops = 0
    if socket_errors:
        connect, read, write, timeout = (int(n) for n in socket_errors.groups())
        errors += connect + timeout
        drops = read + write
    return rps, percentile("50"), percentile("99"), errors, drops


@dataclass
class Target:
    """One scenario on one server: what compare() runs wrk against."""

    result: Result
    url: str
    script: str  # wrk's Lua (lua_script)


def compare(targets: list[Target], mode: Mode) -> list[Result]:
    """Runs the targets' scenarios interleaved: a run of each in turn, the order rotating from
    one round to the next, so that the machine's swings (a noisy neighbour, the load of the
    previous run settling) weigh on all of them alike. A ratio between two targets of one call
    (an endpoint and its ceiling, two serving setups) compares two things measured at the same
    moments."""
    for target in targets:  # warm-up: connections, caches, prepared statements
        wrk(target.url, target.script, mode, mode.warmup)
    for run in range(mode.runs):
        for target in targets[run % len(targets) :] + targets[: run % len(targets)]:
            rps, p50, p99, errors, drops = wrk(target.url, target.script, mode, mode.duration)
            result = target.result
            result.rps.append(rps)
            result.p50_ms.append(p50)
            result.p99_ms.append(p99)
            result.errors += errors
            result.drops += drops
    for result in (target.result for target in targets):
        served = f" [{result.serving}]" if result.serving and len(targets) > 1 else ""
        print(
            f"  {result.name + served:<48} {result.phase:>5}  {statistics.median(result.rps):9.0f} req/s  p50 {statistics.median(result.p50_ms):6.2f} ms  p99 {statistics.median(result.p99_ms):7.2f} ms  errors {result.errors}  drops {result.drops}"
        )
    return [target.result for target in targets]


# --- the realtime API: subscribers on two server processes ----------------------------------------
#
# Each subscriber process runs a minimal websocket client on asyncio (an RFC 6455 frame parser of
# a few lines, no compression offered), so that one process can take tens of thousands of frames
# a second and the subscribers are not what limits the measurement. A message's text carries its
# phase, its sequence number and the time it was sent: "bench-rt <phase> <seq> <unix time>".

RT_MARK = b"bench-rt "


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    mask = os.urandom(4)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
    return head + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")


class Tally:
    """What one subscriber process received, by phase."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, bytes], set[int]] = defaultdict(set)  # (socket, phase) -> seqs
        self.latency_ms: dict[bytes, list[float]] = defaultdict(list)
        # From the message's own `ts` (set in the server's transaction) to its arrival here.
        self.from_ts_ms: dict[bytes, list[float]] = defaultdict(list)
        self.frames: dict[bytes, int] = defaultdict(int)
        # (phase, port, tenth of a second) -> frames, for the deliveries per second per process
        self.buckets: dict[tuple[bytes, int, int], int] = defaultdict(int)


class Subscriber(asyncio.Protocol):
    def __init__(self, index: int, port: int, tally: Tally) -> None:
        self.index, self.port, self.tally = index, port, tally
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.waiting: dict[str, asyncio.Future[Any]] = {}
        self.upgraded = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET /websocket HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for future in [self.opened, *self.waiting.values()]:
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(ws_frame(json.dumps(message).encode()))

    async def call(self, key: str, message: dict[str, Any]) -> Any:
        future = self.waiting[key] = asyncio.get_running_loop().create_future()
        self.send(message)
        return await asyncio.wait_for(future, timeout=60)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buffer[:200]).decode("latin-1")))
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            length, head = buffer[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            opcode = buffer[pos] & 0x0F
            payload = bytes(buffer[pos + head : end])
            pos = end
            if opcode == 1:
                self.text(payload, now)
            elif opcode == 9 and self.transport is not None:  # ping
                self.transport.write(ws_frame(payload, 10))
            elif opcode == 8:
                self.closed = True
        if pos:
            del buffer[:pos]

    def text(self, payload: bytes, now: float) -> None:
        mark = payload.find(RT_MARK)
        if mark >= 0 and payload.startswith(b'{"msg":"changed"'):
            _, phase, seq, sent = payload[mark : payload.index(b'"', mark)].split(b" ")
            tally = self.tally
            tally.seen[(self.index, phase)].add(int(seq))
            tally.latency_ms[phase].append((now - float(sent)) * 1000)
            ts = payload.find(b'"ts":{"$date":')
            if ts >= 0:
                ms = payload[ts + 14 : payload.index(b"}", ts)]
                tally.from_ts_ms[phase].append(now * 1000 - int(ms))
            tally.frames[phase] += 1
            tally.buckets[(phase, self.port, int(now * 10))] += 1
            return
        message = json.loads(payload)
        kind = message.get("msg")
        if kind == "ping":
            self.send({"msg": "pong"})
        elif kind == "connected":
            self.resolve("connected", message)
        elif kind == "result":
            self.resolve(message["id"], message, message.get("error"))
        elif kind in ("ready", "nosub"):
            for sub in message.get("subs", [message.get("id")]):
                self.resolve(sub, message, message.get("error") if kind == "nosub" else None)

    def resolve(self, key: str, message: Any, error: Any = None) -> None:
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            if error is not None:
                future.set_exception(RuntimeError(f"{key}: {error}"))
            else:
                future.set_result(message)


async def subscribe(index: int, port: int, token: str, room: str, tally: Tally) -> Subscriber:
    """DDP connect, login with the resume token, and a sub to the room's messages."""
    loop = asyncio.get_running_loop()
    _, sub = await loop.create_connection(lambda: Subscriber(index, port, tally), "127.0.0.1", port)
    await asyncio.wait_for(sub.opened, timeout=60)
    await sub.call("connected", {"msg": "connect", "version": "1", "support": ["1"]})
    await sub.call(
        "login", {"msg": "method", "id": "login", "method": "login", "params": [{"resume": token}]}
    )
    await sub.call(
        "room", {"msg": "sub", "id": "room", "name": ROOM_STREAM, "params": [room, False]}
    )
    return sub


ROOM_STREAM = "stream-room-messages"


async def subscriber_loop(pipe: Any, sockets: list[tuple[int, str]], room: str) -> None:
    loop = asyncio.get_running_loop()
    tally = Tally()
    gate = asyncio.Semaphore(32)  # logins at once: each is a query in a server thread

    async def one(index: int, port: int, token: str) -> Subscriber:
        async with gate:
            return await subscribe(index, port, token, room, tally)

    opened = await asyncio.gather(
        *(one(i, port, token) for i, (port, token) in enumerate(sockets)), return_exceptions=True
    )
    subs = [s for s in opened if isinstance(s, Subscriber)]
    failures = [repr(s) for s in opened if not isinstance(s, Subscriber)]
    pipe.send(("ready", len(subs), failures[:3]))
    cpu = os.times()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "count":
            pipe.send(tally.frames.get(command[1].encode(), 0))
        elif command[0] == "cpu":
            now = os.times()
            pipe.send(now.user + now.system - cpu.user - cpu.system)
            cpu = now
        elif command[0] == "stop":
            phases = {phase for _, phase in tally.seen}
            pipe.send(
                {
                    "received": {
                        phase.decode(): [
                            len(tally.seen.get((i, phase), ())) for i in range(len(sockets))
                        ]
                        for phase in phases
                    },
                    "latency_ms": {p.decode(): v for p, v in tally.latency_ms.items()},
                    "from_ts_ms": {p.decode(): v for p, v in tally.from_ts_ms.items()},
                    "buckets": [
                        (p.decode(), port, b, n) for (p, port, b), n in tally.buckets.items()
                    ],
                    "closed": sum(s.closed for s in subs),
                }
            )
            for sub in subs:
                if sub.transport is not None:
                    sub.transport.close()
            return


def subscriber_process(pipe: Any, sockets: list[tuple[int, str]], room: str) -> None:
    raise_fd_limit()
    asyncio.run(subscriber_loop(pipe, sockets, room))


def raise_fd_limit() -> None:
    """A socket is a file descriptor: up to the hard limit, for subscribers and servers alike."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Realtime:
    subscribers: int
    phase: str  # "steady" (mode.rate a second) or "burst" (as fast as the senders go)
    connected: int = 0
    seconds: float = 0.0
    sent: int = 0
    send_errors: int = 0
    expected: int = 0  # sent times subscribers
    delivered: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    from_ts_p50_ms: float = 0.0  # the same from the message's `ts`, so without the REST request
    from_ts_p99_ms: float = 0.0
    peak_per_process: list[float] = field(default_factory=list)  # best 1 s, each server process
    mean_per_process: list[float] = field(default_factory=list)  # over the phase's deliveries
    client_cpu: float = 0.0  # the busiest subscriber process's share of a core
    closed: int = 0  # sockets the server closed

    @property
    def ratio(self) -> float:
        return self.delivered / self.expected if self.expected else 0.0


class Sender:
    """Posts messages to the bench room over REST, one keep-alive connection per thread and port."""

    def __init__(self, token: tuple[str, str]) -> None:
        self.headers = {
            "Content-Type": "application/json",
            "X-Auth-Token": token[0],
            "X-User-Id": token[1],
        }
        self.local = threading.local()

    def post(self, port: int, phase: str, seq: int) -> bool:
        conns: dict[int, http.client.HTTPConnection] = self.local.__dict__.setdefault("conns", {})
        conn = conns.get(port)
        if conn is None:
            conn = conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"msg": f"bench-rt {phase} {seq} {time.time():.6f}"})
        try:
            conn.request("POST", f"/api/rooms/{ROOM}/send", body, self.headers)
            response = conn.getresponse()
            response.read()
            return response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            del conns[port]
            return False


def steady(sender: Sender, ports: list[int], rate: int, seconds: int) -> tuple[int, int]:
    """`rate` messages a second for `seconds`, alternating between the ports, on schedule."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        start, futures = time.monotonic(), []
        for seq in range(rate * seconds):
            delay = start + seq / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(sender.post, ports[seq % len(ports)], "s", seq))
        ok = sum(f.result() for f in futures)
    return ok, len(futures) - ok


def burst(sender: Sender, ports: list[int], seconds: int, threads: int = 6) -> tuple[int, int]:
    """As many messages as `threads` senders get through in `seconds`."""
    counter, stop = itertools.count(), time.monotonic() + seconds

    def send(port: int) -> tuple[int, int]:
        ok = failed = 0
        while time.monotonic() < stop:
            if sender.post(port, "b", next(counter)):
                ok += 1
            else:
                failed += 1
        return ok, failed

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(send, [ports[n % len(ports)] for n in range(threads)]))
    return sum(o for o, _ in outcomes), sum(f for _, f in outcomes)


def realtime_round(
    mode: Mode, count: int, ports: list[int], tokens: list[str], sender: Sender
) -> list[Realtime]:
    """`count` subscribers, half on each port, in mode.clients processes; a steady phase, then a
    burst."""
    context = multiprocessing.get_context("spawn")
    sockets = [(ports[n % len(ports)], tokens[n]) for n in range(count)]
    pipes, children = [], []
    for k in range(mode.clients):
        ours, theirs = context.Pipe()
        child = context.Process(
            target=subscriber_process, args=(theirs, sockets[k :: mode.clients], ROOM), daemon=True
        )
        child.start()
        pipes.append(ours)
        children.append(child)
    try:
        connected, failures = 0, []
        for pipe in pipes:
            if not pipe.poll(300):
                raise SystemExit("realtime: subscribers did not connect in 5 minutes")
            _, ready, failed = pipe.recv()
            connected += ready
            failures += failed
        print(
            f"  {connected} of {count} subscribers connected"
            + (f": {failures}" if failures else "")
        )
        rounds = []
        for phase, tag in (("steady", "s"), ("burst", "b")):
            for pipe in pipes:
                pipe.send(("cpu",))
                pipe.recv()
            began = time.monotonic()
            if phase == "steady":
                sent, errors = steady(sender, ports, mode.rate, mode.seconds)
            else:
                sent, errors = burst(sender, ports, mode.burst)
            # Wait for every frame, or for the deliveries to stop coming.
            expected, last, still = sent * connected, -1, time.monotonic()
            while True:
                total = 0
                for pipe in pipes:
                    pipe.send(("count", tag))
                    total += pipe.recv()
                if total >= expected or time.monotonic() - still > 5:
                    break
                if total != last:
                    last, still = total, time.monotonic()
                time.sleep(0.1)
            wall = time.monotonic() - began
            cpu = []
            for pipe in pipes:
                pipe.send(("cpu",))
                cpu.append(pipe.recv() / wall)
            rounds.append(
                Realtime(
                    count,
                    phase,
                    connected=connected,
                    seconds=mode.seconds if phase == "steady" else mode.burst,
                    sent=sent,
                    send_errors=errors,
                    expected=expected,
                    client_cpu=max(cpu),
                )
            )
        tallies = []
        for pipe in pipes:
            pipe.send(("stop",))
            tallies.append(pipe.recv())
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
    for result in rounds:
        tag = result.phase[0]
        result.delivered = sum(sum(t["received"].get(tag, ())) for t in tallies)
        latencies = sorted(v for t in tallies for v in t["latency_ms"].get(tag, ()))
        if latencies:
            result.p50_ms = latencies[len(latencies) // 2]
            result.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            result.max_ms = latencies[-1]
        from_ts = sorted(v for t in tallies for v in t["from_ts_ms"].get(tag, ()))
        if from_ts:
            result.from_ts_p50_ms = from_ts[len(from_ts) // 2]
            result.from_ts_p99_ms = from_ts[min(len(from_ts) - 1, int(len(from_ts) * 0.99))]
        for port in ports:
            buckets: dict[int, int] = defaultdict(int)
            for t in tallies:
                for phase, bucket_port, bucket, frames in t["buckets"]:
                    if phase == tag and bucket_port == port:
                        buckets[bucket] += frames
            if not buckets:
                result.peak_per_process.append(0.0)
                result.mean_per_process.append(0.0)
                continue
            first, last = min(buckets), max(buckets)
            span = last - first + 1  # tenths of a second
            window = min(10, span)
            result.peak_per_process.append(
                max(
                    sum(buckets.get(b, 0) for b in range(start, start + window))
                    for start in range(first, last - window + 2)
                )
                * 10
                / window
            )
            result.mean_per_process.append(sum(buckets.values()) * 10 / span)
        result.closed = sum(t["closed"] for t in tallies)
        print(
            f"  {result.subscribers:>5} subscribers {result.phase:<6} sent {result.sent:>5} ({result.sent / result.seconds:.0f}/s)  delivered/sent {result.ratio:.4f}  p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms  peak/process {', '.join(f'{v:.0f}' for v in result.peak_per_process)} /s  client cpu {result.client_cpu:.0%}"
        )
    return rounds


def realtime_bench(mode: Mode, tokens: list[str], user_id: str) -> list[Realtime]:
    """Two `manage.py serve --workers 1` processes sharing PostgreSQL and Redis."""
    ports = [free_port(), free_port()]
    command = [sys.executable, "manage.py", "serve", "--workers", "1"]
    env = {"HOST": "127.0.0.1", "DEBUG": "false", "WEB_CONCURRENCY": "1"}
    sender = Sender((tokens[0], user_id))
    results: list[Realtime] = []
    with (
        server(command, ports[0], "/api/version", env | {"PORT": str(ports[0])}),
        server(command, ports[1], "/api/version", env | {"PORT": str(ports[1])}),
    ):
        for count in mode.subscribers:
            results += realtime_round(mode, count, ports, tokens, sender)
    return results


# --- query counts ------------------------------------------------------------------------------------


def subscriptions_scenario(mode: Mode) -> str:
    return f"GET /api/v1/subscriptions.get ({label(mode.subscribed)} rooms)"


def big_room_scenario(mode: Mode) -> str:
    return f"POST /api/v1/chat.postMessage ({label(mode.members)} members)"


def query_counts(token: tuple[str, str], subs_token: tuple[str, str], mode: Mode) -> dict[str, int]:
    """Statements per request, from the test client against the same database."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    client = Client(HTTP_X_AUTH_TOKEN=token[0], HTTP_X_USER_ID=token[1], HTTP_HOST="localhost")
    subs_client = Client(
        HTTP_X_AUTH_TOKEN=subs_token[0], HTTP_X_USER_ID=subs_token[1], HTTP_HOST="localhost"
    )
    requests = {
        "GET /api/version": lambda: client.get("/api/version"),
        "POST /api/login": lambda: client.post(
            "/api/login", {"user": "bench0", "password": PASSWORD}
        ),
        "POST /api/rooms/<id>/send": lambda: client.post(
            f"/api/rooms/{ROOM}/send", {"msg": "counted"}, content_type="application/json"
        ),
        "GET /api/rooms/<id>/messages": lambda: client.get(f"/api/rooms/{ROOM}/messages"),
        "GET /api/publicRooms": lambda: client.get("/api/publicRooms"),
        "POST /api/v1/chat.postMessage": lambda: client.post(
            "/api/v1/chat.postMessage",
            {"roomId": ROOM, "text": "counted"},
            content_type="application/json",
        ),
        "GET /api/v1/channels.history": lambda: client.get(
            f"/api/v1/channels.history?roomId={ROOM}&count=50"
        ),
        subscriptions_scenario(mode): lambda: subs_client.get("/api/v1/subscriptions.get"),
        big_room_scenario(mode): lambda: client.post(
            "/api/v1/chat.postMessage",
            {"roomId": BIG_ROOM, "text": "counted"},
            content_type="application/json",
        ),
    }
    counts = {}
    for name, call in requests.items():
        call()  # the token's last-use write happens once a minute: keep it out of the count
        with CaptureQueriesContext(connection) as captured:
            response = call()
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        counts[name] = len(captured)
    return counts


# --- the run -------------------------------------------------------------------------------------------


@dataclass
class Serving:
    """One way of serving the product, for the comparison of the REST hot paths."""

    name: str
    wsgi: bool
    command: list[str]  # "{port}" is replaced by the port
    env: dict[str, str] = field(default_factory=dict)

    def start(self, port: int) -> Any:
        command = [part.replace("{port}", str(port)) for part in self.command]
        env = {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DEBUG": "false",
            # Each setup is a deployment of its own: a message sent to one must not also reach
            # the realtime hubs of the others' processes (idle, but each would read and decode
            # every event, on the same two cores).
            "REALTIME_CHANNEL": f"chat:events:bench-{port}",
        } | self.env
        return server(command, port, "/api/version", env)


DEFAULT_SERVING = "serve"


def servings(workers: int) -> list[Serving]:
    """(a) the old gunicorn sync workers with the old `make run` options, (b) what `make run`
    serves now, (c) alternatives to it."""
    from django.conf import settings

    threads = settings.WEB_THREADS
    serve = [sys.executable, "manage.py", "serve", "--workers", str(workers)]
    return [
        Serving(
            "wsgi sync",
            True,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "chat_project.wsgi",
                "--bind",
                "127.0.0.1:{port}",
                *gunicorn_options(workers),
                "--max-requests",
                "20000",
                "--max-requests-jitter",
                "2000",
                "--access-logfile",
                "-",
            ],
        ),
        Serving(DEFAULT_SERVING, False, serve, {"WEB_CONCURRENCY": str(workers)}),
        Serving(
            LIMITS_OFF, False, serve, {"WEB_CONCURRENCY": str(workers), "RATELIMIT_ENABLE": "false"}
        ),
        *(
            Serving(
                f"serve, WEB_THREADS={n}",
                False,
                serve,
                {"WEB_CONCURRENCY": str(workers), "WEB_THREADS": str(n)},
            )
            for n in ALTERNATIVE_THREADS
            if n != threads
        ),
    ]


# WEB_THREADS to compare with the default (which is skipped). Every setup's processes keep their
# database connections, all at once: with the rate-limits-off setup beside them, a third
# alternative would pass PostgreSQL's default max_connections (100).
ALTERNATIVE_THREADS = (2, 4)


def run(mode: Mode, smoke: bool) -> int:
    ensure_services()
    raise_fd_limit()
    print(
        f"Seeding {DATABASE_URL.rsplit('/', 1)[-1]}: {mode.users} users, {mode.rooms} rooms, {mode.small} messages; a user in {mode.subscribed} rooms, a room of {mode.members} members"
    )
    fresh_database()
    seeded = seed(mode)
    users, tokens = seeded.users, seeded.tokens
    workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
    setups = servings(workers)
    ports = {setup.name: free_port() for setup in setups}
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    base = bases[DEFAULT_SERVING]
    bare_port = free_port()
    bare_base = f"http://127.0.0.1:{bare_port}"
    bare = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.bare.wsgi",
        "--bind",
        f"127.0.0.1:{bare_port}",
        *gunicorn_options(workers),
    ]
    results: list[Result] = []
    print("Serving setups: " + "; ".join(f"{s.name} on {ports[s.name]}" for s in setups))

    with ExitStack() as stack:
        for setup in setups:
            stack.enter_context(setup.start(ports[setup.name]))
        stack.enter_context(
            server(bare, bare_port, "/static", {"DJANGO_SETTINGS_MODULE": "bench.bare.settings"})
        )
        login = json.loads(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{base}/api/login",
                    data=urllib.parse.urlencode({"user": "bench0", "password": PASSWORD}).encode(),
                ),
                timeout=10,
            ).read()
        )["data"]
        token = (login["authToken"], login["userId"])
        counts = query_counts(token, seeded.subs_token, mode)

        def phase(when: str, full: bool) -> None:
            """Each endpoint's runs interleaved with its ceiling's (and, in the full phase, with
            the other serving setups'), one group of endpoints after the other."""
            print(f"Phase {when}:")
            # The product's scenarios on every serving setup, or on `make run`'s.
            chosen = setups if full else [s for s in setups if s.name == DEFAULT_SERVING]

            def bare(name: str, method: str, path: str, body: Any) -> list[Target]:
                script = lua_script(method, path, token=None, body=body)
                return [Target(Result(name, when), bare_base + path, script)]

            def product(
                name: str,
                method: str,
                path: str,
                *,
                ceiling: str | None,
                body: Any,
                signed_in: bool = True,
                as_user: tuple[str, str] | None = None,
                everywhere: bool = True,
            ) -> list[Target]:
                """The scenario on the chosen setups (only on `make run`'s unless
                `everywhere`), signed in as users[0] (or `as_user`) if `signed_in`."""
                who = (as_user or token) if signed_in else None
                script = lua_script(method, path, token=who, body=body)
                return [
                    Target(
                        Result(name, when, ceiling=ceiling, serving=s.name),
                        bases[s.name] + path,
                        script,
                    )
                    for s in chosen
                    if everywhere or s.name == DEFAULT_SERVING
                ]

            groups = []
            if full:
                groups.append(
                    bare("bare static", "GET", "/static", None)
                    + product(
                        "GET /api/version",
                        "GET",
                        "/api/version",
                        ceiling="bare static",
                        body=None,
                        signed_in=False,
                    )
                    + product(
                        "POST /api/login",
                        "POST",
                        "/api/login",
                        ceiling=None,
                        body="user=bench0&password=bench+passphrase",
                        signed_in=False,
                    )
                    + product(
                        "GET /api/publicRooms",
                        "GET",
                        "/api/publicRooms",
                        ceiling="bare static",
                        body=None,
                    )
                )
            groups.append(
                bare("bare insert", "POST", f"/insert/{ROOM}", {"msg": "bench UNIQUE"})
                + product(
                    "POST /api/rooms/<id>/send",
                    "POST",
                    f"/api/rooms/{ROOM}/send",
                    ceiling="bare insert",
                    body={"msg": "bench UNIQUE"},
                )
                + product(
                    "POST /api/v1/chat.postMessage",
                    "POST",
                    "/api/v1/chat.postMessage",
                    ceiling="bare insert",
                    body={"roomId": ROOM, "text": "bench UNIQUE"},
                )
                # The same send into a room of mode.members members, interleaved with the one
                # above: unread counts are counters, so it writes what a send to a small room
                # writes (the queries column says how many statements).
                + product(
                    big_room_scenario(mode),
                    "POST",
                    "/api/v1/chat.postMessage",
                    ceiling="bare insert",
                    body={"roomId": BIG_ROOM, "text": "bench UNIQUE"},
                    everywhere=False,
                )
            )
            groups.append(
                bare("bare select", "GET", f"/select/{ROOM}", None)
                + product(
                    "GET /api/rooms/<id>/messages",
                    "GET",
                    f"/api/rooms/{ROOM}/messages",
                    ceiling="bare select",
                    body=None,
                )
                + product(
                    "GET /api/v1/channels.history",
                    "GET",
                    f"/api/v1/channels.history?roomId={ROOM}&count=50",
                    ceiling="bare select",
                    body=None,
                )
            )
            if full:
                # A client's first screen: every subscription of a user in mode.subscribed
                # rooms, against a plain select of the same rows joined with their rooms.
                groups.append(
                    bare(
                        "bare subscriptions", "GET", f"/subscriptions/{seeded.subs_token[1]}", None
                    )
                    + product(
                        subscriptions_scenario(mode),
                        "GET",
                        "/api/v1/subscriptions.get",
                        ceiling="bare subscriptions",
                        body=None,
                        as_user=seeded.subs_token,
                        everywhere=False,
                    )
                )
            for group in groups:
                results.extend(compare(group, mode))

        phase(label(mode.small), full=True)
        print(f"Growing the room to {mode.large} messages")
        add_messages(mode.large, users)
        phase(label(mode.large), full=False)

    for result in results:
        result.queries = counts.get(result.name)
    print(
        f"Realtime: subscribers to one room on two server processes, {mode.rate} messages/s for {mode.seconds} s, then a {mode.burst} s burst"
    )
    live = realtime_bench(mode, tokens, users[0])
    return report(results, live, mode, smoke)


def label(count: int) -> str:
    return (
        f"{count // 1_000_000}M"
        if count >= 1_000_000
        else f"{count // 1000}k"
        if count >= 1000
        else str(count)
    )


def report(results: list[Result], live: list[Realtime], mode: Mode, smoke: bool) -> int:
    def med(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    main = [r for r in results if r.serving in (None, DEFAULT_SERVING)]
    by_key = {(r.name, r.phase): r for r in main}
    rows = []
    for r in main:
        ceiling = by_key.get((r.ceiling, r.phase)) if r.ceiling else None
        rows.append(
            {
                "endpoint": r.name,
                "phase": r.phase,
                "rps": {"min": min(r.rps), "median": med(r.rps), "max": max(r.rps)}
                if r.rps
                else None,
                "p50_ms": med(r.p50_ms),
                "p99_ms": med(r.p99_ms),
                "errors": r.errors,
                "drops": r.drops,
                "queries": r.queries,
                "ceiling": r.ceiling,
                "ratio": round(med(r.rps) / med(ceiling.rps), 3)
                if ceiling and ceiling.rps
                else None,
            }
        )
    # The serving comparison: each setup's median against the best WSGI setup's, per endpoint.
    names = list(dict.fromkeys(r.serving for r in results if r.serving))
    wsgi = {s.name for s in servings(1) if s.wsgi}
    compared = [r for r in results if r.serving and r.phase == label(mode.small)]
    serving_rows = []
    for endpoint in dict.fromkeys(r.name for r in compared):
        mine = {r.serving: r for r in compared if r.name == endpoint}
        if len(mine) < 2:  # measured on `make run`'s setup alone: nothing to compare
            continue
        best = max((med(mine[n].rps) for n in mine if n in wsgi), default=0.0)
        serving_rows.append(
            {
                "endpoint": endpoint,
                "best_wsgi_rps": best,
                "setups": {
                    n: {
                        "rps": med(r.rps),
                        "p99_ms": med(r.p99_ms),
                        "errors": r.errors,
                        "drops": r.drops,
                        "ratio": round(med(r.rps) / best, 3) if best else None,
                    }
                    for n, r in mine.items()
                },
            }
        )
    live_rows = [r.__dict__ | {"ratio": r.ratio} for r in live]
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "mode": mode.__dict__,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {"meta": meta, "results": rows, "serving": serving_rows, "realtime": live_rows},
            indent=2,
        )
    )
    lines = [
        f"Run {meta['when']} on {meta['cores']} cores (load average at the end {', '.join(f'{v:.1f}' for v in meta['load_average'])}); {mode.connections} connections, {mode.runs}×{mode.duration} s each after {mode.warmup} s warm-up.",
        "",
        "| endpoint | messages | req/s (min / median / max) | p50 ms | p99 ms | queries | ratio to ceiling |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        rps = row["rps"]
        ratio = f"{row['ratio']:.2f} of {row['ceiling']}" if row["ratio"] is not None else "—"
        lines.append(
            f"| {row['endpoint']} | {row['phase']} | {rps['min']:.0f} / {rps['median']:.0f} / {rps['max']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['queries'] if row['queries'] is not None else '—'} | {ratio} |"
        )
    lines += [
        "",
        f"Serving setups at {label(mode.small)} messages, runs interleaved: median req/s (p99 ms), and the ratio to the best WSGI setup.",
        "",
        "| endpoint | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for row in serving_rows:
        cells = []
        for n in names:
            cell = row["setups"].get(n)
            if cell is None:
                cells.append("—")
                continue
            ratio = f", ×{cell['ratio']:.2f}" if cell["ratio"] is not None and n not in wsgi else ""
            cells.append(f"{cell['rps']:.0f} ({cell['p99_ms']:.0f} ms{ratio})")
        lines.append(f"| {row['endpoint']} | " + " | ".join(cells) + " |")
    limits = [
        (row["endpoint"], row["setups"][DEFAULT_SERVING]["rps"], row["setups"][LIMITS_OFF]["rps"])
        for row in serving_rows
        if DEFAULT_SERVING in row["setups"] and LIMITS_OFF in row["setups"]
    ]
    if limits:
        lines += [
            "",
            "Rate limits on (as `make run` serves, every request counted) beside off: median req/s.",
            "",
            "| endpoint | limits on | limits off | on / off |",
            "| --- | --- | --- | --- |",
        ]
        for endpoint, on, off in limits:
            ratio = f"{on / off:.2f}" if off else "—"
            lines.append(f"| {endpoint} | {on:.0f} | {off:.0f} | {ratio} |")
    dropped = [f"{r.name} {r.phase} [{r.serving or 'bare'}] {r.drops}" for r in results if r.drops]
    if dropped:
        lines += [
            "",
            "Keep-alive connections the server closed under a request (a worker recycled after "
            "max_requests; clients retry them): " + ", ".join(dropped) + ".",
        ]
    lines += [
        "",
        f"Realtime: `{ROOM_STREAM}` subscribers of one room, half on each of two `manage.py serve --workers 1` processes, in {mode.clients} subscriber processes; messages sent over REST to both.",
        "",
        "| subscribers | phase | sent (per s) | delivered / sent | p50 ms | p99 ms | max ms | p50 / p99 ms from the message's ts | deliveries/s per process: peak 1 s | mean | busiest subscriber process, CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in live:
        lines.append(
            f"| {r.subscribers} | {r.phase} | {r.sent} ({r.sent / r.seconds:.0f}) | {r.ratio:.4f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.from_ts_p50_ms:.1f} / {r.from_ts_p99_ms:.1f} | {' / '.join(f'{v:.0f}' for v in r.peak_per_process)} | {' / '.join(f'{v:.0f}' for v in r.mean_per_process)} | {r.client_cpu:.0%} |"
        )
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    problems = [
        f"{r.name} {r.phase} [{r.serving or 'bare'}]"
        for r in results
        if not r.rps or med(r.rps) <= 0 or r.errors
    ]
    problems += [
        f"realtime {r.subscribers} {r.phase}"
        for r in live
        if r.connected != r.subscribers
        or not r.sent
        or r.send_errors
        or r.delivered != r.expected
        or r.closed
    ]
    if not live:
        problems.append("realtime: no result")
    if problems:
        print(
            f"Incomplete report: no result, errors or lost messages for {', '.join(problems)}",
            file=sys.stderr,
        )
        return 1
    print(f"Report complete: {RESULTS / 'latest.md'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="a short run that proves the harness works"
    )
    args = parser.parse_args()
    return run(SMOKE if args.smoke else FULL, args.smoke)


if __name__ == "__main__":
    raise SystemExit(main())
