"""The benchmark: the hot endpoints against a bare Django + DRF ceiling, at 10 k and 1 M messages.

    .venv/bin/python bench/run.py            # the full run (`make bench`), about ten minutes
    .venv/bin/python bench/run.py --smoke    # a few seconds a scenario: proves the harness works

It makes a database of its own on the local PostgreSQL (BENCH_DATABASE_URL), seeds it with COPY,
starts the product as `make run` would in production (gunicorn, DEBUG off, PostgreSQL, Redis,
rate limits off) and the bare app under bench/bare with the same gunicorn settings, drives both
with wrk from this second process after a warm-up, and writes bench/results/latest.json and
latest.md (git-ignored) plus a summary on stdout. It measures; it asserts no timing. It exits
non-zero only if the harness itself failed (a scenario with no result, a server that died).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
PASSWORD = "bench passphrase"  # noqa: S105 - the throwaway bench database's only user login

# The product process and this one share the database settings.
os.environ.update(
    DATABASE_URL=DATABASE_URL,
    REDIS_URL=REDIS_URL,
    DJANGO_SETTINGS_MODULE="chat_project.settings",
    RATELIMIT_ENABLE="false",
)
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
)


@dataclass
class Result:
    name: str
    phase: str
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0
    queries: int | None = None
    ceiling: str | None = None


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


def seed(mode: Mode) -> tuple[list[str], str]:
    """Users, rooms with members, and the bench room's first `mode.small` messages."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from chat_project.ids import random_id

    rng = random.Random(7)
    now = datetime.now(UTC)
    password = make_password(PASSWORD)
    users = [random_id() for _ in range(mode.users)]
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
            ],
            (
                (
                    uid,
                    f"bench{n}",
                    f"bench{n}@example.com",
                    f"Bench {n}",
                    password,
                    True,
                    False,
                    False,
                    now,
                    now,
                )
                for n, uid in enumerate(users)
            ),
        )
        copy_rows(
            raw, "accounts_user_roles", ["user_id", "role_id"], ((uid, "user") for uid in users)
        )
        rooms = [(ROOM, "bench")] + [(random_id(), f"room{n}") for n in range(mode.rooms - 1)]
        copy_rows(
            raw,
            "rooms_room",
            [
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
            ],
            (
                (
                    rid,
                    "c",
                    name,
                    users[0],
                    now,
                    now,
                    rng.randrange(0, 500),
                    None,
                    False,
                    False,
                    False,
                    "",
                    "",
                    "",
                )
                for rid, name in rooms
            ),
        )
        copy_rows(
            raw,
            "rooms_subscription",
            ["room_id", "user_id", "ts"],
            ((rid, uid, now) for rid, _ in rooms for uid in {users[0], *rng.sample(users, 5)}),
        )
        raw.execute("CREATE TABLE bare_message (LIKE rooms_message INCLUDING ALL)")
    add_messages(mode.small, users)
    return users, users[0]


def add_messages(upto: int, users: list[str]) -> None:
    """Fills the bench room (and its bare twin) up to `upto` messages: authors drawn from every
    user, times a few seconds apart over the past months, strictly rising as the product keeps
    them."""
    from django.db import connection

    from chat_project.ids import random_id

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


def wrk(url: str, script: str, mode: Mode, seconds: int) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx answers and socket errors)."""
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
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return rps, percentile("50"), percentile("99"), errors


def measure(result: Result, base: str, method: str, path: str, mode: Mode, **script: Any) -> Result:
    lua = lua_script(method, path, **script)
    wrk(base + path, lua, mode, mode.warmup)  # warm-up: connections, caches, JIT of nothing
    for _ in range(mode.runs):
        rps, p50, p99, errors = wrk(base + path, lua, mode, mode.duration)
        result.rps.append(rps)
        result.p50_ms.append(p50)
        result.p99_ms.append(p99)
        result.errors += errors
    print(
        f"  {result.name:<28} {result.phase:>5}  {statistics.median(result.rps):9.0f} req/s  p50 {statistics.median(result.p50_ms):6.2f} ms  p99 {statistics.median(result.p99_ms):7.2f} ms  errors {result.errors}"
    )
    return result


# --- query counts ------------------------------------------------------------------------------------


def query_counts(token: tuple[str, str]) -> dict[str, int]:
    """Statements per request, from the test client against the same database."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    client = Client(HTTP_X_AUTH_TOKEN=token[0], HTTP_X_USER_ID=token[1], HTTP_HOST="localhost")
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


