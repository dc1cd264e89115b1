"""The room endpoints and admin pages cost the same number of queries for 1 row as for 11."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms.models import Room
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


def queries_for(request):
    """Statements a request runs; savepoints are the test's own transaction showing through."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


def make_rooms(how_many, members_each):
    for _ in range(how_many):
        room = RoomFactory(creator=UserFactory())
        for _ in range(members_each):
            SubscriptionFactory(room=room)


def test_public_rooms_is_constant_in_rooms_and_members(counted_client):
    make_rooms(1, 1)
    few = queries_for(lambda: counted_client.get("/api/publicRooms"))
    make_rooms(10, 3)
    many = queries_for(lambda: counted_client.get("/api/publicRooms"))

    assert len(counted_client.get("/api/publicRooms").json()["rooms"]) == 12
    assert few == many == 3  # authentication, rooms with creators, members


def test_joined_rooms_is_constant_in_rooms_and_members(counted_client, user):
    make_rooms(1, 1)
    for room in Room.objects.all():
        SubscriptionFactory(room=room, user=user)
    few = queries_for(lambda: counted_client.get("/api/joinedRooms"))
    make_rooms(10, 3)
    for room in Room.objects.exclude(subscriptions__user=user):
        SubscriptionFactory(room=room, user=user)
    many = queries_for(lambda: counted_client.get("/api/joinedRooms"))

    assert len(counted_client.get("/api/joinedRooms").json()["rooms"]) == 12
    assert few == many == 3


def test_messages_is_constant_in_messages_and_authors(counted_client):
    room = RoomFactory()
    MessageFactory(room=room)
    few = queries_for(lambda: counted_client.get(f"/api/rooms/{room.pk}/messages"))
    MessageFactory.create_batch(10, room=room)
    many = queries_for(lambda: counted_client.get(f"/api/rooms/{room.pk}/messages"))

    # authentication, the room, the reader's permissions (view-c-room), the page with its authors
    assert few == many == 4


def test_send_costs_a_fixed_handful_of_queries(counted_client, user):
    room = RoomFactory()
    SubscriptionFactory(room=room, user=user)

    count = queries_for(
        lambda: counted_client.post(f"/api/rooms/{room.pk}/send", {"msg": "hi"}, format="json")
    )

    # authentication, room with the sender's membership, then on PostgreSQL one statement that
    # counts, inserts and marks the room read for its author (rooms.services.
    # insert_counted_message); elsewhere lock, insert, counter, the author's read mark
    assert count == (3 if connection.vendor == "postgresql" else 6)


def test_admin_room_and_message_lists_are_constant(client):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client.login(username="root", password="correct horse battery staple")
    make_rooms(1, 1)
    MessageFactory()
    few = [
        queries_for(lambda p=p: client.get(p))
        for p in ("/admin/rooms/room/", "/admin/rooms/message/")
    ]
    make_rooms(10, 2)
    MessageFactory.create_batch(10)
    many = [
        queries_for(lambda p=p: client.get(p))
        for p in ("/admin/rooms/room/", "/admin/rooms/message/")
    ]

    assert few == many
