"""What `make run` tells a newcomer at start-up, as they see it: a busy port before anything is
installed or migrated, the first admin left alone, a Ready line, a quiet Ctrl-C, and
configuration errors in two lines naming the setting."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.servers import ROOT, free_port, make_run, own_database

pytestmark = pytest.mark.slow


def clean_environment(tmp_path, **settings):
    """This process's environment without the test run's own settings, plus `settings`: what a
    user's shell would give `make run`."""
    # Nor make's own (MAKELEVEL, MAKEFLAGS): under `make test` a nested `make run` would
    # otherwise say "make[2]: ..." where a user's says "make: ...".
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "MAKE", "MFLAGS"))
    }
    return env | {"VAR_DIR": str(tmp_path / "var"), "HOST": "127.0.0.1"} | settings


def run(command, env):
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def login(port, user, password):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/login",
        data=f"user={user}&password={password}".encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def wait_for(log_path, text, seconds=20):
    deadline = time.monotonic() + seconds
    while text not in log_path.read_text():
        assert time.monotonic() < deadline, f"no {text!r} in:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.1)


def test_make_run_on_a_busy_port_stops_before_installing_or_migrating_and_names_the_port(
    tmp_path,
):
    with socket.socket() as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        port = other_server.getsockname()[1]
        env = clean_environment(
            tmp_path,
            PORT=str(port),
            VENV=str(tmp_path / "venv"),  # the install would make it
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        )

        result = run(["make", "--no-print-directory", "run"], env)

    assert result.returncode != 0
    assert result.stderr.startswith(
        f"Port {port} on 127.0.0.1 is already in use: another server (perhaps another `make "
        f"run`) may be running there.\n"
        f"Stop it, or choose another port: PORT={port + 1} make run\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "venv").exists()
    assert not (tmp_path / "db.sqlite3").exists()
    # The port free again, the same check lets `make run` go on.
    assert run([sys.executable, "-m", "chat_project.serving.ports"], env).returncode == 0


def test_make_run_says_ready_last_and_stops_on_ctrl_c_without_tracebacks(tmp_path):
    with own_database(tmp_path) as database_url, make_run(tmp_path, database_url) as (port, log):
        base = f"http://127.0.0.1:{port}"
        wait_for(log, f"Ready: {base}  admin: {base}/admin/  docs: {base}/api/docs/\n")
        started = log.read_text()
        master = int(re.search(rf"Listening at: {base} \((\d+)\)", started).group(1))
        # No control socket: by default one path per user, which a second server would take.
        assert "Control socket" not in started
        if not os.environ.get("REDIS_URL"):  # the default setup, said as information
            assert "Serving from one process, with the data in SQLite (" in started
            assert "the defaults for one machine" in started

        os.killpg(os.getpgid(master), signal.SIGINT)  # what Ctrl-C at the terminal sends
        wait_for(log, "Shutting down: Master")

    stopping = log.read_text()[len(started) :]
    assert "Handling signal: int" in stopping
    for noise in ("Traceback", "Error while closing socket", "WARNING", "ERROR", "was sent"):
        assert noise not in stopping, stopping


def test_make_run_again_with_other_admin_settings_says_it_left_the_accounts_alone(tmp_path):
    first = {"ADMIN_USERNAME": "first", "ADMIN_PASSWORD": "a first passphrase"}
    then = {"ADMIN_USERNAME": "sing", "ADMIN_PASSWORD": "MySECRET"}
    with own_database(tmp_path) as database_url:
        with make_run(tmp_path, database_url, **first) as (_, log):
            assert "Created the first admin: first <admin@localhost>" in log.read_text()
        before = len(log.read_text())

        with make_run(tmp_path, database_url, **then) as (port, log):
            output = log.read_text()[before:]
            assert login(port, "sing", "MySECRET") == 401
            assert login(port, "first", "a first passphrase") == 200

    assert "Created the first admin" not in output
    assert (
        "Users exist already, so no first admin was made and the accounts were left as they are: "
        "there is no user 'sing' (ADMIN_USERNAME).\n  To start empty: stop the server, "
    ) in output
    assert "  To set a password: .venv/bin/python manage.py changepassword first\n" in output


def two_line_refusal(result, setting):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith((f"{setting}: ", f"Configuration error: {setting} "))
    return lines


def test_a_database_url_of_another_kind_is_refused_in_two_lines_without_its_password(tmp_path):
    env = clean_environment(tmp_path, DATABASE_URL="mysql://chat:secret@db.example/chat")

    lines = two_line_refusal(run([sys.executable, "manage.py", "migrate"], env), "DATABASE_URL")

    assert lines == [
        "Configuration error: DATABASE_URL must be a PostgreSQL URL "
        "(postgres://user:password@host:5432/name) or a SQLite one "
        "(sqlite:////absolute/path.sqlite3), not a mysql: one",
        "Correct it in the environment (docs/operations.md lists every setting).",
    ]


def test_a_database_server_that_does_not_answer_is_named_by_its_setting(tmp_path):
    port = free_port()
    url = f"postgres://chat:secret@127.0.0.1:{port}/chat"
    env = clean_environment(tmp_path, DATABASE_URL=url)

    lines = two_line_refusal(run([sys.executable, "manage.py", "migrate"], env), "DATABASE_URL")

    assert lines[0].startswith(
        f"DATABASE_URL: cannot connect to postgres://chat:***@127.0.0.1:{port}/chat: "
        f'connection to server at "127.0.0.1", port {port} failed: Connection refused'
    )
    assert lines[1] == (
        "Start the database server, or correct DATABASE_URL (docs/operations.md lists every "
        "setting)."
    )


def test_a_sqlite_file_that_cannot_be_made_is_named_by_its_setting(tmp_path):
    path = tmp_path / "no such folder" / "db.sqlite3"
    env = clean_environment(tmp_path, DATABASE_URL=f"sqlite:///{path}")

    lines = two_line_refusal(run([sys.executable, "manage.py", "migrate"], env), "DATABASE_URL")

    assert lines == [
        f"DATABASE_URL: cannot connect to sqlite:///{path}: unable to open database file",
        "Make its folder exist and be writable, or correct DATABASE_URL.",
    ]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs a PostgreSQL server (the suite's DATABASE_URL)",
)
def test_a_database_that_does_not_exist_is_told_how_to_create_it(tmp_path):
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/chat_no_such_database"
    env = clean_environment(tmp_path, DATABASE_URL=url)

    lines = two_line_refusal(run([sys.executable, "manage.py", "migrate"], env), "DATABASE_URL")

    assert 'database "chat_no_such_database" does not exist' in lines[0]
    assert lines[1] == (
        "Create it (createdb chat_no_such_database), or point DATABASE_URL at one that exists."
    )


def test_make_run_with_a_database_that_does_not_answer_stops_in_two_lines(tmp_path):
    # A port held bound but not listening: it refuses connections, and no other process (a
    # server another test or suite starts meanwhile) can take it and answer.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        env = clean_environment(
            tmp_path, PORT=str(free_port()), DATABASE_URL=f"postgres://chat@127.0.0.1:{port}/chat"
        )

        result = run(["make", "--no-print-directory", "run"], env)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"DATABASE_URL: cannot connect to postgres://chat@127.0.0.1:{port}/chat: "
    )
    explained, make_says = result.stderr.splitlines()[1:]
    assert explained == (
        "Start the database server, or correct DATABASE_URL (docs/operations.md lists every "
        "setting)."
    )
    assert re.fullmatch(r"make: \*\*\* \[Makefile:\d+: run\] Error 1", make_says)


def test_serve_with_an_unreachable_redis_stops_before_starting_in_two_lines(tmp_path):
    redis_port = free_port()
    env = clean_environment(
        tmp_path,
        PORT=str(free_port()),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=f"redis://:secret@127.0.0.1:{redis_port}/0",
    )

    result = run([sys.executable, "manage.py", "serve"], env)

    lines = two_line_refusal(result, "REDIS_URL")
    assert lines[0].startswith(
        f"REDIS_URL: cannot reach Redis at redis://:***@127.0.0.1:{redis_port}/0: "
    )
    assert lines[1] == (
        "Start Redis, or correct REDIS_URL; without REDIS_URL the server runs as one process on "
        "one machine (docs/operations.md lists every setting)."
    )
    assert "gunicorn" not in result.stdout + result.stderr
