"""dm.* and im.* (the same endpoints under Rocket.Chat's older names), through HTTP as a
Rocket.Chat client reads them: a conversation of two has the two ids side by side, a second
create finds it, each member's subscription is named after the other, and nobody else learns
anything of it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tokens import issue_login_token
from chat_project.db.timestamps import iso_ms
from permissions.models import Role
from rooms.models import Message, Room, Subscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PREFIXES = ["dm", "im"]


def client(user):
    api = APIClient()
    api.credentials(HTTP_X_AUTH_TOKEN=issue_login_token(user=user), HTTP_X_USER_ID=user.pk)
    return api


def create(user, body, prefix="dm"):
    return client(user).post(f"/api/v1/{prefix}.create", body, format="json")


def dm_of(user, other):
    response = create(user, {"username": other.username})
    assert response.status_code == 200, response.json()
    return Room.objects.get(pk=response.json()["room"]["rid"])


def say(user, room, text):
    response = client(user).post(
        "/api/v1/chat.postMessage", {"roomId": room.pk, "text": text}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()["message"]


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", name="Carol")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_create_makes_one_room_named_by_both_ids_and_names_each_side_after_the_other(
    alice, bob, prefix
):
    first = create(alice, {"username": "bob"}, prefix)
    again = create(bob, {"username": "alice"}, prefix)

    rid = "".join(sorted([alice.pk, bob.pk]))
    expected = {
        "room": {"t": "d", "rid": rid, "usernames": ["alice", "bob"], "_id": rid},
        "success": True,
    }
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == expected
    assert Room.objects.filter(t="d").count() == 1
    names = {s.user_id: (s.name, s.fname) for s in Subscription.objects.filter(room_id=rid)}
    assert names == {alice.pk: ("bob", "Bob"), bob.pk: ("alice", "Alice")}


def test_a_conversation_with_oneself_and_a_group_one(alice, bob, carol):
    mine = create(alice, {"username": "alice"}).json()["room"]
    assert mine["usernames"] == ["alice"]
    assert create(alice, {"username": "alice"}).json()["room"]["rid"] == mine["rid"]
    assert Subscription.objects.get(room_id=mine["rid"]).name == "alice"

    group = create(alice, {"usernames": "bob, carol"}).json()["room"]
    assert group["usernames"] == ["alice", "bob", "carol"]
    assert create(carol, {"usernames": "alice,bob"}).json()["room"]["rid"] == group["rid"]
    subs = {s.user_id: s.name for s in Subscription.objects.filter(room_id=group["rid"])}
    assert subs == {alice.pk: "bob, carol", bob.pk: "alice, carol", carol.pk: "alice, bob"}


def test_create_refuses_missing_inactive_users_and_callers_without_create_d(alice, bob):
    missing = create(alice, {"username": "nobody"})
    assert missing.status_code == 400
    assert missing.json()["errorType"] == "error-invalid-user"
    assert missing.json()["error"] == "Invalid user [error-invalid-user]"

    gone = UserFactory(username="gone", is_active=False)
    assert create(alice, {"username": gone.username}).json()["errorType"] == "error-invalid-user"
    assert create(alice, {}).json()["errorType"] == "error-invalid-params"

    Role.objects.get(pk="user").permissions.remove("create-d")
    refused = create(alice, {"username": "bob"})
    assert (refused.status_code, refused.json()["errorType"]) == (400, "error-not-allowed")
    assert "create-d" in refused.json()["detailed_error"]
    assert not Room.objects.filter(t="d").exists()


def set_setting(admin, setting_id, value):
    admin.roles.set(["admin", "user"])
    response = client(admin).post(f"/api/v1/settings/{setting_id}", {"value": value}, format="json")
    assert response.status_code == 200, response.json()


def test_create_refuses_more_members_than_the_setting_allows(alice, bob, carol, admin):
    set_setting(admin, "DirectMesssage_maxUsers", 2)
    refused = create(alice, {"usernames": "bob,carol"})
    assert refused.json()["errorType"] == "error-direct-message-max-user-exceeded"
    assert create(alice, {"username": "bob"}).status_code == 200


@pytest.mark.parametrize("prefix", PREFIXES)
def test_list_history_messages_members_counters_in_rocket_chats_shapes(alice, bob, prefix):
    room = dm_of(alice, bob)
    first = say(alice, room, "hello bob")
    second = say(bob, room, "hi alice")
    room.refresh_from_db()
    api = client(alice)

    listed = api.get(f"/api/v1/{prefix}.list").json()
    assert listed == {
        "ims": [
            {
                "_id": room.pk,
                "t": "d",
                "usernames": ["alice", "bob"],
                "uids": sorted([alice.pk, bob.pk]),
                "usersCount": 2,
                "msgs": 2,
                "ts": iso_ms(room.ts),
                "ro": False,
                "default": False,
                "sysMes": True,
                "_updatedAt": iso_ms(room.updated_at),
                "lm": iso_ms(room.lm),
            }
        ],
        "offset": 0,
        "count": 1,
        "total": 1,
        "success": True,
    }
    history = api.get(f"/api/v1/{prefix}.history?roomId={room.pk}").json()
    assert history == {"messages": [second, first], "success": True}
    by_name = api.get(f"/api/v1/{prefix}.messages?username=bob").json()
    assert by_name == {
        "messages": [second, first],
        "count": 2,
        "offset": 0,
        "total": 2,
        "success": True,
    }
    assert api.get(f"/api/v1/{prefix}.messages?roomId={room.pk}").json() == by_name
    members = api.get(f"/api/v1/{prefix}.members?roomId={room.pk}").json()
    assert members == {
        "members": [
            {"_id": alice.pk, "username": "alice", "name": "Alice", "status": "offline"},
            {"_id": bob.pk, "username": "bob", "name": "Bob", "status": "offline"},
        ],
        "count": 2,
        "offset": 0,
        "total": 2,
        "success": True,
    }
    counters = api.get(f"/api/v1/{prefix}.counters?roomId={room.pk}").json()
    sub = Subscription.objects.get(room=room, user=alice)
    assert counters == {
        "joined": True,
        "members": 2,
        "unreads": 1,
        "unreadsFrom": iso_ms(sub.ls),
        "msgs": 2,
        "latest": iso_ms(room.lm),
        "userMentions": 0,
        "success": True,
    }


@pytest.mark.parametrize("prefix", PREFIXES)
def test_close_open_and_set_topic(alice, bob, prefix):
    room = dm_of(alice, bob)
    api = client(alice)
    assert api.post(f"/api/v1/{prefix}.close", {"roomId": room.pk}).json() == {"success": True}
    again = api.post(f"/api/v1/{prefix}.close", {"roomId": room.pk}).json()
    assert again["error"] == "The direct message room, is already closed to the sender"
    assert Subscription.objects.get(room=room, user=alice).closed_at is not None
    assert api.post(f"/api/v1/{prefix}.open", {"roomId": room.pk}).json() == {"success": True}
    assert Subscription.objects.get(room=room, user=alice).closed_at is None

    topic = client(bob).post(f"/api/v1/{prefix}.setTopic", {"roomId": room.pk, "topic": "lunch"})
    assert topic.json() == {"topic": "lunch", "success": True}
    room.refresh_from_db()
    assert room.topic == "lunch"


def test_the_other_side_starts_hidden_until_the_first_message(alice, bob):
    room = dm_of(alice, bob)

    def open_for(user):
        return (
            client(user)
            .get(f"/api/v1/subscriptions.getOne?roomId={room.pk}")
            .json()["subscription"]["open"]
        )

    assert (open_for(alice), open_for(bob)) == (True, False)
    say(alice, room, "knock knock")
    assert open_for(bob) is True


@pytest.mark.parametrize("prefix", PREFIXES)
def test_delete_takes_delete_d(alice, bob, admin, prefix):
    room = dm_of(alice, bob)
    refused = client(alice).post(f"/api/v1/{prefix}.delete", {"roomId": room.pk})
    assert refused.status_code == 403
    assert Room.objects.filter(pk=room.pk).exists()

    admin.roles.set(["admin", "user"])
    mine = dm_of(admin, alice)
    assert client(admin).post(f"/api/v1/{prefix}.delete", {"username": "alice"}).json() == {
        "success": True
    }
    assert not Room.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_administrators_list_everyone_and_read_others_only_with_the_setting(
    alice, bob, admin, prefix
):
    room = dm_of(alice, bob)
    message = say(alice, room, "secret")
    plain = client(alice)
    assert plain.get(f"/api/v1/{prefix}.list.everyone").status_code == 403
    assert plain.get(f"/api/v1/{prefix}.messages.others?roomId={room.pk}").status_code == 403

    admin.roles.set(["admin", "user"])
    api = client(admin)
    everyone = api.get(f"/api/v1/{prefix}.list.everyone").json()
    assert [im["_id"] for im in everyone["ims"]] == [room.pk]
    assert everyone["ims"][0]["usernames"] == ["alice", "bob"]
    off = api.get(f"/api/v1/{prefix}.messages.others?roomId={room.pk}").json()
    assert (off["errorType"], off["error"]) == (
        "error-endpoint-disabled",
        "This endpoint is disabled [error-endpoint-disabled]",
    )
    set_setting(admin, "API_Enable_Direct_Message_History_EndPoint", True)
    others = api.get(f"/api/v1/{prefix}.messages.others?roomId={room.pk}").json()
    assert others == {"messages": [message], "offset": 0, "count": 1, "total": 1, "success": True}
    # Reading them is the only thing the permission gives: the conversation stays theirs.
    assert api.get(f"/api/v1/{prefix}.history?roomId={room.pk}").json()["errorType"] == (
        "error-room-not-found"
    )


def test_post_message_to_at_username_creates_the_conversation_and_posts(alice, bob):
    response = client(alice).post(
        "/api/v1/chat.postMessage", {"channel": "@bob", "text": "hi"}, format="json"
    )
    rid = "".join(sorted([alice.pk, bob.pk]))
    body = response.json()
    assert response.status_code == 200, body
    assert (body["channel"], body["message"]["rid"], body["message"]["msg"]) == ("@bob", rid, "hi")
    again = client(bob).post(
        "/api/v1/chat.postMessage", {"channel": "@alice", "text": "hello"}, format="json"
    )
    assert again.json()["message"]["rid"] == rid
    assert Message.objects.filter(room_id=rid).count() == 2
    missing = client(alice).post(
        "/api/v1/chat.postMessage", {"channel": "@nobody", "text": "hi"}, format="json"
    )
    assert missing.json()["errorType"] == "invalid-channel"


def test_a_third_user_learns_nothing_of_a_conversation(alice, bob, carol, admin):
    room = dm_of(alice, bob)
    say(alice, room, "between us")
    admin.roles.set(["admin", "user"])
    for outsider in (carol, admin):
        api = client(outsider)
        for path in (
            f"dm.history?roomId={room.pk}",
            f"dm.messages?roomId={room.pk}",
            f"dm.members?roomId={room.pk}",
            f"im.messages?roomId={room.pk}",
            "dm.messages?username=bob",
            f"rooms.info?roomId={room.pk}",
            f"channels.info?roomId={room.pk}",
            f"groups.info?roomId={room.pk}",
            f"channels.history?roomId={room.pk}",
            f"groups.messages?roomId={room.pk}",
            f"subscriptions.getOne?roomId={room.pk}",
        ):
            answer = api.get(f"/api/v1/{path}").json()
            assert "between us" not in str(answer), path
            assert answer.get("success") is False or answer.get("subscription") is None, path
        for path in (f"dm.counters?roomId={room.pk}",):
            assert api.get(f"/api/v1/{path}").status_code == 403
        for path, body in (
            ("dm.open", {"roomId": room.pk}),
            ("dm.close", {"roomId": room.pk}),
            ("dm.setTopic", {"roomId": room.pk, "topic": "mine now"}),
            ("dm.delete", {"roomId": room.pk}),
            ("chat.postMessage", {"roomId": room.pk, "text": "me too"}),
            ("chat.postMessage", {"channel": f"#{room.pk}", "text": "me too"}),
            ("subscriptions.read", {"rid": room.pk}),
            ("rooms.favorite", {"roomId": room.pk, "favorite": True}),
        ):
            assert api.post(f"/api/v1/{path}", body, format="json").status_code in (400, 403)
        listed = str(
            [
                api.get(f"/api/v1/{path}").json()
                for path in (
                    "dm.list",
                    "rooms.get",
                    "subscriptions.get",
                    "channels.list",
                    "groups.list",
                    "spotlight?query=b",
                    "directory?type=channels",
                )
            ]
        )
        assert room.pk not in listed
    assert api.get("/api/publicRooms").status_code in (200, 404)
    assert room.pk not in str(api.get("/api/publicRooms").json())
    room.refresh_from_db()
    assert (room.topic, room.msgs) == ("", 1)


def test_dm_list_takes_three_queries_however_many_conversations(alice):
    for index in range(12):
        other = UserFactory(username=f"friend{index}")
        dm_of(alice, other)
    api = client(alice)
    api.get("/api/v1/dm.list")  # warm the caches a first request fills
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/dm.list").json()
    assert body["total"] == 12 and len(body["ims"]) == 12
    # the total, the page, their members (and the token, unless the cache kept it)
    rooms = [q["sql"] for q in queries if "rooms_" in q["sql"]]
    assert len(rooms) == 3, rooms
    assert len(queries) <= 4
