"""spotlight, directory, statistics and statistics.list, as Rocket.Chat's clients read them: users
and the rooms the caller may see (never another's private group), pages costing the same
queries for 1 row as for 11, and the server's figures under Rocket.Chat's names."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import presence
from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_presence():
    presence.reset_local_store()
    yield
    presence.reset_local_store()


@pytest.fixture
def admin(db):
    """An administrator: the admin role, which holds view-statistics and
    view-full-other-user-info."""
    return UserFactory(username="admin", roles=["admin"])


@pytest.fixture
def rooms(user, alice):
    """A public channel, the caller's private group, and alice's private group."""
    public = RoomFactory(name="planning")
    mine = RoomFactory(name="plans-private", t=Room.Type.GROUP)
    theirs = RoomFactory(name="plans-secret", t=Room.Type.GROUP)
    SubscriptionFactory(room=mine, user=user)
    SubscriptionFactory(room=public, user=alice)
    SubscriptionFactory(room=theirs, user=alice)
    return public, mine, theirs


# --- spotlight -----------------------------------------------------------------------------------


def test_spotlight_finds_users_and_the_rooms_the_caller_may_see(signed_in, user, alice, rooms):
    public, mine, _theirs = rooms
    presence.connection_opened(alice.pk, "conn-1")
    UserFactory(username="planner", name="Plan B")
    planner_id = UserFactory._meta.model.objects.get(username="planner").pk

    answer = signed_in.get("/api/v1/spotlight", {"query": "plan"})

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "users": [
            {
                "_id": planner_id,
                "username": "planner",
                "name": "Plan B",
                "status": "offline",
                "outside": True,
            }
        ],
        "rooms": [
            {"_id": public.pk, "name": "planning", "t": "c"},
            {"_id": mine.pk, "name": "plans-private", "t": "p"},
        ],
        "success": True,
    }


def test_spotlight_marks_users_sharing_a_room_and_their_status(signed_in, user, alice, rooms):
    public, _mine, _theirs = rooms
    SubscriptionFactory(room=public, user=user)
    presence.connection_opened(alice.pk, "conn-1")

    answer = signed_in.get("/api/v1/spotlight", {"query": "@ali"})

    assert answer.json() == {
        "users": [
            {
                "_id": alice.pk,
                "username": "alice",
                "name": "Alice",
                "status": "online",
                "outside": False,
            }
        ],
        "rooms": [],
        "success": True,
    }


def test_spotlight_never_shows_a_private_group_to_a_non_member(as_user, alice, bob, rooms):
    _public, mine, theirs = rooms

    seen_by_bob = as_user(bob).get("/api/v1/spotlight", {"query": "#plans"}).json()
    seen_by_alice = as_user(alice).get("/api/v1/spotlight", {"query": "#plans"}).json()

    assert seen_by_bob == {"users": [], "rooms": [], "success": True}
    assert seen_by_alice["rooms"] == [{"_id": theirs.pk, "name": "plans-secret", "t": "p"}]
    assert mine.pk not in json.dumps(seen_by_alice)


def test_spotlight_refuses_a_query_that_is_not_a_string(signed_in):
    answer = signed_in.post(
        "/api/v1/spotlight?query=x", data={"query": ["x"]}, format="json"
    )  # POST is not spotlight's verb
    assert answer.status_code == 405

    answer = signed_in.get("/api/v1/spotlight", {"query": "\x00"})
    assert answer.status_code == 400
    assert answer.json()["errorType"] == "invalid-params"


def test_spotlight_needs_a_login(api):
    assert api.get("/api/v1/spotlight", {"query": "a"}).status_code == 401


# --- directory -----------------------------------------------------------------------------------


def test_directory_lists_channels_the_caller_may_see(signed_in, user, rooms):
    public, mine, _theirs = rooms

    answer = signed_in.get("/api/v1/directory", {"type": "channels", "text": "PLAN"})

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body == {
        "result": [
            {
                "_id": public.pk,
                "name": "planning",
                "fname": "planning",
                "t": "c",
                "description": "",
                "topic": "",
                "usersCount": 1,
                "ts": body["result"][0]["ts"],
                "archived": False,
                "default": False,
                "featured": False,
            },
            {
                "_id": mine.pk,
                "name": "plans-private",
                "fname": "plans-private",
                "t": "p",
                "description": "",
                "topic": "",
                "usersCount": 1,
                "ts": body["result"][1]["ts"],
                "archived": False,
                "default": False,
                "featured": False,
            },
        ],
        "count": 2,
        "offset": 0,
        "total": 2,
        "success": True,
    }


def test_directory_never_lists_a_private_group_to_a_non_member(as_user, bob, rooms):
    answer = as_user(bob).get("/api/v1/directory", {"type": "channels", "text": "plans"})

    assert answer.json() == {"result": [], "count": 0, "offset": 0, "total": 0, "success": True}


def test_directory_sorts_and_pages_channels(signed_in, user, rooms):
    _public, mine, _ = rooms
    SubscriptionFactory(room=mine, user=UserFactory())
    SubscriptionFactory(room=mine, user=UserFactory())

    answer = signed_in.get(
        "/api/v1/directory",
        {"text": "plan", "sort": json.dumps({"usersCount": -1}), "count": 1, "offset": 0},
    )
    second = signed_in.get(
        "/api/v1/directory",
        {"text": "plan", "sort": json.dumps({"usersCount": -1}), "count": 1, "offset": 1},
    )

    assert [r["name"] for r in answer.json()["result"]] == ["plans-private"]
    assert (answer.json()["count"], answer.json()["total"]) == (1, 2)
    assert [r["name"] for r in second.json()["result"]] == ["planning"]
    assert second.json()["offset"] == 1


def test_directory_lists_active_users_by_text(signed_in, user, alice, bob):
    UserFactory(username="alina", name="Alina", is_active=False)

    answer = signed_in.get(
        "/api/v1/directory", {"type": "users", "text": "ali", "sort": '{"username": -1}'}
    )

    assert answer.json() == {
        "result": [
            {
                "_id": alice.pk,
                "username": "alice",
                "name": "Alice",
                "createdAt": answer.json()["result"][0]["createdAt"],
            }
        ],
        "count": 1,
        "offset": 0,
        "total": 1,
        "success": True,
    }


def test_directory_shows_emails_only_to_holders_of_view_full_other_user_info(as_user, admin, alice):
    answer = as_user(admin).get("/api/v1/directory", {"type": "users", "text": "alice"})

    assert answer.json()["result"][0]["emails"] == [
        {"address": "alice@example.com", "verified": False}
    ]


def test_directory_refuses_unknown_types_and_sorts(signed_in):
    bad_type = signed_in.get("/api/v1/directory", {"type": "teams"})
    assert bad_type.status_code == 400
    assert bad_type.json()["error"] == (
        'The "type" parameter must be users or channels [error-invalid-params]'
    )

    bad_sort = signed_in.get("/api/v1/directory", {"type": "users", "sort": '{"usersCount": 1}'})
    assert bad_sort.status_code == 400
    assert bad_sort.json()["errorType"] == "error-invalid-sort"

    assert signed_in.get("/api/v1/directory", {"type": "users"}).status_code == 200


def test_directory_needs_the_view_permissions(as_user):
    guest = UserFactory(roles=["guest"])
    answer = as_user(guest).get("/api/v1/directory", {"type": "users"})

    assert answer.status_code == 403
    assert answer.json()["detailed_error"] == 'Missing permission "view-d-room".'


# --- query counts --------------------------------------------------------------------------------


def statements(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content[:300]
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


@pytest.fixture
def no_access_cache(settings):
    settings.ACCESS_CACHE_SECONDS = 0


@pytest.mark.parametrize("rows", [1, 11])
def test_directory_channels_cost_the_same_queries_for_1_or_11(
    no_access_cache, counted_client, user, rows
):
    for n in range(rows):
        room = RoomFactory(name=f"team{n}", t=Room.Type.GROUP if n % 2 else Room.Type.CHANNEL)
        SubscriptionFactory(room=room, user=user)

    # token; the caller's permissions; the total; the page with its member counts
    count = statements(lambda: counted_client.get("/api/v1/directory", {"text": "team"}))
    assert count == 4


@pytest.mark.parametrize("rows", [1, 11])
def test_directory_users_cost_the_same_queries_for_1_or_11(no_access_cache, counted_client, rows):
    UserFactory.create_batch(rows, name="Member")

    # token; the caller's permissions; the total; the page
    count = statements(
        lambda: counted_client.get("/api/v1/directory", {"type": "users", "text": "member"})
    )
    assert count == 4


@pytest.mark.parametrize("rows", [1, 11])
def test_spotlight_costs_the_same_queries_for_1_or_11(no_access_cache, counted_client, user, rows):
    for n in range(rows):
        room = RoomFactory(name=f"spot{n}")
        SubscriptionFactory(room=room, user=UserFactory(username=f"spot-user{n}"))

    # token; the caller's permissions; the users (with whether they share a room); the rooms
    assert statements(lambda: counted_client.get("/api/v1/spotlight", {"query": "spot"})) == 4


# --- statistics ----------------------------------------------------------------------------------


def test_statistics_counts_users_rooms_and_messages_by_type(as_user, admin, user, alice, rooms):
    public, mine, _ = rooms
    Room.objects.filter(pk=public.pk).update(msgs=3)
    Room.objects.filter(pk=mine.pk).update(msgs=2)
    UserFactory(username="robot", roles=["bot"])
    UserFactory(username="gone", is_active=False)
    presence.connection_opened(alice.pk, "conn-1")
    general_and_others = Room.objects.filter(t="c").count()

    answer = as_user(admin).get("/api/v1/statistics")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert {key: body[key] for key in body if key.startswith(("total", "active", "non"))} == {
        "totalUsers": 5,
        "activeUsers": 4,
        "activeHumanUsers": 3,
        "activeBotUsers": 1,
        "nonActiveUsers": 1,
        "totalRooms": general_and_others + 2,
        "totalChannels": general_and_others,
        "totalPrivateGroups": 2,
        "totalDirect": 0,
        "totalMessages": 5,
        "totalChannelMessages": 3,
        "totalPrivateGroupMessages": 2,
        "totalDirectMessages": 0,
    }
    assert (body["onlineUsers"], body["awayUsers"], body["busyUsers"]) == (1, 0, 0)
    assert body["offlineUsers"] == 3
    assert body["process"]["uptime"] >= 0 and body["process"]["rss"] > 0
    assert body["process"]["pid"] > 0
    assert body["os"]["totalmem"] > 0
    assert body["success"] is True


def test_statistics_need_view_statistics(signed_in, as_user, admin):
    refused = signed_in.get("/api/v1/statistics")
    assert refused.status_code == 403
    assert refused.json()["error"] == (
        "User does not have the permissions required for this action [error-unauthorized]"
    )
    assert signed_in.get("/api/v1/statistics.list").status_code == 403

    listed = as_user(admin).get("/api/v1/statistics.list")
    assert listed.status_code == 200
    body = listed.json()
    assert (body["count"], body["offset"], body["total"]) == (1, 0, 1)
    assert body["statistics"][0]["totalUsers"] == 2
