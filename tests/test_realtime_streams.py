"""Streams over the socket: who may subscribe, the exact `changed` frames, and delivery that
follows access (leaving a room, a revoked login). Writes are made over REST, as clients do."""

from __future__ import annotations

import pytest

from accounts.tokens import issue_login_token
from chat_project.realtime import events
from rooms.models import Message, Room
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import BusTap, DDPClient, SocketClosed, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def room(alice, bob):
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=alice)
    SubscriptionFactory(room=room, user=bob)
    return room


def test_a_message_posted_over_rest_reaches_room_and_my_messages_subscribers(api, alice, bob, room):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(bob_token)
            await ddp.sub("stream-room-messages", room.pk)
            await ddp.sub("stream-room-messages", "__my_messages__")
            posted = await rest(
                api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                {"roomId": room.pk, "text": "hello"},
            )  # fmt: skip
            message = posted.json()["message"]
            in_room = await ddp.changed("stream-room-messages", room.pk)
            mine = await ddp.changed("stream-room-messages", "__my_messages__")
            return message, in_room, mine

    message, in_room, mine = run(scenario())
    ts_ms = message["ts"]  # chat.postMessage's own `ts` is the same instant, in ISO
    expected = {
        "_id": message["_id"],
        "rid": room.pk,
        "msg": "hello",
        "ts": in_room["fields"]["args"][0]["ts"],
        "u": {"_id": alice.pk, "username": "alice", "name": "Alice"},
        "_updatedAt": in_room["fields"]["args"][0]["_updatedAt"],
        "groupable": False,
    }
    assert in_room == {
        "msg": "changed",
        "collection": "stream-room-messages",
        "id": "id",
        "fields": {"eventName": room.pk, "args": [expected]},
    }
    assert set(expected["ts"]) == {"$date"} and isinstance(expected["ts"]["$date"], int)
    assert ts_ms.startswith("20")
    assert mine["fields"] == {
        "eventName": "__my_messages__",
        "args": [expected, {"roomParticipant": True, "roomType": "c", "roomName": "lobby"}],
    }


def test_nosub_for_another_users_stream_and_for_a_private_group_of_others(alice, bob):
    group = RoomFactory(name="secret", t=Room.Type.GROUP)
    SubscriptionFactory(room=group, user=alice)
    token = issue_login_token(user=bob)
    refusal = {
        "isClientSafe": True,
        "error": "not-allowed",
        "reason": "Not allowed",
        "message": "Not allowed [not-allowed]",
        "errorType": "Meteor.Error",
    }

    async def scenario():
        async with DDPClient() as ddp:
            before_login = await ddp.sub("stream-room-messages", "GENERAL", expect="nosub")
            await ddp.login_resume(token)
            other_user = await ddp.sub(
                "stream-notify-user", f"{alice.pk}/rooms-changed", expect="nosub"
            )
            private = await ddp.sub("stream-room-messages", group.pk, expect="nosub")
            typing = await ddp.sub("stream-notify-room", f"{group.pk}/typing", expect="nosub")
            unknown = await ddp.sub("stream-nonsense", "x", expect="nosub")
            own = await ddp.sub("stream-notify-user", f"{bob.pk}/rooms-changed")
            return before_login, other_user, private, typing, unknown, own

    before_login, other_user, private, typing, unknown, own = run(scenario())
    for frame in (before_login, other_user, private, typing):
        assert frame["error"] == refusal
    assert other_user == {
        "msg": "nosub",
        "id": other_user["sub_id"],
        "error": refusal,
        "sub_id": other_user["sub_id"],
    }
    assert unknown["error"]["error"] == 404
    assert unknown["error"]["reason"] == "Subscription 'stream-nonsense' not found"
    assert own["msg"] == "ready"


