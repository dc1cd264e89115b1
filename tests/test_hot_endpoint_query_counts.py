"""Every endpoint the benchmark measures has its query count pinned, so that a regression (an
extra round trip, an N+1) fails CI rather than only slowing the benchmark down. Savepoints are
the test's own transaction showing through and are not counted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def access_cache_off(settings):
    """The counts of a request that finds nothing kept (the first with a token, in a room):
    tests/test_access_cache.py counts what a kept token and room save."""
    settings.ACCESS_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def settings_already_read(db):
    """The site settings as every process has them after its first request: kept, under their
    own generation, which no write but a setting's replaces (accounts.site_settings;
    tests/test_settings_store.py counts the one query of a process that has none)."""
    from accounts import site_settings

    site_settings.stored_values()


PASSWORD = "correct horse battery staple"


def statements(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content[:300]
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


@pytest.fixture
def room_with_history(user):
    room = RoomFactory(name="busy")
    SubscriptionFactory(room=room, user=user)
    return room


def test_version_runs_no_query(api):
    assert statements(lambda: api.get("/api/version")) == 0


def test_login(api, user):
    # the user; expired tokens cleared; the new token; last_login
    assert statements(lambda: api.post("/api/login", {"user": "sing", "password": PASSWORD})) == 4


@pytest.mark.parametrize("history", [1, 11])
def test_v1_channels_history(counted_client, room_with_history, history):
    MessageFactory.create_batch(history, room=room_with_history, author=UserFactory())

    # token, room (with its member count and the caller's membership), the page with its authors
    assert (
        statements(
            lambda: counted_client.get(f"/api/v1/channels.history?roomId={room_with_history.pk}")
        )
        == 3
    )


def test_v1_chat_post_message(counted_client, room_with_history):
    count = statements(
        lambda: counted_client.post(
            "/api/v1/chat.postMessage",
            {"roomId": room_with_history.pk, "text": "hi"},
            format="json",
        )
    )

    # token, room with the caller's membership, then on PostgreSQL one statement that counts
    # and inserts and marks the room read for its author (rooms.services.insert_counted_message);
    # elsewhere room lock, insert, counter, the author's read mark
    assert count == (3 if connection.vendor == "postgresql" else 6)
