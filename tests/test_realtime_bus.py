"""With Redis, every process publishes its realtime events on the channel, each thread on a
connection of its own (chat_project.realtime.bus): events arrive whole and in order, a broken
connection is replaced without losing the event, and an unreachable Redis loses the event (logged)
but never fails the write that made it."""

from __future__ import annotations

import json
import logging
import os
import threading

import pytest
import redis
from django.conf import settings

from chat_project.realtime import bus
from tests.realtime import BusTap

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis: set REDIS_URL=redis://... (CI does)"
)


def heard(tap):
    """This file's events (c "test"): a hub left running by an earlier test may publish too."""
    return [event for event in map(json.loads, tap.events()) if event["c"] == "test"]


def test_events_reach_the_channel_in_order():
    with BusTap() as tap:
        bus.send({"c": "test", "e": "first"})
        bus.send({"c": "test", "e": "second", "a": ["caf\u00e9 \U0001f600"]})

        assert heard(tap) == [
            {"c": "test", "e": "first"},
            {"c": "test", "e": "second", "a": ["caf\u00e9 \U0001f600"]},
        ]


def test_threads_publishing_at_once_each_deliver_every_event_whole():
    def publish(thread):
        for n in range(50):
            bus.send({"c": "test", "e": f"{thread}-{n}", "a": ["x" * 2000]})

    with BusTap() as tap:
        threads = [threading.Thread(target=publish, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        events = heard(tap)

    assert sorted(event["e"] for event in events) == sorted(
        f"{t}-{n}" for t in range(8) for n in range(50)
    )
    for t in range(8):  # each thread's in the order it sent them
        mine = [event["e"] for event in events if event["e"].startswith(f"{t}-")]
        assert mine == [f"{t}-{n}" for n in range(50)]


def test_a_killed_connection_is_replaced_and_the_event_still_goes_out(caplog):
    bus.send({"c": "test", "e": "opens the connection"})
    host, port = bus._publisher.local.connection._sock.getsockname()[:2]
    redis.Redis.from_url(settings.REDIS_URL).execute_command(
        "CLIENT", "KILL", "ADDR", f"{host}:{port}"
    )

    with BusTap() as tap, caplog.at_level(logging.WARNING, logger="chat_project.realtime.bus"):
        bus.send({"c": "test", "e": "after the kill"})

        assert heard(tap) == [{"c": "test", "e": "after the kill"}]
    assert caplog.records == []


def test_with_redis_unreachable_the_event_is_logged_as_lost_and_nothing_raises(caplog, monkeypatch):
    # Nothing listens on port 9 (discard).
    monkeypatch.setattr(bus, "_client", redis.Redis.from_url("redis://127.0.0.1:9/0"))
    monkeypatch.setattr(bus, "_publisher", bus.ThreadConnection())

    with caplog.at_level(logging.WARNING, logger="chat_project.realtime.bus"):
        bus.send({"c": "test", "e": "lost"})

    assert [r.getMessage().split(",")[0] for r in caplog.records] == ["realtime event lost"]
    monkeypatch.undo()
    with BusTap() as tap:
        bus.send({"c": "test", "e": "Redis is back"})

        assert heard(tap) == [{"c": "test", "e": "Redis is back"}]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_publishes_on_a_connection_of_its_own():
    bus.send({"c": "test", "e": "the parent's connection is open"})

    with BusTap() as tap:
        child = os.fork()
        if child == 0:  # pragma: no cover - the child process
            try:
                bus.send({"c": "test", "e": "from the child"})
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        bus.send({"c": "test", "e": "from the parent"})

        assert heard(tap) == [
            {"c": "test", "e": "from the child"},
            {"c": "test", "e": "from the parent"},
        ]


def test_connections_made_and_lost_again_and_again_never_run_out():
    """Each thread's connection, and each one replaced after a break, is new: more of them than
    redis-py's pool would ever allow (100) still publish."""

    def publish_once(n):
        bus.send({"c": "test", "e": f"thread {n}"})

    with BusTap() as tap:
        for n in range(120):
            thread = threading.Thread(target=publish_once, args=(n,))
            thread.start()
            thread.join()
        bus.send({"c": "test", "e": "and the test's own"})

        assert [event["e"] for event in heard(tap)] == [
            *(f"thread {n}" for n in range(120)),
            "and the test's own",
        ]
