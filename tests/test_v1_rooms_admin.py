"""rooms.info, rooms.adminRooms, rooms.cleanHistory, rooms.nameExists,
rooms.autocomplete.channelAndPrivate and the channels/groups administration endpoints (online,
addAll, setType, setJoinCode + join, setCustomFields, getAllUserMentionsByChannel,
groups.listAll): Rocket.Chat's shapes and words, permissions, and private rooms that tell
nothing."""

import json

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts import presence
from rooms.models import Message, Room, Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = (
    'The required "roomId" or "roomName" param provided does not match any channel '
    "[error-room-not-found]"
)
FORBIDDEN = "User does not have the permissions required for this action [error-unauthorized]"


def post(api, path, body):
    return api.post(f"/api/v1/{path}", json.dumps(body), content_type="application/json")


def error_of(response, status):
    assert response.status_code == status, response.json()
    body = response.json()
    return body["error"], body["errorType"], body["detailed_error"]


@pytest.fixture
def admin():
    return UserFactory(username="boss", roles=["admin", "user"])


@pytest.fixture
def owner():
    return UserFactory(username="owner")


@pytest.fixture
def outsider():
    return UserFactory(username="outsider")


@pytest.fixture
def lobby(owner):
    room = RoomFactory(name="lobby", creator=owner)
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    return room


@pytest.fixture
def secret(owner):
    room = RoomFactory(name="secret", t=Room.Type.GROUP, creator=owner)
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    return room


# --- rooms.info ------------------------------------------------------------------------------------


def test_rooms_info_answers_the_room_as_rocket_chat_does(as_user, owner, lobby):
    body = as_user(owner).get(f"/api/v1/rooms.info?roomId={lobby.pk}").json()

    assert body == {
        "room": {
            "_id": lobby.pk,
            "name": "lobby",
            "fname": "lobby",
            "t": "c",
            "msgs": 0,
            "usersCount": 1,
            "ts": body["room"]["ts"],
            "ro": False,
            "default": False,
            "sysMes": True,
            "archived": False,
            "topic": "",
            "description": "",
            "announcement": "",
            "_updatedAt": body["room"]["_updatedAt"],
            "u": {"_id": owner.pk, "username": "owner"},
        },
        "success": True,
    }
    by_name = as_user(owner).get("/api/v1/rooms.info?roomName=secret")
    assert error_of(by_name, 400)[0] == NOT_FOUND


def test_rooms_info_hides_a_private_group_from_non_members_as_a_missing_room(
    as_user, outsider, secret
):
    hidden = as_user(outsider).get(f"/api/v1/rooms.info?roomId={secret.pk}")
    missing = as_user(outsider).get("/api/v1/rooms.info?roomId=nosuchroom")

    assert (
        error_of(hidden, 400)[:2]
        == error_of(missing, 400)[:2]
        == (
            NOT_FOUND,
            "error-room-not-found",
        )
    )
    assert error_of(as_user(outsider).get("/api/v1/rooms.info"), 400)[1] == (
        "error-roomid-param-not-provided"
    )


# --- rooms.nameExists and autocomplete -----------------------------------------------------------


def test_rooms_name_exists(as_user, owner, lobby):
    client = as_user(owner)
    assert client.get("/api/v1/rooms.nameExists?roomName=LOBBY").json() == {
        "exists": True,
        "success": True,
    }
    assert client.get("/api/v1/rooms.nameExists?roomName=nope").json() == {
        "exists": False,
        "success": True,
    }
    missing = client.get("/api/v1/rooms.nameExists")
    assert error_of(missing, 400)[:2] == (
        "must have required property 'roomName' [invalid-params]",
        "invalid-params",
    )


