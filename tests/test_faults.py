"""A real server (`make run`) on a PostgreSQL and a Redis of its own, both stopped and started
again under it: each outage gets a quick, documented answer in the envelope (no hang, no HTML),
and the server recovers by itself when the service is back.

- PostgreSQL down: 503 `error-service-unavailable` with Retry-After; /api/health says "down".
- Redis down: reads still served, without rate headers; logins refused with 503;
  /api/health says "degraded" (200).

The PostgreSQL (initdb into a temporary folder, run as the `postgres` system user when the suite
runs as root, since initdb refuses root) and the Redis listen on free ports of their own: the
machine's shared instances on 5432 and 6379 are never touched. Skipped, saying why, only where
PostgreSQL's or Redis's server binaries are not installed.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.servers import ROOT, free_port, make_run

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "faults-admin-Secret-1"
USER_PASSWORD = "faults-user-Secret-1"
CONNECT_TIMEOUT = 3  # DATABASE_CONNECT_TIMEOUT for the server under test
RECOVERY_SECONDS = 30


def postgres_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian's layout)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists() and (d / "postgres").exists()]
    if not found:
        return None
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


class PrivatePostgres:
    """A throwaway cluster on a free port, owned by the `postgres` user when we are root."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="chat-faults-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/chat"

    def run(self, program: str, *args: str) -> None:
        # Output to a file, never a pipe: the postmaster pg_ctl starts would hold a pipe open.
        with (self.base / "commands.log").open("a") as out:
            result = subprocess.run(
                [*self.as_postgres, str(self.bin_dir / program), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=90,
                check=False,
            )
        if result.returncode != 0:
            log = (self.base / "commands.log").read_text()[-3000:]
            pytest.fail(f"{program} failed:\n{log}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                 "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self) -> None:
        import psycopg2

        admin = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        admin.autocommit = True
        admin.cursor().execute("CREATE DATABASE chat")
        admin.close()

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port, in the foreground as our child, with no persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="chat-faults-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 20
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                pass
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run initdb as")
    cluster = PrivatePostgres(bin_dir)
    try:
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def server(postgres, redis_server, tmp_path_factory):
    """`make run` on the private PostgreSQL and Redis; yields its base URL."""
    with make_run(
        tmp_path_factory.mktemp("faults"),
        postgres.url,
        REDIS_URL=redis_server.url,
        SECRET_KEY="faults-" + "s3cr3t-K3y-" * 5,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        RATELIMIT_RATE="1000/m",
        RATELIMIT_BURST="1000",
        LOGIN_RATE="1000/m",
    ) as (port, _log):
        yield f"http://127.0.0.1:{port}"


def call(base, path, *, data=None, token=None):
    """(status, headers, JSON body, seconds taken) of one request; never raises for a status."""
    headers = {"X-Auth-Token": token[0], "X-User-Id": token[1]} if token else {}
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(base + path, data=body, headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    elapsed = time.monotonic() - started
    assert headers["Content-Type"] == "application/json", raw[:300]
    return status, headers, json.loads(raw), elapsed


def log_in(base, username, password):
    status, _, body, _ = call(base, "/api/login", data={"user": username, "password": password})
    assert status == 200, body
    return body["data"]["authToken"], body["data"]["userId"]


@pytest.fixture(scope="module")
def member(server):
    """A plain user (counted by the rate limits, unlike the admin), signed in."""
    status, _, body, _ = call(
        server,
        "/api/v1/users.register",
        data={
            "username": "faulty",
            "email": "faulty@example.com",
            "pass": USER_PASSWORD,
            "name": "F",
        },
    )
    assert status == 200, body
    return log_in(server, "faulty", USER_PASSWORD)


def until(deadline_seconds, attempt):
    """attempt() until it returns something true, at most deadline_seconds; returns that."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        outcome = attempt()
        if outcome:
            return outcome
        assert time.monotonic() < deadline, "did not recover in time"
        time.sleep(0.3)


def assert_service_unavailable(answer, *, within):
    status, headers, body, elapsed = answer
    assert status == 503, body
    assert headers["Retry-After"] == "5"
    assert (body["success"], body["status"], body["errorType"], body["status_code"]) == (
        False,
        "error",
        "error-service-unavailable",
        503,
    )
    assert body["request_id"] == headers["X-Request-Id"]
    assert elapsed < within, f"took {elapsed:.1f} s"


def test_a_database_restart_costs_no_failed_request(server, postgres, member):
    """The restart drops every worker's pooled connection; before a request's first statement
    the health check (chat_project/db/postgresql: the socket says so, no round trip) sees it and
    opens a fresh one, so no request fails."""
    for _ in range(16):  # a pooled connection in each worker
        assert call(server, "/api/publicRooms", token=member)[0] == 200

    postgres.stop()
    postgres.start()

    answers = [call(server, "/api/publicRooms", token=member) for _ in range(16)]
    assert [status for status, *_ in answers] == [200] * 16, [body for _, _, body, _ in answers]
    assert log_in(server, "faulty", USER_PASSWORD)


def test_database_outage_is_503_and_the_server_recovers_by_itself(server, postgres, member):
    assert call(server, "/api/publicRooms", token=member)[0] == 200

    postgres.stop()
    try:
        bound = CONNECT_TIMEOUT + 5
        # A signed-in read (the token lookup fails first), an anonymous login, a write.
        assert_service_unavailable(call(server, "/api/publicRooms", token=member), within=bound)
        assert_service_unavailable(
            call(server, "/api/login", data={"user": "faulty", "password": USER_PASSWORD}),
            within=bound,
        )
        assert_service_unavailable(
            call(server, "/api/rooms/GENERAL/send", data={"msg": "hello?"}, token=member),
            within=bound,
        )
        status, headers, body, elapsed = call(server, "/api/health")
        assert (status, body["status"], body["database"], body["cache"]["ok"]) == (
            503,
            "down",
            {"ok": False},
            True,
        )
        assert headers["Retry-After"] == "5"
        assert elapsed < bound
        # What needs no database still answers.
        assert call(server, "/api/version")[0] == 200
    finally:
        postgres.start()

    until(RECOVERY_SECONDS, lambda: call(server, "/api/publicRooms", token=member)[0] == 200)
    # Every worker has its connection back, not just the one that answered first.
    assert [call(server, "/api/publicRooms", token=member)[0] for _ in range(8)] == [200] * 8
    assert call(server, "/api/health")[2]["status"] == "ok"
    assert log_in(server, "faulty", USER_PASSWORD)


def test_cache_outage_serves_reads_unlimited_and_refuses_logins(server, redis_server, member):
    status, headers, _, _ = call(server, "/api/publicRooms", token=member)
    assert status == 200
    assert headers["X-Ratelimit-Limit"] == "1000"

    redis_server.stop()
    try:
        status, headers, _, elapsed = call(server, "/api/publicRooms", token=member)
        assert status == 200
        assert "X-Ratelimit-Limit" not in headers  # fails open: served, uncounted
        assert elapsed < 5

        # Presence lives in Redis: user objects show everyone offline meanwhile, and the
        # presence endpoints say they are unavailable; posting works (its live event is lost).
        status, _, me, _ = call(server, "/api/v1/me", token=member)
        assert (status, me["status"]) == (200, "offline")
        assert_service_unavailable(
            call(server, "/api/v1/users.getPresence", token=member), within=5
        )
        status, _, sent, _ = call(
            server, "/api/v1/chat.postMessage", data={"channel": "#general", "text": "still here"},
            token=member,
        )  # fmt: skip
        assert status == 200, sent

        answer = call(server, "/api/login", data={"user": "faulty", "password": USER_PASSWORD})
        assert_service_unavailable(answer, within=5)  # fails closed: no unguarded logins
        assert answer[2]["message"] == "Logging in is unavailable for a moment. Try again shortly."

        status, _, body, _ = call(server, "/api/health")
        assert (status, body["status"], body["database"]["ok"], body["cache"]) == (
            200,
            "degraded",
            True,
            {"ok": False},
        )
    finally:
        redis_server.start()

    def counted_again():
        status, headers, _, _ = call(server, "/api/publicRooms", token=member)
        return status == 200 and "X-Ratelimit-Limit" in headers

    until(RECOVERY_SECONDS, counted_again)
    assert log_in(server, "faulty", USER_PASSWORD)
    assert call(server, "/api/health")[2]["status"] == "ok"


def test_a_database_that_never_answers_times_out(tmp_path):
    """A host that accepts the connection and then says nothing (a hung or firewalled server)
    costs DATABASE_CONNECT_TIMEOUT seconds and an OperationalError, which the API answers with
    503: never a request hung for good."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever speaks
        port = silent.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        env |= {
            "DATABASE_URL": f"postgres://chat@127.0.0.1:{port}/chat",
            "DATABASE_CONNECT_TIMEOUT": "2",
            "VAR_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "x" * 50,
        }
        script = (
            "import django, time; django.setup()\n"
            "from django.db import OperationalError, connection\n"
            "started = time.monotonic()\n"
            "try:\n"
            "    connection.ensure_connection()\n"
            "except OperationalError:\n"
            "    print(round(time.monotonic() - started, 1))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env | {"DJANGO_SETTINGS_MODULE": "chat_project.settings"},
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert result.returncode == 0, result.stderr
    assert 1.5 <= float(result.stdout) < 5
