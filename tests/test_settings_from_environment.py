"""Settings come from the environment, with safe defaults and clear refusals of bad values."""

import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from chat_project.settings import env_duration, persistent_secret_key

ROOT = Path(__file__).resolve().parent.parent
SHOWN = ["DEBUG", "PORT", "HOST", "ALLOWED_HOSTS", "LOGIN_TOKEN_TTL", "DATABASES", "CACHES"]


def load_settings(tmp_path, **env):
    """The settings a fresh process gets from `env` (and nothing else of ours)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    script = (
        "import json, chat_project.settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {SHOWN!r}}}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean | {"VAR_DIR": str(tmp_path / "var")} | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_defaults_serve_the_seed_on_localhost_3000_without_debug(tmp_path):
    result = load_settings(tmp_path)

    loaded = json.loads(result.stdout)
    assert loaded["DEBUG"] is False
    assert (loaded["HOST"], loaded["PORT"]) == ("127.0.0.1", 3000)
    assert "localhost" in loaded["ALLOWED_HOSTS"]
    assert loaded["LOGIN_TOKEN_TTL"] == "90 days, 0:00:00"
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["DATABASES"]["default"]["NAME"] == str(tmp_path / "var" / "db.sqlite3")
    assert "LocMemCache" in loaded["CACHES"]["default"]["BACKEND"]


def test_database_and_redis_urls_are_used(tmp_path):
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://chat:pw@db.example:5433/chatdb",
        REDIS_URL="redis://cache.example:6380/2",
    )

    loaded = json.loads(result.stdout)
    database = loaded["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"]) == (
        "chat_project.db.postgresql",  # Django's, with our health check and prepared statements
        "db.example",
        5433,
        "chatdb",
    )
    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://cache.example:6380/2"


def test_a_custom_host_is_allowed(tmp_path):
    loaded = json.loads(load_settings(tmp_path, HOST="chat.example.org").stdout)

    assert "chat.example.org" in loaded["ALLOWED_HOSTS"]


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("PORT", "three thousand", "PORT must be a whole number"),
        ("PORT", "70000", "PORT must be at most 65535"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("LOGIN_TOKEN_TTL", "forever", "LOGIN_TOKEN_TTL must be a positive duration"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL must be a PostgreSQL URL"),
        (
            "DATABASE_URL",
            "mysql://u:secret@h/db",
            "SQLite one (sqlite:////absolute/path.sqlite3), not a mysql: one",
        ),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a redis://host:6379/0 URL"),
    ],
)
def test_a_bad_value_stops_the_server_with_a_clear_message(tmp_path, name, value, complaint):
    result = load_settings(tmp_path, **{name: value})

    assert result.returncode != 0
    assert complaint in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3600", timedelta(hours=1)),
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_login_token_ttl_takes_seconds_or_a_unit(monkeypatch, raw, expected):
    monkeypatch.setenv("LOGIN_TOKEN_TTL", raw)

    assert env_duration("LOGIN_TOKEN_TTL", timedelta(days=1)) == expected


@pytest.mark.parametrize("raw", ["0", "-5", "5w", "1.5d"])
def test_login_token_ttl_refuses_nonsense(monkeypatch, raw):
    monkeypatch.setenv("LOGIN_TOKEN_TTL", raw)

    with pytest.raises(ImproperlyConfigured):
        env_duration("LOGIN_TOKEN_TTL", timedelta(days=1))


def test_the_generated_secret_key_is_kept_and_private(tmp_path):
    path = tmp_path / "var" / "secret_key"

    first = persistent_secret_key(path)

    assert len(first) >= 50
    assert persistent_secret_key(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert list(path.parent.iterdir()) == [path]


def test_a_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY="k" * 50)

    assert result.returncode == 0
    assert not (tmp_path / "var" / "secret_key").exists()