def test_leaving_a_room_ends_its_subscriptions_and_delivery(api, alice, bob, room):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(bob_token)
            sub = await ddp.sub("stream-room-messages", room.pk)
            await ddp.sub("stream-room-messages", "__my_messages__")
            await ddp.sub("stream-notify-user", f"{bob.pk}/rooms-changed")
            left = await rest(
                api, "post", "/api/v1/channels.leave", bob, bob_token, {"roomId": room.pk}
            )
            assert left.status_code == 200, left.json()
            ended = await ddp.wait_for(lambda f: f.get("msg") == "nosub")
            removed = await ddp.changed("stream-notify-user", f"{bob.pk}/rooms-changed")
            await rest(
                api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                {"roomId": room.pk, "text": "you are gone"},
            )  # fmt: skip
            await ddp.nothing_more(0.5)
            return sub, ended, removed

    sub, ended, removed = run(scenario())
    assert ended == {"msg": "nosub", "id": sub["sub_id"]}
    assert removed["fields"]["args"] == ["removed", {"_id": room.pk}]


def test_deleted_messages_and_typing_on_stream_notify_room(api, alice, bob, room):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as bobs, DDPClient() as alices:
            await bobs.login_resume(bob_token)
            await alices.login_resume(alice_token)
            await bobs.sub("stream-notify-room", f"{room.pk}/deleteMessage")
            await bobs.sub("stream-notify-room", f"{room.pk}/user-activity")
            await bobs.sub("stream-notify-room", f"{room.pk}/typing")
            await alices.sub("stream-notify-room", f"{room.pk}/user-activity")
            typed = await alices.call(
                "stream-notify-room", f"{room.pk}/user-activity", "alice", ["user-typing"], {}
            )
            activity = await bobs.changed("stream-notify-room", f"{room.pk}/user-activity")
            legacy = await bobs.changed("stream-notify-room", f"{room.pk}/typing")
            await alices.nothing_more(0.3)  # the sender's own connection does not get it back
            impostor = await alices.call(
                "stream-notify-room", f"{room.pk}/user-activity", "bob", ["user-typing"], {}
            )
            posted = await rest(
                api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                {"roomId": room.pk, "text": "oops"},
            )  # fmt: skip
            message_id = posted.json()["message"]["_id"]
            await rest(
                api, "post", "/api/v1/chat.delete", alice, alice_token,
                {"roomId": room.pk, "msgId": message_id},
            )  # fmt: skip
            deleted = await bobs.changed("stream-notify-room", f"{room.pk}/deleteMessage")
            return typed, activity, legacy, impostor, deleted, message_id

    typed, activity, legacy, impostor, deleted, message_id = run(scenario())
    assert typed == {"msg": "result", "id": typed["id"]}
    assert activity["fields"]["args"] == ["alice", ["user-typing"], {}]
    assert legacy["fields"]["args"] == ["alice", True]
    assert impostor["error"]["error"] == "error-not-allowed"
    assert deleted == {
        "msg": "changed",
        "collection": "stream-notify-room",
        "id": "id",
        "fields": {"eventName": f"{room.pk}/deleteMessage", "args": [{"_id": message_id}]},
    }


def test_a_login_revoked_over_rest_closes_its_sockets(api, bob):
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            out = await rest(api, "post", "/api/v1/logout", bob, token)
            assert out.status_code == 200
            with pytest.raises(SocketClosed) as closed:
                await ddp.wait_for(lambda f: False)
            return closed.value.code

    assert run(scenario()) == 4001


def test_events_are_published_after_commit_and_never_for_a_rollback(room, alice, monkeypatch):
    from rooms import notify
    from rooms.services import send_message

    real_mentioned = notify.mentioned
    heard_before_commit = []

    def mentioned(message, room):  # a send's last step inside its transaction
        heard_before_commit.append(list(tap.events()))
        real_mentioned(message, room)
        if message.msg == "rolled back":
            raise RuntimeError("a failure before the commit")

    monkeypatch.setattr(notify, "mentioned", mentioned)
    with BusTap() as tap:
        # A client's own message id takes the long way (an atomic block) on every database.
        send_message(user=alice, room=room, text="kept", message_id="kept")
        assert heard_before_commit == [[]]  # not before the commit
        assert len(tap.events()) == 1 and '"kept"' in tap.events()[0]
        with pytest.raises(RuntimeError):
            send_message(user=alice, room=room, text="rolled back", message_id="gone")
        assert len(tap.events()) == 1
        assert not Message.objects.filter(pk="gone").exists()
        events.notify_logged("x", [])
        assert len(tap.events()) == 2  # outside a transaction: at once


