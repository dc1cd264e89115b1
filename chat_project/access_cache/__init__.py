"""What nearly every request asks the database before its work, kept in each server process: a
login token with its user, and a room with whether the caller is a member of it.

They change rarely and are read on every call: asking each time was two of a hot endpoint's
three statements. One shared value keeps a kept answer right, the generation (a random string,
in Redis with REDIS_URL):

- every statement that writes a table these answers come from replaces the generation as it
  runs and again once its transaction commits, whoever made it: a service, the admin, a bulk
  update, raw SQL (`writes.watch_writes` is a database execute wrapper on every connection).
  Which tables those are, each model says next to its fields (`access_cache = Watched(...)` or
  `NotWatched(...)`, see `declarations`); the watch list is derived from what they say when the
  app registry is ready (`apps`), and a system check fails for a model that says neither. Writes
  no answer depends on leave it alone: a room's message counters (moved by every send, and never
  kept: a kept room loads them fresh when asked), a token's last_used_at, a new token;
- an answer is used only while the generation it was read under is current, and the generation
  is taken once per request, so a request that starts after a change was answered sees it, on
  every process. Each replacement is also published on a Redis channel (of the key's name) that
  every process subscribes to, so a request asks its process's subscription, without a round
  trip, whether a replacement arrived (see `_Watch`); it asks Redis itself only when the
  subscription has not been heard from for WATCH_FRESH_SECONDS (a PING then) or is down (a GET);
- an answer is also forgotten ACCESS_CACHE_SECONDS after it was read. That bounds what a change
  made behind Django's back (psql) or a replacement lost while Redis was unreachable can hide.
  While Redis is unreachable nothing is kept: every request asks the database.

Without REDIS_URL it is off by default (ACCESS_CACHE_SECONDS=0): a generation held in one
process cannot reach another, and without Redis nothing says how many processes there are.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)

# After Redis fails, leave it alone this long (a request must not wait on it again and again).
REDIS_PAUSE_SECONDS = 1.0
# A subscription silent for this long is asked for a PING before it is trusted again: a
# connection that died without a word (a cable, a frozen host) is found out within this (plus
# the socket timeout), and meanwhile a busy process pings about once a second.
WATCH_FRESH_SECONDS = 1.0

_clock = time.monotonic

_lock = threading.Lock()
_entries: OrderedDict[Any, tuple[str, float, Any]] = OrderedDict()
_local_generation = secrets.token_hex(8)
_last_seen: str | None = None
_redis_down_until = 0.0
_UNREAD: Any = object()
# Within request_scope(): the request's generation, read at most once ([_UNREAD] until then).
_scoped: ContextVar[list[Any] | None] = ContextVar("access_cache_generation", default=None)


def enabled() -> bool:
    return settings.ACCESS_CACHE_SECONDS > 0


@contextmanager
def request_scope() -> Iterator[None]:
    """One generation for the whole of a request: read when first needed, then reused."""
    reset = _scoped.set([_UNREAD])
    try:
        yield
    finally:
        _scoped.reset(reset)


def generation() -> str | None:
    """The current generation, or None when nothing may be kept now (off, or Redis away)."""
    if not enabled():
        return None
    scoped = _scoped.get()
    if scoped is not None and scoped[0] is not _UNREAD:
        return scoped[0]
    current = _read_generation()
    if scoped is not None:
        scoped[0] = current
    global _last_seen
    if current != _last_seen:
        with _lock:
            _entries.clear()  # none of them can count again
            _last_seen = current
    return current


def get(key: Any) -> Any:
    """What was kept under `key`, if it still counts; else None."""
    current = generation()
    if current is None:
        return None
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        if entry[0] != current or entry[1] < _clock():
            del _entries[key]
            return None
        _entries.move_to_end(key)
        return entry[2]


def remember(key: Any, value: Any, read_under: str | None) -> None:
    """Keeps `value` under `key`, as read while `read_under` (generation()) was current."""
    if read_under is None:
        return
    with _lock:
        _entries[key] = (read_under, _clock() + settings.ACCESS_CACHE_SECONDS, value)
        _entries.move_to_end(key)
        while len(_entries) > settings.ACCESS_CACHE_ENTRIES:
            _entries.popitem(last=False)


def forget_everything() -> None:
    """Replaces the generation: no answer kept anywhere counts any more."""
    global _local_generation, _redis_down_until
    with _lock:
        _entries.clear()
    scoped = _scoped.get()
    if scoped is not None:
        scoped[0] = _UNREAD
    if settings.ACCESS_CACHE_GENERATION == "local":
        _local_generation = secrets.token_hex(8)
        return
    if not enabled() or _clock() < _redis_down_until:
        return
    try:
        replacement = secrets.token_hex(8)
        with _redis().pipeline(transaction=True) as both:  # MULTI: set and told at once
            both.set(settings.ACCESS_CACHE_KEY, replacement)
            both.publish(settings.ACCESS_CACHE_KEY, replacement)
            both.execute()
        _watch.catch_up()
    except Exception as exc:  # any Redis failure: stop keeping, say so
        _redis_down_until = _clock() + REDIS_PAUSE_SECONDS
        logger.warning("access cache: could not replace the generation in Redis: %s", exc)


def _read_generation() -> str | None:
    global _redis_down_until
    if settings.ACCESS_CACHE_GENERATION == "local":
        return _local_generation
    if _clock() < _redis_down_until:
        return None
    try:
        return _watch.current()
    except Exception as exc:  # any Redis failure: ask the database meanwhile
        _redis_down_until = _clock() + REDIS_PAUSE_SECONDS
        logger.warning("access cache: Redis unreachable, asking the database: %s", exc)
        return None


def _get_generation(key: str) -> str:
    """The generation as Redis holds it, started if there is none (a fresh or flushed Redis:
    one no entry was read under)."""
    client = _redis()
    value = client.get(key)
    if value is None:
        client.set(key, secrets.token_hex(8), nx=True)
        value = client.get(key)
    return value.decode() if isinstance(value, bytes) else str(value)


def _redis() -> Any:
    from chat_project.realtime.bus import redis_client

    return redis_client()


class _Watch:
    """This process's subscription to the generation's replacements, read by the requests
    themselves (no thread of its own): each takes in, without waiting, whatever Redis has
    already sent, so a replacement Redis published before a request began is seen by it.

    Redis writes a published message to every subscriber in the same turn of its loop as it
    answers the publisher, so by the time the process that made a change has answered its
    client, the message is on its way to every other process (on one host: in its socket),
    ahead of any request that client makes next. The subscription is trusted only while it
    has been heard from within WATCH_FRESH_SECONDS; past that a PING round trip confirms it
    (its answer comes after every message published before it). Any failure drops it: the
    caller pauses the cache (REDIS_PAUSE_SECONDS) and the next use subscribes again, then reads
    the generation with a GET (after the subscription is confirmed, so nothing is missed
    between the two). After a fork, the child subscribes on its own."""

    def __init__(self, key: str | None = None) -> None:
        self.key = key  # None: ACCESS_CACHE_KEY (read when subscribing: tests override it)
        self.lock = threading.Lock()
        self.connection: Any = None
        self.pid = 0
        self.value = ""
        self.heard = 0.0

    def current(self) -> str:
        with self.lock:
            try:
                if self.connection is None or self.pid != os.getpid():
                    self.subscribe()
                while self.connection.can_read(timeout=0):
                    self.take(self.connection.read_response())
                if _clock() - self.heard > WATCH_FRESH_SECONDS:
                    self.connection.send_command("PING")
                    while self.take(self.connection.read_response()) != b"pong":
                        pass
            except BaseException:
                self.drop()
                raise
            return self.value

    def catch_up(self) -> None:
        """After this process replaced the generation: the next read confirms with a PING, whose
        answer comes after that replacement's message (and any later one) on this connection."""
        with self.lock:
            self.heard = float("-inf")

    def subscribe(self) -> None:
        import redis

        self.drop()
        # A connection of its own, in RESP2 (plain arrays for messages), never in the pool.
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5, protocol=2
        )
        connection = client.connection_pool.make_connection()
        self.connection, self.pid = connection, os.getpid()
        connection.connect()
        key = self.key or settings.ACCESS_CACHE_KEY
        connection.send_command("SUBSCRIBE", key)
        reply = connection.read_response()
        if reply[0] != b"subscribe":
            raise ConnectionError(f"unexpected answer to SUBSCRIBE: {reply!r}")
        self.value = _get_generation(key)
        self.heard = _clock()

    def take(self, reply: Any) -> Any:
        """Takes in one reply from the subscription; returns its kind (b"message", b"pong")."""
        if reply[0] == b"message":
            self.value = reply[2].decode()
        self.heard = _clock()
        return reply[0]

    def drop(self) -> None:
        if self.connection is not None:
            if self.pid == os.getpid():
                self.connection.disconnect()
            self.connection = None


