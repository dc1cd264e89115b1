"""Real servers for the tests that talk to one over the network: `make run` as a user starts it,
on a free port, with a database of its own."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database URL of the caller's own: a SQLite file, or a new PostgreSQL database (dropped
    afterwards) when the suite runs against PostgreSQL."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    import psycopg2

    server = dj_database_url.parse(configured)
    name = f"chat_live_{secrets.token_hex(4)}"
    admin = psycopg2.connect(
        dbname="postgres",
        user=server["USER"],
        password=server["PASSWORD"],
        host=server["HOST"],
        port=server["PORT"] or 5432,
    )
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield configured.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@contextmanager
def make_run(tmp_path: Path, database_url: str, **settings: str) -> Iterator[tuple[int, Path]]:
    """`make run` on a free port with these settings; yields (port, log file) once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "WEB_CONCURRENCY": "2",
    } | settings
    log_path = tmp_path / "server.log"
    log = log_path.open("a")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make run did not serve:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        yield port, log_path
    finally:
        with suppress(ProcessLookupError):  # a test may have stopped it (tests/test_make_run_*)
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