def test_autocomplete_lists_only_the_callers_rooms(as_user, owner, outsider, lobby, secret):
    RoomFactory(name="lobby2")  # public, but the caller is not in it
    client = as_user(owner)

    body = client.get('/api/v1/rooms.autocomplete.channelAndPrivate?selector={"name":"E"}').json()
    assert body == {
        "items": [{"_id": secret.pk, "fname": "secret", "name": "secret", "t": "p"}],
        "success": True,
    }
    assert as_user(outsider).get(
        '/api/v1/rooms.autocomplete.channelAndPrivate?selector={"name":"sec"}'
    ).json() == {"items": [], "success": True}
    missing = client.get("/api/v1/rooms.autocomplete.channelAndPrivate")
    assert error_of(missing, 400)[0] == "The 'selector' param is required"
    bad = client.get("/api/v1/rooms.autocomplete.channelAndPrivate?selector=[1]")
    assert error_of(bad, 400)[1] == "error-failure"


# --- rooms.adminRooms and groups.listAll -------------------------------------------------------


def test_admin_rooms_needs_view_room_administration(as_user, admin, owner, lobby, secret):
    refused = as_user(owner).get("/api/v1/rooms.adminRooms")
    assert error_of(refused, 403) == (
        FORBIDDEN,
        "error-unauthorized",
        'Missing permission "view-room-administration".',
    )

    body = as_user(admin).get("/api/v1/rooms.adminRooms?filter=E&types[]=p").json()
    assert [r["name"] for r in body["rooms"]] == ["secret"]
    assert (body["count"], body["offset"], body["total"], body["success"]) == (1, 0, 1, True)
    every = as_user(admin).get("/api/v1/rooms.adminRooms?count=1&offset=1").json()
    assert (every["count"], every["offset"], every["total"]) == (
        1,
        1,
        Room.objects.count(),
    )


def test_groups_list_all_needs_view_room_administration(as_user, admin, owner, secret):
    refused = as_user(owner).get("/api/v1/groups.listAll")
    assert error_of(refused, 403)[2] == 'Missing permission "view-room-administration".'

    body = as_user(admin).get("/api/v1/groups.listAll").json()
    assert [g["name"] for g in body["groups"]] == ["secret"]
    assert (body["count"], body["total"]) == (1, 1)


