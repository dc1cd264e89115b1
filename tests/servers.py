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
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

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


class _FormReader(HTMLParser):
    """What a browser would submit from the form `form_id` as the page renders it."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = found.get("id") == self.form_id
        if not self.inside or "disabled" in found:
            return
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self.add(name, found.get("value", "on"))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self.add(name, found.get("value", ""))
        elif tag == "select" and name:
            self.select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in found:
            self.add(self.select, found.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.add(name, "")

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.fields[self.textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(page: str, form_id: str) -> dict[str, list[str]]:
    """The fields a browser would send from the form `form_id` of `page`, as they stand (ticked
    boxes, selected options, hidden inputs), for a test to change one and submit it."""
    reader = _FormReader(form_id)
    reader.feed(page)
    return {name: values for name, values in reader.fields.items() if values}


class AdminSession:
    """The Django admin of a live server, as a browser signs in and submits its forms."""

    def __init__(self, base: str, username: str, password: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()
        login = self.form("/admin/login/", "login-form")
        login |= {"username": [username], "password": [password]}
        answer = self.submit("/admin/login/", login)
        assert "sessionid" in self.http.cookies, answer.text[-2000:]

    def form(self, path: str, form_id: str) -> dict[str, list[str]]:
        page = self.http.get(self.base + path, timeout=10)
        assert page.status_code == 200, page.status_code
        return form_fields(page.text, form_id)

    def submit(self, path: str, fields: dict[str, list[str]]) -> Any:
        return self.http.post(
            self.base + path,
            data=fields,
            headers={"Referer": self.base + path},
            allow_redirects=False,
            timeout=10,
        )
