"""With Redis, a request hands its realtime event to its process's publisher and answers: a
thread publishes what the requests hand it, in the order handed over, several in one round trip
under load. Redis away loses the events (logged), as pub/sub always did, and never the request."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings

from chat_project.realtime import bus
from tests.factories import RoomFactory, SubscriptionFactory
from tests.realtime import BusTap

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.REDIS_URL, reason="needs Redis: set REDIS_URL=redis://... (CI does)"
    ),
]


@pytest.fixture
def member(api, user, auth_headers):
    room = RoomFactory(name="published")
    SubscriptionFactory(room=room, user=user)
    api.credentials(**auth_headers(user))
    return api, room


def test_events_are_published_in_the_order_they_were_handed_over():
    with BusTap() as tap:
        for n in range(300):
            bus.send({"n": n})
        assert bus.flush(timeout=5)

        heard = tap.events()

    assert heard == [f'{{"n":{n}}}' for n in range(300)]


def test_a_send_answers_without_waiting_for_its_publish(
    member, monkeypatch, django_capture_on_commit_callbacks
):
    api, room = member
    redis_answers = threading.Event()
    publish = bus._Publisher.publish

    def slow_redis(batch):
        redis_answers.wait(timeout=10)
        publish(batch)

    monkeypatch.setattr(bus._Publisher, "publish", staticmethod(slow_redis))
    with BusTap() as tap:
        with django_capture_on_commit_callbacks(execute=True):  # as if committed
            response = api.post(f"/api/rooms/{room.pk}/send", {"msg": "on its way"}, format="json")

        assert response.status_code == 200  # while Redis has not answered the PUBLISH
        assert not bus.flush(timeout=0.1)
        redis_answers.set()
        assert bus.flush(timeout=5)
        assert any('"on its way"' in event for event in tap.events())


def test_with_redis_unreachable_the_event_is_lost_and_logged_and_the_send_succeeds(
    member, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    api, room = member

    class Unreachable:
        def pipeline(self, transaction):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(bus, "redis_client", Unreachable)

    with django_capture_on_commit_callbacks(execute=True):  # as if committed
        response = api.post(f"/api/rooms/{room.pk}/send", {"msg": "lost"}, format="json")

    assert response.status_code == 200
    assert bus.flush(timeout=5)
    assert "1 realtime event(s) lost, Redis unreachable: Redis is down" in caplog.text
