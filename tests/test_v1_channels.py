"""v1 channels.* and groups.*: shapes, Rocket.Chat's error words, permissions, visibility."""

import json

import pytest

from rooms.models import Message, Room, Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOM_KEYS = {
    "_id",
    "name",
    "fname",
    "t",
    "msgs",
    "usersCount",
    "ts",
    "ro",
    "default",
    "sysMes",
    "archived",
    "topic",
    "description",
    "announcement",
    "_updatedAt",
}


@pytest.fixture
def owner():
    return UserFactory(username="owner", roles=["user"])


@pytest.fixture
def lobby(owner):
    room = RoomFactory(name="lobby", creator=owner)
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    return room


def post(api, path, body):
    return api.post(f"/api/v1/{path}", json.dumps(body), content_type="application/json")


def assert_v1_error(response, status, error, error_type):
    assert response.status_code == status, response.json()
    body = response.json()
    assert (body["success"], body["error"], body["errorType"]) == (False, error, error_type)


NOT_A_CHANNEL = 'The required "roomId" or "roomName" param provided does not match any channel [error-room-not-found]'
NOT_A_GROUP = 'The required "roomId" or "roomName" param provided does not match any group [error-room-not-found]'
FORBIDDEN = "User does not have the permissions required for this action [error-unauthorized]"


# --- create, info, list ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "key"),
    [("p", "groups.list", "groups"), ("c", "channels.list.joined", "channels")],
)
def test_lists_of_ones_own_rooms_count_every_member(as_user, owner, kind, path, key):
    room = RoomFactory(name="crowded", t=kind)
    for member in (owner, UserFactory(), UserFactory()):
        SubscriptionFactory(room=room, user=member)

    rooms = as_user(owner).get(f"/api/v1/{path}").json()[key]

    assert [(r["name"], r["usersCount"]) for r in rooms if r["name"] == "crowded"] == [
        ("crowded", 3)
    ]


def test_channels_create_makes_the_caller_owner_and_adds_members(as_user, owner):
    UserFactory(username="alice")

    response = post(as_user(owner), "channels.create", {"name": "fresh", "members": ["alice"]})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"channel", "success"}
    channel = body["channel"]
    assert set(channel) == ROOM_KEYS | {"u"}
    assert (channel["name"], channel["t"], channel["usersCount"], channel["u"]["username"]) == (
        "fresh",
        "c",
        2,
        "owner",
    )
    room = Room.objects.get(name="fresh")
    assert list(
        Subscription.objects.get(room=room, user=owner).roles.values_list("name", flat=True)
    ) == ["owner"]


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        ({}, 'Param "name" is required', "error-failure"),
        (
            {"name": "bad name"},
            "bad name is not a valid room name [error-invalid-room-name]",
            "error-invalid-room-name",
        ),
        (
            {"name": "LOBBY"},
            "A channel with name 'LOBBY' exists [error-duplicate-channel-name]",
            "error-duplicate-channel-name",
        ),
        (
            {"name": "x", "members": "a,b" and {"a": 1}},
            'Param "members" must be an array if provided',
            "error-failure",
        ),
        (
            {"name": "x", "members": ["nobody"]},
            "User 'nobody' does not exist [error-invalid-user]",
            "error-invalid-user",
        ),
    ],
)
def test_channels_create_refusals(as_user, owner, lobby, body, error, error_type):
    assert_v1_error(post(as_user(owner), "channels.create", body), 400, error, error_type)


def test_channels_create_needs_create_c(as_user):
    guest = UserFactory(roles=["guest"])

    assert_v1_error(
        post(as_user(guest), "channels.create", {"name": "x"}), 403, FORBIDDEN, "error-unauthorized"
    )


def test_groups_create_makes_a_private_group(as_user, owner):
    response = post(as_user(owner), "groups.create", {"name": "secret"})

    assert set(response.json()) == {"group", "success"}
    assert response.json()["group"]["t"] == "p"


