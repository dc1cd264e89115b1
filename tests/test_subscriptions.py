"""subscriptions.*, rooms.get, rooms.favorite, rooms.leave, channels.open/close and the counters,
through HTTP as a Rocket.Chat client reads them. Unread counts are counters: the room's message
count less the count the member had read."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tokens import issue_login_token
from chat_project.db.timestamps import iso_ms, now_ms
from rooms.models import Message, Room, Subscription
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def client(user):
    api = APIClient()
    api.credentials(HTTP_X_AUTH_TOKEN=issue_login_token(user=user), HTTP_X_USER_ID=user.pk)
    return api


def say(user, room, text):
    response = client(user).post(
        "/api/v1/chat.postMessage", {"roomId": room.pk, "text": text}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()["message"]


def one(api, room):
    response = api.get(f"/api/v1/subscriptions.getOne?roomId={room.pk}")
    assert response.status_code == 200, response.json()
    return response.json()["subscription"]


@pytest.fixture
def lobby(alice, bob):
    room = RoomFactory(name="lobby")
    SubscriptionFactory(room=room, user=alice)
    SubscriptionFactory(room=room, user=bob)
    return room


def test_get_one_shows_rocket_chats_fields(alice, bob, lobby):
    say(alice, lobby, "one")
    say(alice, lobby, "two")
    sub = Subscription.objects.select_related("room").get(room=lobby, user=bob)

    assert client(bob).get(f"/api/v1/subscriptions.getOne?roomId={lobby.pk}").json() == {
        "subscription": {
            "_id": f"{lobby.pk}{bob.pk}",
            "rid": lobby.pk,
            "u": {"_id": bob.pk, "username": "bob"},
            "name": "lobby",
            "fname": "lobby",
            "t": "c",
            "ts": iso_ms(sub.ts),
            "ls": iso_ms(sub.ls),
            "unread": 2,
            "userMentions": 0,
            "groupMentions": 0,
            "alert": True,
            "open": True,
            "f": False,
            "roles": [],
            "archived": False,
            "_updatedAt": iso_ms(sub.room.updated_at),
        },
        "success": True,
    }
    # The author has read up to their own message, as in Rocket.Chat.
    assert one(client(alice), lobby)["unread"] == 0
    assert one(client(alice), lobby)["alert"] is False


def test_get_one_of_a_room_one_is_not_in_is_null_and_needs_a_room_id(alice, bob):
    elsewhere = RoomFactory(name="elsewhere")
    api = client(bob)

    assert api.get(f"/api/v1/subscriptions.getOne?roomId={elsewhere.pk}").json() == {
        "subscription": None,
        "success": True,
    }
    response = api.get("/api/v1/subscriptions.getOne")
    assert response.status_code == 400
    assert response.json()["error"] == "The 'roomId' param is required"


def test_read_clears_unread_and_mentions(alice, bob, lobby):
    say(alice, lobby, "hello @bob")
    say(alice, lobby, "hello @all")
    api = client(bob)
    before = one(api, lobby)
    assert (before["unread"], before["userMentions"], before["groupMentions"]) == (2, 1, 1)

    response = api.post("/api/v1/subscriptions.read", {"rid": lobby.pk}, format="json")

    assert response.json() == {"success": True}
    after = one(api, lobby)
    assert (after["unread"], after["userMentions"], after["groupMentions"]) == (0, 0, 0)
    assert after["alert"] is False
    say(alice, lobby, "again")
    assert one(api, lobby)["unread"] == 1


def test_mentions_follow_rocket_chats_rules(alice, bob, lobby):
    carol = UserFactory(username="carol")
    SubscriptionFactory(room=lobby, user=carol)

    say(alice, lobby, "@bob and @all")  # a named mention wins over the group one
    say(alice, lobby, "@here")
    say(alice, lobby, "@alice talks to herself")
    say(alice, lobby, "mail bob@example.com")  # not a mention

    assert {
        name: (s["userMentions"], s["groupMentions"], s["unread"])
        for name, s in [
            ("alice", one(client(alice), lobby)),
            ("bob", one(client(bob), lobby)),
            ("carol", one(client(carol), lobby)),
        ]
    } == {"alice": (0, 0, 0), "bob": (1, 1, 4), "carol": (0, 1, 4)}


def test_read_of_a_room_one_is_not_in_is_refused(alice, bob, lobby):
    outside = RoomFactory(name="outside")
    api = client(bob)

    response = api.post("/api/v1/subscriptions.read", {"rid": outside.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-invalid-subscription"
    hidden = RoomFactory(name="hidden", t=Room.Type.GROUP)
    response = api.post("/api/v1/subscriptions.read", {"rid": hidden.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-room-not-found"
    response = api.post("/api/v1/subscriptions.read", {}, format="json")
    assert response.status_code == 400
    assert api.post("/api/v1/subscriptions.read", {"rid": lobby.pk}, format="json").json() == {
        "success": True
    }


def test_unread_from_a_message_marks_it_and_the_later_ones(alice, bob, lobby):
    first = say(alice, lobby, "one")
    second = say(alice, lobby, "two")
    say(alice, lobby, "three")
    api = client(bob)
    api.post("/api/v1/subscriptions.read", {"rid": lobby.pk}, format="json")

    response = api.post(
        "/api/v1/subscriptions.unread",
        {"firstUnreadMessage": {"_id": second["_id"]}},
        format="json",
    )

    assert response.json() == {"success": True}
    sub = one(api, lobby)
    assert (sub["unread"], sub["ls"], sub["alert"]) == (2, second["ts"], True)
    api.post(
        "/api/v1/subscriptions.unread", {"firstUnreadMessage": {"_id": first["_id"]}}, format="json"
    )
    assert one(api, lobby)["unread"] == 3
    api.post("/api/v1/subscriptions.read", {"rid": lobby.pk}, format="json")
    api.post("/api/v1/subscriptions.unread", {"roomId": lobby.pk}, format="json")
    assert one(api, lobby)["unread"] == 1  # the last message


def test_unread_refusals(alice, bob, lobby):
    api = client(bob)
    empty = RoomFactory(name="empty")
    SubscriptionFactory(room=empty, user=bob)

    response = api.post("/api/v1/subscriptions.unread", {"roomId": empty.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-no-message-for-unread"
    response = api.post(
        "/api/v1/subscriptions.unread", {"firstUnreadMessage": {"_id": "nope"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-message-not-found"
    response = api.post("/api/v1/subscriptions.unread", {"firstUnreadMessage": 3}, format="json")
    assert response.status_code == 400
    assert api.post("/api/v1/subscriptions.unread", {}, format="json").status_code == 400


def test_favorite(alice, bob, lobby):
    api = client(bob)

    response = api.post(
        "/api/v1/rooms.favorite", {"roomId": lobby.pk, "favorite": True}, format="json"
    )

    assert response.json() == {"success": True}
    assert one(api, lobby)["f"] is True
    api.post("/api/v1/rooms.favorite", {"roomName": "lobby", "favorite": False}, format="json")
    assert one(api, lobby)["f"] is False
    response = api.post("/api/v1/rooms.favorite", {"roomId": lobby.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "The 'favorite' param is required"
    outside = RoomFactory(name="outside")
    response = api.post(
        "/api/v1/rooms.favorite", {"roomId": outside.pk, "favorite": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "You must be part of a room to favorite it [error-invalid-subscription]"
    )


def test_close_hides_until_opened_or_a_new_message(alice, bob, lobby):
    api = client(bob)

    response = api.post("/api/v1/channels.close", {"roomId": lobby.pk}, format="json")

    assert response.json() == {"success": True}
    assert one(api, lobby)["open"] is False
    again = api.post("/api/v1/channels.close", {"roomId": lobby.pk}, format="json")
    assert again.status_code == 400
    assert again.json()["error"] == "The channel, lobby, is already closed to the sender"
    assert api.post("/api/v1/channels.open", {"roomId": lobby.pk}, format="json").json() == {
        "success": True
    }
    assert one(api, lobby)["open"] is True
    response = api.post("/api/v1/channels.open", {"roomId": lobby.pk}, format="json")
    assert response.json()["error"] == "The channel, lobby, is already open to the sender"
    # As in Rocket.Chat, a new message in the room shows it again.
    api.post("/api/v1/channels.close", {"roomId": lobby.pk}, format="json")
    Subscription.objects.filter(room=lobby, user=bob).update(
        closed_at=now_ms() - timedelta(seconds=1)
    )
    say(alice, lobby, "news")
    assert one(api, lobby)["open"] is True


def test_groups_close_and_open(alice, bob):
    group = RoomFactory(name="secret", t=Room.Type.GROUP)
    SubscriptionFactory(room=group, user=bob)
    api = client(bob)

    assert api.post("/api/v1/groups.close", {"roomId": group.pk}, format="json").json() == {
        "success": True
    }
    again = api.post("/api/v1/groups.close", {"roomId": group.pk}, format="json")
    assert again.json()["error"] == "The private group, secret, is already closed to the sender"
    api.post("/api/v1/groups.open", {"roomId": group.pk}, format="json")
    again = api.post("/api/v1/groups.open", {"roomId": group.pk}, format="json")
    assert again.json()["error"] == "The private group, secret, is already open for the sender"
    # Not a member: as if the group did not exist.
    response = client(alice).post("/api/v1/groups.close", {"roomId": group.pk}, format="json")
    assert response.json()["errorType"] == "error-room-not-found"


def test_channels_close_of_a_channel_one_is_not_in(alice):
    outside = RoomFactory(name="outside")
    response = client(alice).post("/api/v1/channels.close", {"roomId": outside.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == 'The user/callee is not in the channel "outside".'


def test_counters_count_unreads_and_mentions(alice, bob, lobby):
    say(alice, lobby, "hi @bob")
    say(alice, lobby, "there")
    sub = Subscription.objects.get(room=lobby, user=bob)
    lobby.refresh_from_db()

    response = client(bob).get(f"/api/v1/channels.counters?roomId={lobby.pk}")

    assert response.json() == {
        "joined": True,
        "members": 2,
        "unreads": 2,
        "unreadsFrom": iso_ms(sub.ls),
        "msgs": 2,
        "latest": iso_ms(lobby.lm),
        "userMentions": 1,
        "success": True,
    }


def test_counters_of_a_hidden_room_say_not_joined_as_rocket_chat(alice, bob, lobby):
    api = client(bob)
    api.post("/api/v1/channels.close", {"roomId": lobby.pk}, format="json")
    lobby.refresh_from_db()

    assert api.get(f"/api/v1/channels.counters?roomId={lobby.pk}").json() == {
        "joined": False,
        "members": 2,
        "unreads": None,
        "unreadsFrom": None,
        "msgs": 0,
        "latest": iso_ms(lobby.updated_at),
        "userMentions": None,
        "success": True,
    }


def test_get_lists_everything_or_the_changes_with_removals(alice, bob, lobby):
    other = RoomFactory(name="other")
    SubscriptionFactory(room=other, user=bob)
    api = client(bob)
    everything = api.get("/api/v1/subscriptions.get").json()
    assert [s["name"] for s in everything["update"]] == ["lobby", "other"]
    assert everything["remove"] == []
    since = iso_ms(now_ms())

    left = api.post("/api/v1/rooms.leave", {"roomId": other.pk}, format="json")
    assert left.json() == {"success": True}
    say(alice, lobby, "news")

    changed = api.get(f"/api/v1/subscriptions.get?updatedSince={since}").json()
    removed_at = changed["remove"][0]["_deletedAt"]
    assert changed == {
        "update": [one(api, lobby)],
        "remove": [{"_id": f"{other.pk}{bob.pk}", "_deletedAt": removed_at}],
        "success": True,
    }
    rooms = api.get(f"/api/v1/rooms.get?updatedSince={since}").json()
    assert [r["_id"] for r in rooms["update"]] == [lobby.pk]
    assert rooms["remove"] == [{"_id": other.pk, "_deletedAt": removed_at}]
    # Joining again takes it off the removals.
    api.post("/api/v1/channels.join", {"roomId": other.pk}, format="json")
    assert api.get(f"/api/v1/rooms.get?updatedSince={since}").json()["remove"] == []


def test_rooms_get_lists_the_rooms_one_is_in(alice, bob, lobby):
    RoomFactory(name="elsewhere")
    answer = client(bob).get("/api/v1/rooms.get").json()

    assert [r["_id"] for r in answer["update"]] == [lobby.pk]
    assert answer["update"][0]["usersCount"] == 2
    assert (answer["remove"], answer["success"]) == ([], True)


def test_a_bad_date_is_refused_in_rocket_chats_words(bob):
    response = client(bob).get("/api/v1/subscriptions.get?updatedSince=yesterday")
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-roomId-param-invalid"
    response = client(bob).get("/api/v1/rooms.get?updatedSince=yesterday")
    assert response.status_code == 400
    assert response.json()["errorType"] == "error-updatedSince-param-invalid"


def test_a_deleted_room_is_listed_as_removed(alice, bob, lobby):
    since = iso_ms(now_ms())
    admin = UserFactory(username="boss", roles=["user", "admin"])
    deleted = client(admin).post("/api/v1/channels.delete", {"roomId": lobby.pk}, format="json")
    assert deleted.json() == {"success": True}

    answer = client(bob).get(f"/api/v1/subscriptions.get?updatedSince={since}").json()
    assert [r["_id"] for r in answer["remove"]] == [f"{lobby.pk}{bob.pk}"]


# --- cost ---------------------------------------------------------------------------------------


def statements(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


def user_with_rooms(count):
    user = UserFactory(username=f"busy{count}")
    rooms = Room.objects.bulk_create([Room(name=f"r{count}x{n}") for n in range(count)])
    Subscription.objects.bulk_create([Subscription(room=room, user=user) for room in rooms])
    return user


@pytest.mark.parametrize("rooms", [1, 11, 5000])
def test_subscriptions_get_costs_the_same_for_1_11_and_5000_rooms(rooms, settings):
    settings.ACCESS_CACHE_SECONDS = 0
    user = user_with_rooms(rooms)
    api = client(user)
    api.get("/api/v1/me")  # the token's first use (last_used_at) is behind us

    sql = statements(lambda: api.get("/api/v1/subscriptions.get"))

    # the token, the subscriptions with their rooms, their roles
    assert len(sql) == 3, sql
    assert len(api.get("/api/v1/subscriptions.get").json()["update"]) == rooms


@pytest.mark.parametrize("members", [2, 10_000])
def test_a_message_costs_the_same_writes_for_2_and_10000_members(members, settings):
    settings.ACCESS_CACHE_SECONDS = 0
    room = RoomFactory(name=f"big{members}")
    people = UserFactory._meta.model.objects.bulk_create(
        [
            UserFactory.build(username=f"m{members}x{n}", email=f"m{members}x{n}@example.com")
            for n in range(members)
        ]
    )
    Subscription.objects.bulk_create([Subscription(room=room, user=u) for u in people])
    author = people[0]
    author.roles.set(["user"])
    api = client(author)
    api.post("/api/v1/chat.postMessage", {"roomId": room.pk, "text": "warm"}, format="json")

    sql = statements(
        lambda: api.post(
            "/api/v1/chat.postMessage", {"roomId": room.pk, "text": "hello"}, format="json"
        )
    )
    writes = [q for q in sql if not q.lstrip().upper().startswith("SELECT")]

    # PostgreSQL: one statement counts, inserts and marks the author's read (it starts WITH);
    # elsewhere: the insert, the room's counter, the author's read mark.
    assert len(writes) == (1 if connection.vendor == "postgresql" else 3), writes
    assert len(sql) == (3 if connection.vendor == "postgresql" else 6)
    if connection.vendor == "postgresql":
        assert subscription_rows_updated(api, room) == 1
    other = client(people[1])
    assert one(other, room)["unread"] == Room.objects.get(pk=room.pk).msgs


def subscription_rows_updated(api, room):
    """Rows of rooms_subscription a message updates (PostgreSQL's own count of this
    transaction's row writes)."""

    def updated():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'rooms_subscription'"
            )
            return cursor.fetchone()[0]

    before = updated()
    api.post("/api/v1/chat.postMessage", {"roomId": room.pk, "text": "again"}, format="json")
    return updated() - before


def test_a_mention_writes_only_the_mentioned_rows(alice, bob, lobby):
    carol = UserFactory(username="carol")
    SubscriptionFactory(room=lobby, user=carol)
    before = dict(Subscription.objects.filter(room=lobby).values_list("user_id", "updated_at"))

    say(alice, lobby, "hey @bob")

    after = dict(Subscription.objects.filter(room=lobby).values_list("user_id", "updated_at"))
    changed = {uid for uid in after if after[uid] != before[uid]}
    assert changed == {alice.pk, bob.pk}  # the author's read mark, the mentioned
    assert Message.objects.filter(room=lobby).count() == 1