def test_roles_given_and_taken_are_announced_to_signed_in_users(api, bob, room):
    admin = UserFactory(username="boss", roles=["admin"])
    admin_token, bob_token = issue_login_token(user=admin), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(bob_token)
            await ddp.sub("stream-notify-logged", "roles-change")
            for body in (
                {"roleName": "moderator", "username": "bob", "roomId": room.pk},
                {"roleName": "bot", "username": "bob"},
            ):
                answer = await rest(
                    api, "post", "/api/v1/roles.addUserToRole", admin, admin_token, body
                )
                assert answer.status_code == 200, answer.json()
            in_room = await ddp.changed("stream-notify-logged", "roles-change")
            everywhere = await ddp.changed("stream-notify-logged", "roles-change")
            return in_room, everywhere

    in_room, everywhere = run(scenario())
    who = {"_id": bob.pk, "username": "bob", "name": "Bob"}
    assert in_room["fields"]["args"] == [
        {"type": "added", "_id": "moderator", "u": who, "scope": room.pk}
    ]
    assert everywhere["fields"]["args"] == [{"type": "added", "_id": "bot", "u": who}]


def test_a_mention_notifies_the_mentioned_member_only(api, alice, bob, room):
    carol = UserFactory(username="carol")
    SubscriptionFactory(room=room, user=carol)
    alice_token = issue_login_token(user=alice)
    bob_token, carol_token = issue_login_token(user=bob), issue_login_token(user=carol)

    async def scenario():
        async with DDPClient() as bobs, DDPClient() as carols:
            await bobs.login_resume(bob_token)
            await carols.login_resume(carol_token)
            await bobs.sub("stream-notify-user", f"{bob.pk}/notification")
            await carols.sub("stream-notify-user", f"{carol.pk}/notification")
            for text in ("nothing for anyone", "hey @Bob, look"):
                await rest(
                    api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                    {"roomId": room.pk, "text": text},
                )  # fmt: skip
            notified = await bobs.changed("stream-notify-user", f"{bob.pk}/notification")
            await carols.nothing_more(0.4)
            await rest(
                api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                {"roomId": room.pk, "text": "@all standup"},
            )  # fmt: skip
            everyone = await carols.changed("stream-notify-user", f"{carol.pk}/notification")
            return notified, everyone

    notified, everyone = run(scenario())
    (notification,) = notified["fields"]["args"]
    assert notification == {
        "title": "#lobby",
        "text": "alice: hey @Bob, look",
        "payload": {
            "_id": notification["payload"]["_id"],
            "rid": room.pk,
            "sender": {"_id": alice.pk, "username": "alice", "name": "Alice"},
            "type": "c",
            "name": "lobby",
            "message": {"msg": "hey @Bob, look"},
        },
    }
    assert everyone["fields"]["args"][0]["text"] == "alice: @all standup"


def test_notify_user_takes_any_event_under_ones_own_id_and_none_under_anothers(alice, bob):
    """Rocket.Chat's rule: `<own uid>/<any event>` (clients wait for `uiInteraction`'s ready)."""
    token = issue_login_token(user=bob)
    refusal = {
        "isClientSafe": True,
        "error": "not-allowed",
        "reason": "Not allowed",
        "message": "Not allowed [not-allowed]",
        "errorType": "Meteor.Error",
    }

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            own = [
                await ddp.sub("stream-notify-user", f"{bob.pk}/{event}")
                for event in ("uiInteraction", "video-conference", "otr", "webrtc")
            ]
            others = [
                await ddp.sub("stream-notify-user", f"{alice.pk}/{event}", expect="nosub")
                for event in ("uiInteraction", "rooms-changed")
            ]
            return own, others

    own, others = run(scenario())
    assert [
        frame == {"msg": "ready", "subs": [frame["sub_id"]], "sub_id": frame["sub_id"]}
        for frame in own
    ] == [True] * 4
    for frame in others:
        assert frame == {
            "msg": "nosub",
            "id": frame["sub_id"],
            "error": refusal,
            "sub_id": frame["sub_id"],
        }