@pytest.mark.parametrize("rooms", [1, 11])
def test_admin_list_endpoints_keep_their_query_count(as_user, admin, rooms, settings):
    settings.ACCESS_CACHE_SECONDS = 0
    for _ in range(rooms):
        room = RoomFactory(t=Room.Type.GROUP)
        SubscriptionFactory(room=room)
    client = as_user(admin)
    client.get("/api/v1/groups.listAll")  # the token's first use records itself
    for path in ("rooms.adminRooms", "groups.listAll"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/v1/{path}").status_code == 200
        counted = [q for q in captured if "SAVEPOINT" not in q["sql"]]
        # token, the permission, the total, the page with member counts
        assert len(counted) == 4, (path, [q["sql"][:80] for q in counted])


# --- rooms.cleanHistory --------------------------------------------------------------------------


@pytest.fixture
def history(lobby, owner):
    other = UserFactory(username="other")
    messages = [MessageFactory(room=lobby, author=owner if i % 2 else other) for i in range(6)]
    Room.objects.filter(pk=lobby.pk).update(msgs=6, lm=messages[-1].ts)
    return messages


def iso(ts):
    return ts.isoformat().replace("+00:00", "Z")


def test_clean_history_deletes_the_range_and_keeps_counters(as_user, admin, lobby, history):
    elsewhere = MessageFactory(room=RoomFactory(name="elsewhere"))
    body = {
        "roomId": lobby.pk,
        "oldest": iso(history[1].ts),
        "latest": iso(history[4].ts),
        "inclusive": True,
        "users": ["other"],
    }

    response = post(as_user(admin), "rooms.cleanHistory", body)

    assert response.json() == {"_id": lobby.pk, "count": 2, "success": True}
    left = list(Message.objects.filter(room=lobby).order_by("ts").values_list("pk", flat=True))
    assert left == [history[i].pk for i in (0, 1, 3, 5)]
    lobby.refresh_from_db()
    assert (lobby.msgs, lobby.lm) == (4, history[5].ts)
    assert Message.objects.filter(pk=elsewhere.pk).exists()

    # Exclusive by default: the bounds stay; the newest gone moves lm back.
    body = {"roomId": lobby.pk, "oldest": iso(history[0].ts), "latest": "2100-01-01T00:00:00Z"}
    assert post(as_user(admin), "rooms.cleanHistory", body).json()["count"] == 3
    lobby.refresh_from_db()
    assert (lobby.msgs, lobby.lm) == (1, history[0].ts)


def test_clean_history_needs_clean_channel_history(as_user, owner, lobby, history):
    body = {"roomId": lobby.pk, "oldest": iso(history[0].ts), "latest": iso(history[5].ts)}

    refused = post(as_user(owner), "rooms.cleanHistory", body)

    assert error_of(refused, 403)[2] == 'Missing permission "clean-channel-history".'
    assert Message.objects.filter(room=lobby).count() == 6


def test_clean_history_refuses_bad_input_and_hidden_rooms(as_user, admin, outsider, secret):
    outside = as_user(outsider)
    hidden = post(outside, "rooms.cleanHistory", {"roomId": secret.pk, "oldest": "2000-01-01"})
    assert error_of(hidden, 400)[0] == NOT_FOUND
    assert error_of(post(outside, "rooms.cleanHistory", {}), 400)[0] == (
        "must have required property 'roomId' [invalid-params]"
    )
    no_latest = post(as_user(admin), "rooms.cleanHistory", {"roomId": "GENERAL", "oldest": "x"})
    assert no_latest.status_code == 400
    general = post(
        as_user(admin),
        "rooms.cleanHistory",
        {"roomId": "GENERAL", "oldest": "2000-01-01T00:00:00Z"},
    )
    assert error_of(general, 400)[0] == 'Body parameter "latest" is required.'
    files = post(
        as_user(admin),
        "rooms.cleanHistory",
        {
            "roomId": "GENERAL",
            "oldest": "2000-01-01T00:00:00Z",
            "latest": "2100-01-01T00:00:00Z",
            "filesOnly": True,
        },
    )
    assert files.json() == {"_id": "GENERAL", "count": 0, "success": True}


def test_clean_history_tells_the_room_stream(as_user, admin, lobby, history, monkeypatch):
    sent = []
    monkeypatch.setattr("chat_project.realtime.bus.send", sent.append)
    body = {
        "roomId": lobby.pk,
        "oldest": iso(history[0].ts),
        "latest": iso(history[5].ts),
        "users": ["owner"],
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        post(as_user(admin), "rooms.cleanHistory", body)

    bulk = [e for e in flatten(sent) if e.get("e") == f"{lobby.pk}/deleteMessageBulk"]
    assert bulk == [
        {
            "c": "stream-notify-room",
            "e": f"{lobby.pk}/deleteMessageBulk",
            "a": [
                {
                    "rid": lobby.pk,
                    "excludePinned": False,
                    "ignoreDiscussion": False,
                    "ts": {
                        "$gt": {"$date": int(history[0].ts.timestamp() * 1000)},
                        "$lt": {"$date": int(history[5].ts.timestamp() * 1000)},
                    },
                    "users": ["owner"],
                }
            ],
        }
    ]


def flatten(events):
    for event in events:
        if event.get("ctl") == "batch":
            yield from event["events"]
        else:
            yield event


# --- online, addAll ----------------------------------------------------------------------------


def test_online_lists_members_not_offline(as_user, owner, outsider, lobby, secret):
    member = UserFactory(username="member")
    SubscriptionFactory(room=lobby, user=member)
    presence.reset_local_store()
    presence.connection_opened(member.pk, "conn1")
    presence.connection_opened(outsider.pk, "conn2")
    try:
        body = as_user(owner).get(f"/api/v1/channels.online?_id={lobby.pk}").json()
        assert body == {"online": [{"_id": member.pk, "username": "member"}], "success": True}
        by_name = as_user(owner).get('/api/v1/channels.online?query={"name":"lobby"}').json()
        assert by_name == body
        hidden = as_user(outsider).get(f"/api/v1/groups.online?_id={secret.pk}")
        assert error_of(hidden, 400)[0] == "Group does not exists"
        assert error_of(as_user(owner).get("/api/v1/channels.online"), 400)[0] == "Invalid query"
    finally:
        presence.reset_local_store()


def test_add_all_needs_add_all_to_room_and_adds_everyone(as_user, admin, owner, lobby):
    UserFactory(username="late")
    UserFactory(username="gone", is_active=False)

    refused = post(as_user(owner), "channels.addAll", {"roomId": lobby.pk})
    assert error_of(refused, 403)[2] == 'Missing permission "add-all-to-room".'

    body = post(as_user(admin), "channels.addAll", {"roomId": lobby.pk, "activeUsersOnly": True})
    members = set(Subscription.objects.filter(room=lobby).values_list("user__username", flat=True))
    assert "late" in members and "gone" not in members
    assert body.json()["channel"]["usersCount"] == len(members)


def test_add_all_refuses_beyond_the_limit(as_user, admin, lobby, settings):
    settings.ADD_ALL_USER_LIMIT = 1
    refused = post(as_user(admin), "channels.addAll", {"roomId": lobby.pk})
    assert error_of(refused, 400)[:2] == (
        "User Limit Exceeded [error-user-limit-exceeded]",
        "error-user-limit-exceeded",
    )


# --- setType -----------------------------------------------------------------------------------


def test_set_type_private_takes_access_from_non_members(as_user, owner, outsider, lobby):
    outside = as_user(outsider)
    assert outside.get(f"/api/v1/channels.info?roomId={lobby.pk}").status_code == 200

    changed = post(as_user(owner), "channels.setType", {"roomId": lobby.pk, "type": "p"})

    assert changed.status_code == 200, changed.json()
    assert changed.json()["channel"]["t"] == "p"
    for path in ("channels.info", "groups.info", "rooms.info"):
        response = as_user(outsider).get(f"/api/v1/{path}?roomId={lobby.pk}")
        assert response.status_code == 400, path
    history = as_user(outsider).get(f"/api/v1/channels.history?roomId={lobby.pk}")
    assert history.status_code == 400
    back = post(as_user(owner), "groups.setType", {"roomId": lobby.pk, "type": "c"})
    assert back.json()["group"]["t"] == "c"
    assert as_user(outsider).get(f"/api/v1/rooms.info?roomId={lobby.pk}").status_code == 200


def test_set_type_rules(as_user, owner, outsider, lobby):
    same = post(as_user(owner), "channels.setType", {"roomId": lobby.pk, "type": "c"})
    assert error_of(same, 400)[0] == "The channel type is the same as what it would be changed to."
    bad = post(as_user(owner), "channels.setType", {"roomId": lobby.pk, "type": "x"})
    assert error_of(bad, 400)[1] == "error-invalid-room-type"
    missing = post(as_user(owner), "channels.setType", {"roomId": lobby.pk})
    assert error_of(missing, 400)[0] == 'The bodyParam "type" is required'
    SubscriptionFactory(room=lobby, user=outsider)
    not_editor = post(as_user(outsider), "channels.setType", {"roomId": lobby.pk, "type": "p"})
    assert error_of(not_editor, 400)[2] == 'Missing permission "edit-room".'
    owner.roles.set([])  # no create-p
    no_create = post(as_user(owner), "channels.setType", {"roomId": lobby.pk, "type": "p"})
    assert error_of(no_create, 400)[:3] == (
        "Changing a public channel to a private room is not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
        'Missing permission "create-p".',
    )
    assert Room.objects.get(pk=lobby.pk).t == "c"


# --- setJoinCode and join ----------------------------------------------------------------------


def test_join_code_is_needed_to_join(as_user, owner, outsider, lobby, admin):
    set_code = post(as_user(owner), "channels.setJoinCode", {"roomId": lobby.pk, "joinCode": "s3"})
    assert set_code.status_code == 200
    channel = set_code.json()["channel"]
    assert channel["joinCodeRequired"] is True
    assert "s3" not in set_code.content.decode()

    wrong = post(as_user(outsider), "channels.join", {"roomId": lobby.pk, "joinCode": "nope"})
    assert error_of(wrong, 400)[:2] == (
        "Invalid Room Password [error-code-invalid]",
        "error-code-invalid",
    )
    none = post(as_user(outsider), "channels.join", {"roomId": lobby.pk})
    assert none.status_code == 400
    assert not Subscription.objects.filter(room=lobby, user=outsider).exists()

    right = post(as_user(outsider), "channels.join", {"roomId": lobby.pk, "joinCode": "s3"})
    assert right.status_code == 200
    assert post(as_user(admin), "channels.join", {"roomId": lobby.pk}).status_code == 200
    info = as_user(outsider).get(f"/api/v1/rooms.info?roomId={lobby.pk}").content.decode()
    assert "s3" not in info


def test_set_join_code_needs_edit_room(as_user, outsider, lobby):
    refused = post(as_user(outsider), "channels.setJoinCode", {"roomId": lobby.pk, "joinCode": "x"})
    assert error_of(refused, 400)[2] == 'Missing permission "edit-room".'
    empty = post(as_user(outsider), "channels.setJoinCode", {"roomId": lobby.pk, "joinCode": " "})
    assert error_of(empty, 400)[0] == 'The bodyParam "joinCode" is required'


# --- setCustomFields -----------------------------------------------------------------------------


def test_set_custom_fields_stores_the_object(as_user, owner, outsider, secret):
    fields = {"team": "blue", "level": 3}
    changed = post(
        as_user(owner), "groups.setCustomFields", {"roomId": secret.pk, "customFields": fields}
    )
    assert changed.json()["group"]["customFields"] == fields
    assert Room.objects.get(pk=secret.pk).custom_fields == fields

    not_object = post(
        as_user(owner), "groups.setCustomFields", {"roomId": secret.pk, "customFields": [1]}
    )
    assert error_of(not_object, 400)[0] == (
        'The bodyParam "customFields" is required with a type like object.'
    )
    hidden = post(
        as_user(outsider), "groups.setCustomFields", {"roomId": secret.pk, "customFields": {}}
    )
    assert error_of(hidden, 400)[1] == "error-room-not-found"


# --- getAllUserMentionsByChannel -----------------------------------------------------------------


def test_mentions_of_the_caller_paged(as_user, owner, outsider, lobby, secret):
    for text in ("hi @owner", "@ownerx no", "@all hey", "mail a@owner", "see @OWNER.", "x"):
        MessageFactory(room=lobby, msg=text)

    body = (
        as_user(owner)
        .get(f"/api/v1/channels.getAllUserMentionsByChannel?roomId={lobby.pk}&count=1")
        .json()
    )

    assert [m["msg"] for m in body["mentions"]] == ["hi @owner"]
    assert (body["count"], body["offset"], body["total"], body["success"]) == (1, 0, 2, True)
    hidden = as_user(outsider).get(
        f"/api/v1/channels.getAllUserMentionsByChannel?roomId={secret.pk}"
    )
    assert error_of(hidden, 400)[:2] == ("Invalid room [error-invalid-room]", "error-invalid-room")


def test_users_added_by_add_all_find_the_earlier_history_read(as_user, admin, owner, lobby):
    """What was said before they were added is not unread (as for any other join)."""
    post(as_user(owner), "chat.postMessage", {"roomId": lobby.pk, "text": "before"})
    late = UserFactory(username="latecomer")

    post(as_user(admin), "channels.addAll", {"roomId": lobby.pk})

    mine = as_user(late).get(f"/api/v1/subscriptions.getOne?roomId={lobby.pk}").json()
    assert (mine["subscription"]["unread"], mine["subscription"]["alert"]) == (0, False)