def test_channels_info_by_id_or_name(as_user, owner, lobby):
    api = as_user(owner)

    by_id = api.get(f"/api/v1/channels.info?roomId={lobby.pk}").json()
    by_name = api.get("/api/v1/channels.info?roomName=lobby").json()

    assert by_id == by_name
    assert by_id["channel"]["_id"] == lobby.pk
    assert_v1_error(
        api.get("/api/v1/channels.info?roomId=nope"), 400, NOT_A_CHANNEL, "error-room-not-found"
    )
    assert_v1_error(
        api.get("/api/v1/channels.info"),
        400,
        'The parameter "roomId" or "roomName" is required [error-roomid-param-not-provided]',
        "error-roomid-param-not-provided",
    )


def test_channels_list_is_paginated_with_a_total(as_user, owner, lobby):
    for n in range(3):
        RoomFactory(name=f"extra{n}")

    body = as_user(owner).get("/api/v1/channels.list?count=2&offset=1").json()

    assert set(body) == {"channels", "count", "offset", "total", "success"}
    assert (body["count"], body["offset"], body["total"]) == (2, 1, 5)  # general, lobby, extra0-2
    assert [c["name"] for c in body["channels"]] == ["extra1", "extra2"]


def test_channels_list_sorts_by_known_fields_only(as_user, owner, lobby):
    api = as_user(owner)

    by_name_desc = api.get('/api/v1/channels.list?sort={"name":-1}').json()
    assert [c["name"] for c in by_name_desc["channels"]] == ["lobby", "general"]
    assert_v1_error(
        api.get('/api/v1/channels.list?sort={"password":1}'),
        400,
        "Cannot sort by 'password': use one of _updatedAt, msgs, name, ts, usersCount with 1 or -1 [error-invalid-sort]",
        "error-invalid-sort",
    )
    assert api.get("/api/v1/channels.list?sort=notjson").json()["errorType"] == "error-invalid-sort"


def test_channels_list_joined(as_user, owner, lobby):
    RoomFactory(name="elsewhere")

    body = as_user(owner).get("/api/v1/channels.list.joined").json()

    assert [c["name"] for c in body["channels"]] == ["lobby"]


