"""A channel made private (channels.setType) stops reaching the sockets of non-members at once,
and cleanHistory's deleteMessageBulk reaches those who listen to the room."""

from __future__ import annotations

import pytest

from accounts.tokens import issue_login_token
from rooms.models import Room
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def lobby(alice):
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=alice, roles=["owner"])
    return room


def test_a_channel_made_private_ends_an_outsiders_subscriptions(api, alice, bob, lobby):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(bob_token)
            sub = await ddp.sub("stream-room-messages", lobby.pk)
            changed = await rest(
                api, "post", "/api/v1/channels.setType", alice, alice_token,
                {"roomId": lobby.pk, "type": "p"},
            )  # fmt: skip
            assert changed.status_code == 200, changed.json()
            ended = await ddp.wait_for(lambda f: f.get("msg") == "nosub")
            await rest(
                api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                {"roomId": lobby.pk, "text": "members only now"},
            )  # fmt: skip
            await ddp.nothing_more(0.5)
            return sub, ended

    sub, ended = run(scenario())
    assert ended == {"msg": "nosub", "id": sub["sub_id"]}


def test_clean_history_reaches_room_listeners_as_delete_message_bulk(api, alice, lobby):
    boss = UserFactory(username="boss", roles=["admin", "user"])
    message = MessageFactory(room=lobby, author=alice)
    boss_token, alice_token = issue_login_token(user=boss), issue_login_token(user=alice)
    oldest = message.ts.isoformat().replace("+00:00", "Z")

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(alice_token)
            await ddp.sub("stream-notify-room", f"{lobby.pk}/deleteMessageBulk")
            cleaned = await rest(
                api, "post", "/api/v1/rooms.cleanHistory", boss, boss_token,
                {"roomId": lobby.pk, "oldest": oldest, "latest": "2100-01-01T00:00:00Z",
                 "inclusive": True},
            )  # fmt: skip
            assert cleaned.json() == {"_id": lobby.pk, "count": 1, "success": True}
            return await ddp.changed("stream-notify-room", f"{lobby.pk}/deleteMessageBulk")

    frame = run(scenario())
    assert frame["fields"]["args"] == [
        {
            "rid": lobby.pk,
            "excludePinned": False,
            "ignoreDiscussion": False,
            "ts": {
                "$gte": {"$date": int(message.ts.timestamp() * 1000)},
                "$lte": {"$date": 4102444800000},
            },
            "users": [],
        }
    ]
