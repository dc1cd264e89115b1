"""What a start-up tells a person: the setup it found, and, when a setting keeps the server from
starting, a line or two naming the setting and what to do, in place of a traceback.

manage.py turns the failures it knows (explain_failure) into such lines for every command, so
`make run`'s migrate sees them as `manage.py serve` does; serve also asks start_up_problem()
before gunicorn starts, since its workers would otherwise meet the problem one by one.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections

from chat_project.serving.ports import port_problem

SETTINGS_HELP = "docs/operations.md lists every setting"


def explain_failure(exc: BaseException) -> str | None:
    """The lines to print in place of `exc`'s traceback, or None when it is not a configuration
    problem (a bug, or a database error that is not about reaching the database)."""
    if isinstance(exc, ImproperlyConfigured):
        return f"Configuration error: {exc}\nCorrect it in the environment ({SETTINGS_HELP})."
    if isinstance(exc, DatabaseError):
        # The same error in a query and in connecting: only a fresh connection tells them apart.
        return database_problem()
    return None


def start_up_problem() -> str | None:
    """What keeps `manage.py serve` from serving, checked in the order a person would fix it:
    the port, the database, Redis. None when all three are fine."""
    return port_problem(settings.HOST, settings.PORT) or database_problem() or redis_problem()


def database_problem() -> str | None:
    """None if the default database accepts a new connection, otherwise why it did not."""
    connection = connections["default"]
    connection.close()
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        # The driver's first line says it (PostgreSQL's second one only guesses at a cause).
        reason = " ".join(str(exc).strip().partition("\n")[0].split()) or type(exc).__name__
        name = settings.DATABASES["default"]["NAME"]
        if f'database "{name}" does not exist' in reason:  # PostgreSQL's words
            hint = f"Create it (createdb {name}), or point DATABASE_URL at one that exists."
        elif settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            hint = "Make its folder exist and be writable, or correct DATABASE_URL."
        else:
            hint = f"Start the database server, or correct DATABASE_URL ({SETTINGS_HELP})."
        url = without_password(settings.DATABASE_URL)
        return f"DATABASE_URL: cannot connect to {url}: {reason}\n{hint}"
    finally:
        connection.close()
    return None


def redis_problem() -> str | None:
    """None without REDIS_URL or when its Redis answers a PING, otherwise why it did not."""
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        with redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        ) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        return (
            f"REDIS_URL: cannot reach Redis at {without_password(settings.REDIS_URL)}: {exc}\n"
            f"Start Redis, or correct REDIS_URL; without REDIS_URL the server runs as one "
            f"process on one machine ({SETTINGS_HELP})."
        )
    return None


def setup_summary(workers: int) -> str:
    """The setup in a line or two, said as information: the single-machine defaults are a
    choice, not a fault."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        data = f"SQLite ({database['NAME']})"
    else:
        data = f"PostgreSQL ({without_password(settings.DATABASE_URL)})"
    if settings.REDIS_URL:
        processes = f"{workers} processes" if workers > 1 else "one process"
        return (
            f"Serving from {processes}, with the data in {data} and the cache and events in "
            f"Redis ({without_password(settings.REDIS_URL)})."
        )
    return (
        f"Serving from one process, with the data in {data} and the cache and events in its "
        f"memory: the defaults for one machine.\n"
        f"For several processes or hosts, set REDIS_URL and a PostgreSQL DATABASE_URL "
        f"(docs/operations.md)."
    )


def ready_line() -> str:
    """The last line of a start-up: where to point a browser or a client."""
    host = settings.HOST
    if host in {"0.0.0.0", ""}:  # noqa: S104 (naming the wildcard, not binding to it)
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    base = f"http://{host}:{settings.PORT}"
    return f"Ready: {base}  admin: {base}/admin/  docs: {base}/api/docs/"


def without_password(url: str) -> str:
    """`url` with any password in it shown as ***, fit to print."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