def test_list_query_counts_do_not_grow(as_user, owner, lobby, django_assert_num_queries, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.ACCESS_CACHE_SECONDS = 0  # new rooms would send the token back to the database
    api = as_user(owner)
    api.get("/api/v1/channels.list")
    counts = []
    for extra in (0, 10):
        for _ in range(extra):
            room = RoomFactory()
            SubscriptionFactory(room=room)
        with CaptureQueriesContext(connection) as captured:
            api.get("/api/v1/channels.list")
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- history, messages, members ------------------------------------------------------------------


def test_channels_history_newest_first_with_bounds(as_user, owner, lobby):
    from datetime import UTC, datetime, timedelta

    start = datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(30):
        MessageFactory(room=lobby, author=owner, msg=f"m{n}", ts=start + timedelta(seconds=n))
    api = as_user(owner)

    default = api.get(f"/api/v1/channels.history?roomId={lobby.pk}").json()
    assert set(default) == {"messages", "success"}
    assert [m["msg"] for m in default["messages"]] == [
        f"m{n}" for n in range(29, 9, -1)
    ]  # 20 by default

    latest = "2020-01-01T00:00:05.000Z"
    exclusive = api.get(
        f"/api/v1/channels.history?roomId={lobby.pk}&latest={latest}&count=2"
    ).json()
    inclusive = api.get(
        f"/api/v1/channels.history?roomId={lobby.pk}&latest={latest}&count=2&inclusive=true"
    ).json()
    assert [m["msg"] for m in exclusive["messages"]] == ["m4", "m3"]
    assert [m["msg"] for m in inclusive["messages"]] == ["m5", "m4"]
    offset = api.get(f"/api/v1/channels.history?roomId={lobby.pk}&count=2&offset=2").json()
    assert [m["msg"] for m in offset["messages"]] == ["m27", "m26"]


def test_channels_messages_paginated_with_total(as_user, owner, lobby):
    MessageFactory.create_batch(3, room=lobby, author=owner)

    body = as_user(owner).get(f"/api/v1/channels.messages?roomId={lobby.pk}&count=2").json()

    assert set(body) == {"messages", "count", "offset", "total", "success"}
    assert (body["count"], body["total"]) == (2, 3)


def test_channels_members(as_user, owner, lobby):
    SubscriptionFactory(room=lobby, user=UserFactory(username="alice", name="Alice"))

    body = as_user(owner).get(f"/api/v1/channels.members?roomId={lobby.pk}").json()

    assert body["members"] == [
        {
            "_id": body["members"][0]["_id"],
            "username": "alice",
            "name": "Alice",
            "status": "offline",
        },
        {"_id": owner.pk, "username": "owner", "name": "Owner", "status": "offline"},
    ]
    assert (body["count"], body["offset"], body["total"]) == (2, 0, 2)


# --- membership ----------------------------------------------------------------------------------


def test_join_and_leave(as_user, lobby):
    newcomer = UserFactory()
    api = as_user(newcomer)

    joined = post(api, "channels.join", {"roomId": lobby.pk})
    assert joined.status_code == 200
    assert joined.json()["channel"]["usersCount"] == 2

    left = post(api, "channels.leave", {"roomId": lobby.pk})
    assert left.json()["channel"]["usersCount"] == 1
    assert_v1_error(
        post(api, "channels.leave", {"roomId": lobby.pk}),
        400,
        "You are not in this room [error-user-not-in-room]",
        "error-user-not-in-room",
    )


def test_the_last_owner_cannot_leave(as_user, owner, lobby):
    SubscriptionFactory(room=lobby)

    assert_v1_error(
        post(as_user(owner), "channels.leave", {"roomId": lobby.pk}),
        400,
        "You are the last owner. Please set new owner before leaving the room. [error-you-are-last-owner]",
        "error-you-are-last-owner",
    )


def test_invite_and_kick(as_user, owner, lobby):
    alice = UserFactory(username="alice")
    api = as_user(owner)

    invited = post(api, "channels.invite", {"roomId": lobby.pk, "username": "alice"})
    assert invited.json()["channel"]["usersCount"] == 2
    kicked = post(api, "channels.kick", {"roomId": lobby.pk, "userId": alice.pk})
    assert kicked.json()["channel"]["usersCount"] == 1
    assert_v1_error(
        post(api, "channels.kick", {"roomId": lobby.pk, "userId": alice.pk}),
        400,
        "User is not in this room [error-user-not-in-room]",
        "error-user-not-in-room",
    )
    assert_v1_error(
        post(api, "channels.invite", {"roomId": lobby.pk, "username": "ghost"}),
        400,
        'The required "userId" or "username" param provided does not match any users [error-invalid-user]',
        "error-invalid-user",
    )


def test_a_plain_member_cannot_invite_or_kick(as_user, owner, lobby):
    member = UserFactory()
    SubscriptionFactory(room=lobby, user=member)
    api = as_user(member)

    assert_v1_error(
        post(api, "channels.invite", {"roomId": lobby.pk, "userId": UserFactory().pk}),
        400,
        "Not allowed [error-not-allowed]",
        "error-not-allowed",
    )
    assert_v1_error(
        post(api, "channels.kick", {"roomId": lobby.pk, "userId": owner.pk}),
        400,
        "Not allowed [error-not-allowed]",
        "error-not-allowed",
    )


def test_the_last_owner_cannot_be_kicked(as_user, lobby, owner):
    admin = UserFactory(roles=["admin"])

    assert_v1_error(
        post(as_user(admin), "channels.kick", {"roomId": lobby.pk, "userId": owner.pk}),
        400,
        "You are the last owner. Please set new owner before leaving the room. [error-you-are-last-owner]",
        "error-you-are-last-owner",
    )


def test_owners_and_moderators(as_user, owner, lobby):
    alice = UserFactory(username="alice")
    SubscriptionFactory(room=lobby, user=alice)
    api = as_user(owner)

    assert post(api, "channels.addModerator", {"roomId": lobby.pk, "userId": alice.pk}).json() == {
        "success": True
    }
    assert_v1_error(
        post(api, "channels.addModerator", {"roomId": lobby.pk, "userId": alice.pk}),
        400,
        "User is already a moderator [error-user-already-moderator]",
        "error-user-already-moderator",
    )
    moderators = api.get(f"/api/v1/channels.moderators?roomId={lobby.pk}").json()
    assert moderators == {
        "moderators": [{"_id": alice.pk, "username": "alice", "name": "Alice"}],
        "success": True,
    }

    assert post(api, "channels.addOwner", {"roomId": lobby.pk, "userId": alice.pk}).json() == {
        "success": True
    }
    roles = api.get(f"/api/v1/channels.roles?roomId={lobby.pk}").json()["roles"]
    assert [(r["u"]["username"], r["roles"]) for r in roles] == [
        ("alice", ["moderator", "owner"]),
        ("owner", ["owner"]),
    ]

    assert post(api, "channels.removeOwner", {"roomId": lobby.pk, "userId": alice.pk}).json() == {
        "success": True
    }
    assert_v1_error(
        post(api, "channels.removeOwner", {"roomId": lobby.pk, "userId": alice.pk}),
        400,
        "User is not an owner [error-user-not-owner]",
        "error-user-not-owner",
    )
    assert_v1_error(
        post(api, "channels.removeOwner", {"roomId": lobby.pk, "userId": owner.pk}),
        400,
        "This is the last owner. Please set a new owner before removing this one. [error-remove-last-owner]",
        "error-remove-last-owner",
    )
    assert post(
        api, "channels.removeModerator", {"roomId": lobby.pk, "userId": alice.pk}
    ).json() == {"success": True}


def test_setting_owners_needs_set_owner(as_user, lobby):
    member = UserFactory()
    SubscriptionFactory(room=lobby, user=member)

    assert_v1_error(
        post(as_user(member), "channels.addOwner", {"roomId": lobby.pk, "userId": member.pk}),
        400,
        "Not allowed [error-not-allowed]",
        "error-not-allowed",
    )


# --- settings ------------------------------------------------------------------------------------


def test_rename_and_text_settings(as_user, owner, lobby):
    api = as_user(owner)

    renamed = post(api, "channels.rename", {"roomId": lobby.pk, "name": "hall"})
    assert renamed.json()["channel"]["name"] == "hall"
    assert_v1_error(
        post(api, "channels.rename", {"roomId": lobby.pk, "name": "hall"}),
        400,
        "The channel name is the same as what it would be renamed to.",
        "error-failure",
    )
    assert_v1_error(
        post(api, "channels.rename", {"roomId": lobby.pk, "name": "General"}),
        400,
        "A channel with name 'General' exists [error-duplicate-channel-name]",
        "error-duplicate-channel-name",
    )

    assert post(api, "channels.setTopic", {"roomId": lobby.pk, "topic": "news"}).json() == {
        "topic": "news",
        "success": True,
    }
    assert_v1_error(
        post(api, "channels.setTopic", {"roomId": lobby.pk, "topic": "news"}),
        400,
        "The channel topic is the same as what it would be changed to.",
        "error-failure",
    )
    assert post(
        api, "channels.setDescription", {"roomId": lobby.pk, "description": "d"}
    ).json() == {"description": "d", "success": True}
    assert post(
        api, "channels.setAnnouncement", {"roomId": lobby.pk, "announcement": "a"}
    ).json() == {"announcement": "a", "success": True}
    assert_v1_error(
        post(api, "channels.setTopic", {"roomId": lobby.pk}),
        400,
        'The bodyParam "topic" is required',
        "error-failure",
    )

    room = Room.objects.get(pk=lobby.pk)
    assert (room.name, room.topic, room.description, room.announcement) == (
        "hall",
        "news",
        "d",
        "a",
    )


def test_a_member_cannot_edit_the_room(as_user, lobby):
    member = UserFactory()
    SubscriptionFactory(room=lobby, user=member)

    assert_v1_error(
        post(as_user(member), "channels.setTopic", {"roomId": lobby.pk, "topic": "x"}),
        400,
        "Editing room is not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
    )


def test_set_read_only_and_default(as_user, owner, lobby):
    api = as_user(owner)

    assert (
        post(api, "channels.setReadOnly", {"roomId": lobby.pk, "readOnly": True}).json()["channel"][
            "ro"
        ]
        is True
    )
    assert_v1_error(
        post(api, "channels.setDefault", {"roomId": lobby.pk, "default": True}),
        400,
        "Editing room is not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
    )

    admin_api = as_user(UserFactory(roles=["admin"]))
    assert (
        post(admin_api, "channels.setDefault", {"roomId": lobby.pk, "default": "true"}).json()[
            "channel"
        ]["default"]
        is True
    )


def test_archive_unarchive_and_delete(as_user, owner, lobby):
    api = as_user(owner)

    assert post(api, "channels.archive", {"roomId": lobby.pk}).json() == {"success": True}
    assert_v1_error(
        post(api, "channels.archive", {"roomId": lobby.pk}),
        400,
        "The channel, lobby, is archived [error-room-archived]",
        "error-room-archived",
    )
    admin_api = as_user(UserFactory(roles=["admin"]))
    assert post(admin_api, "channels.unarchive", {"roomId": lobby.pk}).json() == {"success": True}
    assert_v1_error(
        post(admin_api, "channels.unarchive", {"roomId": lobby.pk}),
        400,
        "The channel, lobby, is not archived",
        "error-failure",
    )

    assert_v1_error(
        post(as_user(owner), "channels.delete", {"roomId": lobby.pk}),
        403,
        FORBIDDEN,
        "error-unauthorized",
    )
    MessageFactory(room=lobby)
    assert post(
        as_user(UserFactory(roles=["admin"])), "channels.delete", {"roomId": lobby.pk}
    ).json() == {"success": True}
    assert not Room.objects.filter(pk=lobby.pk).exists()
    assert not Message.objects.filter(room_id=lobby.pk).exists()


def test_counters(as_user, owner, lobby):
    body = as_user(owner).get(f"/api/v1/channels.counters?roomId={lobby.pk}").json()

    assert set(body) == {
        "joined",
        "members",
        "unreads",
        "unreadsFrom",
        "msgs",
        "latest",
        "userMentions",
        "success",
    }
    assert (body["joined"], body["members"], body["msgs"]) == (True, 1, 0)
    other = UserFactory()
    assert_v1_error(
        as_user(other).get(f"/api/v1/channels.counters?roomId={lobby.pk}&userId={owner.pk}"),
        403,
        FORBIDDEN,
        "error-unauthorized",
    )


# --- private groups stay private -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "groups.info",
        "groups.history",
        "groups.messages",
        "groups.members",
        "groups.moderators",
        "groups.roles",
        "groups.counters",
    ],
)
def test_a_private_group_never_shows_to_a_non_member(as_user, owner, path):
    group = RoomFactory(name="hidden", t="p", creator=owner)
    SubscriptionFactory(room=group, user=owner, roles=["owner"])
    MessageFactory(room=group, msg="secret words")
    outsider = UserFactory(roles=["user"])

    for query in (f"roomId={group.pk}", "roomName=hidden"):
        response = as_user(outsider).get(f"/api/v1/{path}?{query}")
        assert_v1_error(response, 400, NOT_A_GROUP, "error-room-not-found")
        assert b"secret words" not in response.content


