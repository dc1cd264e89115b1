"""How events travel from the process that made a change to every process holding sockets.

With REDIS_URL: one Redis pub/sub channel (REALTIME_CHANNEL). Any process publishes there, and
each process's hub holds one subscription to it, so a message sent through one server process
reaches the sockets of all of them, its own included. Pub/sub keeps nothing: an event published
while Redis is unreachable, or while a hub is resubscribing, is lost (the README says so).
A request does not wait for its event's PUBLISH: a thread of the process publishes what the
requests hand it, in order, several in one round trip under load (`_Publisher`).

Without REDIS_URL (the embedded default) events go straight to the listeners of this process
(its hub), which is why `make run` then serves from a single process.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings

logger = logging.getLogger(__name__)

Listener = Callable[[str], None]

_listeners: list[Listener] = []
_lock = threading.Lock()
_client: Any = None


def encode(event: dict[str, Any]) -> str:
    """Compact JSON, UTF-8 as is (orjson: a tenth of json's time for a message event)."""
    return orjson.dumps(event).decode()


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def channel() -> str:
    return str(settings.REALTIME_CHANNEL)


def send(event: dict[str, Any]) -> None:
    """Delivers `event` to every hub; never raises (a lost event is logged). With Redis it is
    handed to this process's publisher and is on its way within a round trip to Redis."""
    raw = encode(event)
    if uses_redis():
        _publisher.put(raw)
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
        import redis

        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
                )
    return _client


class _Publisher:
    """Publishes to Redis from a thread of its own, so that a request hands its event over and
    answers: the events of one process go out in the order they were handed over, as many as
    have gathered in one round trip (a pipeline), which under load costs Redis and this
    process a fraction of a PUBLISH each. An event waits for no one: the thread wakes when one
    is handed over. At most MAX_WAITING wait (Redis slow or away): past that, they are dropped
    and logged, as events published while Redis is unreachable always were. At exit, what
    waits is sent (up to FLUSH_SECONDS)."""

    MAX_WAITING = 10_000
    FLUSH_SECONDS = 2.0

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Anew (also in a forked child: no thread, no lock held, none of the parent's events)."""
        self.condition = threading.Condition(threading.Lock())
        self.waiting: deque[str] = deque()
        self.busy = False  # a batch is on its way
        self.thread: threading.Thread | None = None

    def put(self, raw: str) -> None:
        with self.condition:
            if self.thread is None:
                self.start()
            if len(self.waiting) >= self.MAX_WAITING:
                logger.warning(
                    "realtime event lost, %d already waiting for Redis", self.MAX_WAITING
                )
                return
            self.waiting.append(raw)
            self.condition.notify()

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="realtime-publisher", daemon=True)
        self.thread.start()

    def run(self) -> None:
        while True:
            with self.condition:
                while not self.waiting:
                    self.busy = False
                    self.condition.notify_all()  # for flush()
                    self.condition.wait()
                batch = list(self.waiting)
                self.waiting.clear()
                self.busy = True
            self.publish(batch)

    @staticmethod
    def publish(batch: list[str]) -> None:
        try:
            with redis_client().pipeline(transaction=False) as pipe:
                for raw in batch:
                    pipe.publish(channel(), raw)
                pipe.execute()
        except Exception as exc:
            logger.warning("%d realtime event(s) lost, Redis unreachable: %s", len(batch), exc)

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until every event handed over so far has been sent (or given up on)."""
        with self.condition:
            if self.thread is None:
                return True
            return self.condition.wait_for(
                lambda: not self.waiting and not self.busy, timeout=timeout
            )


_publisher = _Publisher()
os.register_at_fork(after_in_child=_publisher.reset)
atexit.register(_publisher.flush, _Publisher.FLUSH_SECONDS)


def flush(timeout: float | None = None) -> bool:
    """Waits until every event this process sent so far is published (or given up on)."""
    return _publisher.flush(timeout)


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
