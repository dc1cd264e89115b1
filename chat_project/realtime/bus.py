"""How events travel from the process that made a change to every process holding sockets.

With REDIS_URL: one Redis pub/sub channel (REALTIME_CHANNEL). Any process publishes there, and
each process's hub holds one subscription to it, so a message sent through one server process
reaches the sockets of all of them, its own included. Pub/sub keeps nothing: an event published
while Redis is unreachable, or while a hub is resubscribing, is lost (docs/realtime.md says so).

Without REDIS_URL (the embedded default) events go straight to the listeners of this process
(its hub), which is why `make run` then serves from a single process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import orjson
import redis
from django.conf import settings

logger = logging.getLogger(__name__)

Listener = Callable[[str], None]

_listeners: list[Listener] = []
_lock = threading.Lock()
_client: Any = None


def encode(value: Any) -> str:
    """Compact JSON, UTF-8 as is (orjson: a tenth of json's time for a message event): the
    events on the bus, and the frames the hub writes to sockets."""
    return orjson.dumps(value).decode()


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def channel() -> str:
    return str(settings.REALTIME_CHANNEL)


def send(event: dict[str, Any]) -> None:
    """Delivers `event` to every hub; never raises (a lost event is logged)."""
    raw = encode(event)
    if uses_redis():
        try:
            _publisher.publish(channel(), raw)
        except Exception as exc:
            logger.warning("realtime event lost, Redis unreachable: %s", exc)
        return
    for listener in list(_listeners):
        try:
            listener(raw)
        except Exception:
            logger.exception("realtime listener failed")


def redis_client() -> Any:
    """A process-wide synchronous Redis client for publishing (thread-safe connection pool)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
                )
    return _client


class ThreadConnection:
    """Redis commands on a connection of the calling thread's own, kept for the thread's life.

    redis-py's client takes a connection from its pool, polls it for unread data, runs the
    command under its retry policy and gives the connection back: about 60 us of CPU a PUBLISH
    against 30 us for the command itself on a connection in hand, and every send publishes
    (docs/performance.md, item 12), as every counted request runs the rate limiter's script. A
    connection that broke since its last use (Redis restarted, the connection killed) is
    replaced and the command sent once more, as redis-py's retry would; a second failure is the
    caller's. After a fork the child makes its own."""

    def __init__(self) -> None:
        self.local = threading.local()

    def publish(self, channel: str, raw: str) -> None:
        self.execute("PUBLISH", channel, raw)

    def execute(self, *args: Any) -> Any:
        try:
            return self.execute_once(*args)
        except redis.ConnectionError:
            return self.execute_once(*args)

    def execute_once(self, *args: Any) -> Any:
        local = self.local
        connection = getattr(local, "connection", None)
        if connection is None or local.pid != os.getpid():
            # Made as the pool would make it, but not by the pool, which counts every
            # connection it ever made against its limit (100) and never sees these again.
            pool = redis_client().connection_pool
            connection = pool.connection_class(**pool.connection_kwargs)
            local.connection, local.pid = connection, os.getpid()
        try:
            connection.send_command(*args, check_health=False)
            return connection.read_response()
        except redis.ResponseError:
            raise  # an answer: the connection is fine
        except BaseException:
            connection.disconnect()
            local.connection = None
            raise


_publisher = ThreadConnection()


def listen(listener: Listener) -> Callable[[], None]:
    """Calls `listener` with each event (as JSON text) published in this process while there
    is no Redis. Returns a function that stops it. The hub is one such listener."""
    with _lock:
        _listeners.append(listener)

    def stop() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return stop