def test_groups_list_shows_only_the_callers_groups(as_user, owner):
    mine = RoomFactory(name="mine", t="p")
    SubscriptionFactory(room=mine, user=owner)
    RoomFactory(name="theirs", t="p")

    body = as_user(owner).get("/api/v1/groups.list").json()

    assert [g["name"] for g in body["groups"]] == ["mine"]
    assert body["total"] == 1


def test_a_private_group_is_not_a_channel(as_user, owner):
    group = RoomFactory(t="p")
    SubscriptionFactory(room=group, user=owner)

    assert_v1_error(
        as_user(owner).get(f"/api/v1/channels.info?roomId={group.pk}"),
        400,
        NOT_A_CHANNEL,
        "error-room-not-found",
    )
    assert as_user(owner).get(f"/api/v1/groups.info?roomId={group.pk}").status_code == 200


def test_channels_are_not_groups(as_user, owner, lobby):
    assert_v1_error(
        as_user(owner).get(f"/api/v1/groups.info?roomId={lobby.pk}"),
        400,
        NOT_A_GROUP,
        "error-room-not-found",
    )


def test_a_sort_nested_too_deeply_is_a_400(as_user, owner):
    deep = "[" * 5000 + "]" * 5000

    response = as_user(owner).get(f"/api/v1/channels.list?sort={deep}")

    assert response.status_code == 400
    assert response.json()["errorType"] == "error-invalid-sort"