_watch = _Watch()


# --- generations of their own ----------------------------------------------------------------
#
# A reader that keeps something written far more rarely than the access answers (the site
# settings every send reads) has a generation of its own, replaced only by its own writes, so
# that the many writes the access answers watch (a join, a role) do not send it back to the
# database. It is shared the same way (a Redis key and channel, read through a subscription of
# its own without a round trip; in this process without Redis, where there is one process) and
# is read whether or not ACCESS_CACHE_SECONDS keeps access answers.

_named_watches: dict[str, _Watch] = {}
_named_local: dict[str, str] = {}


def _named_key(name: str) -> str:
    return f"{settings.ACCESS_CACHE_KEY}:{name}"


def generation_of(name: str) -> str | None:
    """The current generation `name`, or None while Redis is unreachable (keep nothing then)."""
    global _redis_down_until
    if settings.ACCESS_CACHE_GENERATION == "local":
        return _named_local.setdefault(name, secrets.token_hex(8))
    if _clock() < _redis_down_until:
        return None
    with _lock:
        watch = _named_watches.setdefault(name, _Watch(_named_key(name)))
    try:
        return watch.current()
    except Exception as exc:  # any Redis failure: ask the database meanwhile
        _redis_down_until = _clock() + REDIS_PAUSE_SECONDS
        logger.warning("access cache: Redis unreachable, asking the database: %s", exc)
        return None


