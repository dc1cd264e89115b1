"""getRoomByTypeAndName(type, name) over the socket and over REST's method.call: the room a
Rocket.Chat client opens from a URL (/channel/<name>, /group/<name>), as rooms-changed carries
it; "Not allowed" alike for a room one may not read, a hidden one and a missing one."""

from __future__ import annotations

import json

import pytest

from accounts.tokens import issue_login_token
from chat_project.db.timestamps import epoch_ms
from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory
from tests.realtime import DDPClient, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NOT_ALLOWED = {
    "isClientSafe": True,
    "error": "error-not-allowed",
    "reason": "Not allowed",
    "details": {"method": "getRoomByTypeAndName"},
    "message": "Not allowed [error-not-allowed]",
    "errorType": "Meteor.Error",
}


def room_json(room: Room, *, users_count: int) -> dict:
    """A room as rooms/get and rooms-changed carry it (EJSON dates)."""
    room.refresh_from_db()
    return {
        "_id": room.pk,
        "name": room.name,
        "fname": room.name,
        "t": room.t,
        "msgs": 0,
        "usersCount": users_count,
        "u": {"_id": room.creator.pk, "username": room.creator.username},
        "ts": {"$date": epoch_ms(room.ts)},
        "ro": False,
        "default": False,
        "sysMes": True,
        "archived": False,
        "topic": room.topic,
        "description": room.description,
        "announcement": room.announcement,
        "_updatedAt": {"$date": epoch_ms(room.updated_at)},
    }


def test_get_room_by_type_and_name_answers_rooms_one_may_read(alice, bob):
    channel = RoomFactory(name="lobby", t=Room.Type.CHANNEL, creator=alice)
    SubscriptionFactory(room=channel, user=alice)
    group = RoomFactory(name="team", t=Room.Type.GROUP, creator=alice)
    SubscriptionFactory(room=group, user=alice)
    SubscriptionFactory(room=group, user=bob)
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            return [
                await ddp.call("getRoomByTypeAndName", "c", "lobby"),
                await ddp.call("getRoomByTypeAndName", "p", "team"),
                await ddp.call("getRoomByTypeAndName", "p", group.pk),  # by id too
            ]

    by_channel, by_group, by_id = run(scenario())
    assert by_channel == {
        "msg": "result",
        "id": by_channel["id"],
        "result": room_json(channel, users_count=1),
    }
    assert by_group["result"] == room_json(group, users_count=2)
    assert by_id["result"] == by_group["result"]


def test_get_room_by_type_and_name_says_not_allowed_alike_for_hidden_and_missing_rooms(alice, bob):
    secret = RoomFactory(name="secret", t=Room.Type.GROUP, creator=alice)
    SubscriptionFactory(room=secret, user=alice)
    RoomFactory(name="lobby", t=Room.Type.CHANNEL, creator=alice)
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            before_login = await ddp.call("getRoomByTypeAndName", "c", "lobby")
            await ddp.login_resume(token)
            return (
                before_login,
                [
                    await ddp.call("getRoomByTypeAndName", "p", "secret"),
                    await ddp.call("getRoomByTypeAndName", "p", secret.pk),
                    await ddp.call("getRoomByTypeAndName", "p", "nowhere"),
                    await ddp.call("getRoomByTypeAndName", "c", "secret"),  # not of that type
                    await ddp.call("getRoomByTypeAndName", "p", "lobby"),
                    await ddp.call("getRoomByTypeAndName", "x", "lobby"),
                ],
                [
                    await ddp.call("getRoomByTypeAndName", "c", 42),
                    # no name holds NUL: a string parameter holding one is refused as any method's
                    await ddp.call("getRoomByTypeAndName", "c", "lob\x00by"),
                ],
            )

    before_login, refusals, bad_names = run(scenario())
    assert before_login["error"] == {
        **NOT_ALLOWED,
        "error": "error-invalid-user",
        "reason": "Invalid user",
        "message": "Invalid user [error-invalid-user]",
    }
    for answer in refusals:
        assert answer == {"msg": "result", "id": answer["id"], "error": NOT_ALLOWED}
    assert [bad["error"]["error"] for bad in bad_names] == ["error-invalid-params"] * 2


def test_get_room_by_type_and_name_over_method_call(api, alice, bob):
    channel = RoomFactory(name="lobby", t=Room.Type.CHANNEL, creator=alice)
    SubscriptionFactory(room=channel, user=alice)
    token = issue_login_token(user=bob)
    message = {
        "msg": "method",
        "id": "9",
        "method": "getRoomByTypeAndName",
        "params": ["c", "lobby"],
    }
    answer = run(
        rest(
            api, "post", "/api/v1/method.call/getRoomByTypeAndName", bob, token,
            {"message": json.dumps(message)},
        )
    )  # fmt: skip
    assert answer.status_code == 200
    assert json.loads(answer.json()["message"]) == {
        "msg": "result",
        "id": "9",
        "result": room_json(channel, users_count=1),
    }
