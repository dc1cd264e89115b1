"""With Redis, a server process listens to the event channel only while it has sockets: a
process without any has nobody to hand an event to, and would otherwise read and decode every
event any process sends. The first socket subscribes it, in time for what that socket asks for;
some time after the last one closes it lets go; the next socket subscribes it again."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from accounts.tokens import issue_login_token
from chat_project.realtime import bus
from chat_project.realtime import hub as hub_module
from chat_project.realtime.hub import get_hub
from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory
from tests.realtime import DDPClient, rest, run

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not settings.REDIS_URL, reason="needs Redis: set REDIS_URL=redis://... (CI does)"
    ),
]


async def listeners_become(expected: int) -> None:
    """Waits (up to 3 s) until the event channel has `expected` subscribers, as Redis counts."""
    client, channel = bus.redis_client(), bus.channel()
    for _ in range(60):
        if client.pubsub_numsub(channel)[0][1] == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the channel has {client.pubsub_numsub(channel)[0][1]} listeners")


def test_a_process_listens_only_while_it_has_sockets(api, alice, bob, monkeypatch):
    monkeypatch.setattr(hub_module, "IDLE_SECONDS", 0.2)
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=alice)
    SubscriptionFactory(room=room, user=bob)
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def a_message_arrives(text):
        async with DDPClient() as ddp:
            await listeners_become(1)
            await ddp.login_resume(bob_token)
            await ddp.sub("stream-room-messages", room.pk)
            await rest(
                api, "post", "/api/v1/chat.postMessage", alice, alice_token,
                {"roomId": room.pk, "text": text},
            )  # fmt: skip
            changed = await ddp.changed("stream-room-messages", room.pk)
            assert changed["fields"]["args"][0]["msg"] == text

    async def scenario():
        await get_hub()
        await listeners_become(0)  # started, with no socket yet

        await a_message_arrives("first")
        await listeners_become(0)  # the last socket gone, and IDLE_SECONDS later

        await a_message_arrives("again")

    run(scenario())
