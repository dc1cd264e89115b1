"""The rest of the seed's curl session (publicRooms, join, leave, messages, send), as written."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from accounts.services import create_user
from rooms.models import Message, Room, Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "MySECRET"
SEED_TIME = datetime(2015, 7, 27, 15, 25, 43, 549000, tzinfo=UTC)


def iso(moment):
    """Rocket.Chat's time format, written out independently of the code under test."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def sing(api):
    """The seed's user, signed in through the API as the seed does."""
    user = create_user(username="sing", email="sing@example.com", password=PASSWORD, name="Sing")
    data = api.post(
        "/api/login",
        "password=MySECRET&user=sing",
        content_type="application/x-www-form-urlencoded",
    ).json()["data"]
    api.credentials(HTTP_X_AUTH_TOKEN=data["authToken"], HTTP_X_USER_ID=data["userId"])
    return user


def test_general_exists_after_migrate():
    general = Room.objects.get(pk="GENERAL")

    assert (general.name, general.t, general.is_default, general.creator) == (
        "general",
        "c",
        True,
        None,
    )


def test_the_first_admin_and_every_later_user_join_the_default_rooms(settings):
    settings.ADMIN_PASSWORD = "MySECRET"
    extra_default = RoomFactory(name="announcements", is_default=True)
    RoomFactory(name="elsewhere")

    call_command("ensure_admin")
    later = create_user(username="later", email="later@example.com", password="pw")

    for username in ("admin", "later"):
        rooms = set(
            Subscription.objects.filter(user__username=username).values_list("room_id", flat=True)
        )
        assert rooms == {"GENERAL", extra_default.pk}
    assert later.subscriptions.count() == 2


def test_public_rooms(api, sing):
    admin = UserFactory(username="admin")
    SubscriptionFactory(room=Room.objects.get(pk="GENERAL"), user=admin)
    busy = RoomFactory(name="busy", creator=admin)
    SubscriptionFactory(room=busy, user=admin)
    MessageFactory(room=busy, author=admin, ts=SEED_TIME)
    Room.objects.filter(pk=busy.pk).update(msgs=1, lm=Message.objects.get().ts)
    RoomFactory(name="secret", t="p")

    response = api.get("/api/publicRooms")

    assert response.status_code == 200
    busy.refresh_from_db()
    general = Room.objects.get(pk="GENERAL")
    assert response.json() == {
        "status": "success",
        "rooms": [
            {
                "_id": busy.pk,
                "name": "busy",
                "t": "c",
                "usernames": ["admin"],
                "msgs": 1,
                "ts": iso(busy.ts),
                "lm": "2015-07-27T15:25:43.549Z",
                "u": {"_id": admin.pk, "username": "admin"},
                "default": False,
                "ro": False,
                "archived": False,
                "topic": "",
                "_updatedAt": iso(busy.updated_at),
            },
            {
                "_id": "GENERAL",
                "name": "general",
                "t": "c",
                "usernames": ["admin", "sing"],
                "msgs": 0,
                "ts": iso(general.ts),
                "default": True,
                "ro": False,
                "archived": False,
                "topic": "",
                "_updatedAt": iso(general.updated_at),
            },
        ],
    }


def test_join_with_curls_empty_form_body(api, sing):
    room = RoomFactory(name="x4p")

    response = api.post(
        f"/api/rooms/{room.pk}/join", "{}", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert Subscription.objects.filter(room=room, user=sing).exists()


def test_joining_twice_leaves_one_membership(api, sing):
    room = RoomFactory()

    api.post(f"/api/rooms/{room.pk}/join", "{}", content_type="application/x-www-form-urlencoded")
    second = api.post(
        f"/api/rooms/{room.pk}/join", "{}", content_type="application/x-www-form-urlencoded"
    )

    assert second.json() == {"status": "success"}
    assert Subscription.objects.filter(room=room, user=sing).count() == 1


def test_leave_with_curls_empty_form_body(api, sing):
    room = RoomFactory()
    SubscriptionFactory(room=room, user=sing)

    response = api.post(
        f"/api/rooms/{room.pk}/leave", "{}", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert not Subscription.objects.filter(room=room, user=sing).exists()


def test_messages(api, sing):
    author = UserFactory(username="GaRou", name="Ga Rou")
    room = RoomFactory()
    message = MessageFactory(
        room=room, author=author, msg="We don't play games with your data.", ts=SEED_TIME
    )

    response = api.get(f"/api/rooms/{room.pk}/messages")

    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "messages": [
            {
                "_id": message.pk,
                "rid": room.pk,
                "msg": "We don't play games with your data.",
                "ts": "2015-07-27T15:25:43.549Z",
                "u": {"_id": author.pk, "username": "GaRou", "name": "Ga Rou"},
                "_updatedAt": iso(message.updated_at),
            }
        ],
    }


def test_send_as_json(api, sing):
    room = RoomFactory()
    SubscriptionFactory(room=room, user=sing)

    response = api.post(
        f"/api/rooms/{room.pk}/send", '{ "msg" : "OK" }', content_type="application/json"
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert response.json() == {
        "status": "success",
        "data": {
            "_id": message.pk,
            "rid": room.pk,
            "msg": "OK",
            "ts": iso(message.ts),
            "u": {"_id": sing.pk, "username": "sing", "name": "Sing"},
            "_updatedAt": iso(message.updated_at),
        },
    }
    room.refresh_from_db()
    assert (room.msgs, room.lm) == (1, message.ts)


def test_send_as_a_form(api, sing):
    response = api.post("/api/rooms/GENERAL/send", {"msg": "hello from a form"})

    assert response.status_code == 200
    assert Message.objects.get().msg == "hello from a form"


def test_the_whole_session_in_order(api, sing):
    room = RoomFactory(name="seed")
    form = "application/x-www-form-urlencoded"

    rooms = api.get("/api/publicRooms").json()["rooms"]
    assert {r["name"] for r in rooms} == {"general", "seed"}
    assert api.post(f"/api/rooms/{room.pk}/join", "{}", content_type=form).json() == {
        "status": "success"
    }
    sent = api.post(
        f"/api/rooms/{room.pk}/send", '{ "msg" : "OK" }', content_type="application/json"
    )
    assert sent.json()["status"] == "success"
    messages = api.get(f"/api/rooms/{room.pk}/messages").json()["messages"]
    assert [m["msg"] for m in messages] == ["OK"]
    assert api.post(f"/api/rooms/{room.pk}/leave", "{}", content_type=form).json() == {
        "status": "success"
    }
    assert api.get("/api/logout").json()["data"]["message"] == "You've been logged out!"


def test_joined_rooms_lists_the_callers_rooms_of_any_type(api, sing):
    group = RoomFactory(name="private-club", t="p")
    SubscriptionFactory(room=group, user=sing)
    SubscriptionFactory(room=group, user=UserFactory(username="alice"))
    RoomFactory(name="not-mine")

    response = api.get("/api/joinedRooms")

    assert response.status_code == 200
    rooms = response.json()["rooms"]
    assert [(r["name"], r["t"], r["usernames"]) for r in rooms] == [
        ("general", "c", ["sing"]),
        ("private-club", "p", ["alice", "sing"]),
    ]
    assert response.json()["status"] == "success"