def replace_generation_of(name: str) -> None:
    """Replaces the generation `name` everywhere: what was kept under it counts no more."""
    global _redis_down_until
    _named_local[name] = secrets.token_hex(8)
    if settings.ACCESS_CACHE_GENERATION == "local":
        return
    key = _named_key(name)
    try:
        replacement = secrets.token_hex(8)
        with _redis().pipeline(transaction=True) as both:  # MULTI: set and told at once
            both.set(key, replacement)
            both.publish(key, replacement)
            both.execute()
        watch = _named_watches.get(name)
        if watch is not None:
            watch.catch_up()
    except Exception as exc:  # any Redis failure: stop keeping, say so
        _redis_down_until = _clock() + REDIS_PAUSE_SECONDS
        logger.warning("access cache: could not replace the generation %s: %s", name, exc)


# --- keeping model rows --------------------------------------------------------------------------


def snapshot(instance: models.Model, leave_out: frozenset[str] = frozenset()) -> tuple[Any, ...]:
    """The row's values (its concrete fields but `leave_out`), to rebuild it with `rebuild`."""
    return tuple(
        getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in leave_out
    )


def rebuild(model: type[M], values: tuple[Any, ...], leave_out: frozenset[str] = frozenset()) -> M:
    """A fresh instance from `snapshot`'s values; fields left out load from the database when
    first read (deferred), so they are never stale."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in leave_out]
    return model.from_db("default", names, values)