def run(mode: Mode, smoke: bool) -> int:
    ensure_services()
    print(
        f"Seeding {DATABASE_URL.rsplit('/', 1)[-1]}: {mode.users} users, {mode.rooms} rooms, {mode.small} messages"
    )
    fresh_database()
    users, _ = seed(mode)
    workers = str(int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)))
    product_port, bare_port = free_port(), free_port()
    product = [sys.executable, "manage.py", "serve", "--workers", workers]
    bare = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.bare.wsgi",
        "--bind",
        f"127.0.0.1:{bare_port}",
        *gunicorn_options(int(workers)),
    ]
    results: list[Result] = []
    env = {
        "HOST": "127.0.0.1",
        "PORT": str(product_port),
        "DEBUG": "false",
        "WEB_CONCURRENCY": workers,
    }
    base, bare_base = f"http://127.0.0.1:{product_port}", f"http://127.0.0.1:{bare_port}"

    bare_env = {"DJANGO_SETTINGS_MODULE": "bench.bare.settings"}
    with (
        server(product, product_port, "/api/version", env),
        server(bare, bare_port, "/static", bare_env),
    ):
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
        counts = query_counts(token)

        def phase(name: str, full: bool) -> None:
            print(f"Phase {name}:")
            if full:
                results.append(
                    measure(
                        Result("bare static", name),
                        bare_base,
                        "GET",
                        "/static",
                        mode,
                        token=None,
                        body=None,
                    )
                )
                results.append(
                    measure(
                        Result("GET /api/version", name, ceiling="bare static"),
                        base,
                        "GET",
                        "/api/version",
                        mode,
                        token=None,
                        body=None,
                    )
                )
                results.append(
                    measure(
                        Result("POST /api/login", name),
                        base,
                        "POST",
                        "/api/login",
                        mode,
                        token=None,
                        body="user=bench0&password=bench+passphrase",
                    )
                )
                results.append(
                    measure(
                        Result("GET /api/publicRooms", name, ceiling="bare static"),
                        base,
                        "GET",
                        "/api/publicRooms",
                        mode,
                        token=token,
                        body=None,
                    )
                )
            results.append(
                measure(
                    Result("bare insert", name),
                    bare_base,
                    "POST",
                    f"/insert/{ROOM}",
                    mode,
                    token=None,
                    body={"msg": "bench UNIQUE"},
                )
            )
            results.append(
                measure(
                    Result("POST /api/rooms/<id>/send", name, ceiling="bare insert"),
                    base,
                    "POST",
                    f"/api/rooms/{ROOM}/send",
                    mode,
                    token=token,
                    body={"msg": "bench UNIQUE"},
                )
            )
            results.append(
                measure(
                    Result("POST /api/v1/chat.postMessage", name, ceiling="bare insert"),
                    base,
                    "POST",
                    "/api/v1/chat.postMessage",
                    mode,
                    token=token,
                    body={"roomId": ROOM, "text": "bench UNIQUE"},
                )
            )
            results.append(
                measure(
                    Result("bare select", name),
                    bare_base,
                    "GET",
                    f"/select/{ROOM}",
                    mode,
                    token=None,
                    body=None,
                )
            )
            results.append(
                measure(
                    Result("GET /api/rooms/<id>/messages", name, ceiling="bare select"),
                    base,
                    "GET",
                    f"/api/rooms/{ROOM}/messages",
                    mode,
                    token=token,
                    body=None,
                )
            )
            results.append(
                measure(
                    Result("GET /api/v1/channels.history", name, ceiling="bare select"),
                    base,
                    "GET",
                    f"/api/v1/channels.history?roomId={ROOM}&count=50",
                    mode,
                    token=token,
                    body=None,
                )
            )

        phase(label(mode.small), full=True)
        print(f"Growing the room to {mode.large} messages")
        add_messages(mode.large, users)
        phase(label(mode.large), full=False)

    for result in results:
        result.queries = counts.get(result.name)
    return report(results, mode, smoke)


def label(count: int) -> str:
    return (
        f"{count // 1_000_000}M"
        if count >= 1_000_000
        else f"{count // 1000}k"
        if count >= 1000
        else str(count)
    )


def report(results: list[Result], mode: Mode, smoke: bool) -> int:
    def med(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    by_key = {(r.name, r.phase): r for r in results}
    rows = []
    for r in results:
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
                "queries": r.queries,
                "ceiling": r.ceiling,
                "ratio": round(med(r.rps) / med(ceiling.rps), 3)
                if ceiling and ceiling.rps
                else None,
            }
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "mode": mode.__dict__,
        "cores": os.cpu_count(),
    }
    (RESULTS / "latest.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    lines = [
        f"Run {meta['when']} on {meta['cores']} cores; {mode.connections} connections, {mode.runs}×{mode.duration} s each after {mode.warmup} s warm-up.",
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
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    problems = [
        row["endpoint"] + " " + row["phase"]
        for row in rows
        if not row["rps"] or row["rps"]["median"] <= 0 or row["errors"]
    ]
    if problems:
        print(
            f"Incomplete report: no result, or errors, for {', '.join(problems)}", file=sys.stderr
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
