"""stream-notify-room carries only what Rocket.Chat defines: `<rid>/user-activity` [username,
activities among user-typing, user-recording and user-uploading, extras none, {} or {tmid}], and
`<rid>/typing` [username, true|false]. Anything else is an error to the sender and reaches no
other socket."""

from __future__ import annotations

import json

import pytest

from accounts.tokens import issue_login_token
from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory
from tests.realtime import DDPClient, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INVALID = {"isClientSafe": True, "error": "error-invalid-params"}


@pytest.fixture
def room(alice, bob):
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=alice)
    SubscriptionFactory(room=room, user=bob)
    return room


def invalid(reason: str) -> dict:
    return INVALID | {
        "reason": reason,
        "details": {"method": "stream-notify-room"},
        "message": f"{reason} [error-invalid-params]",
        "errorType": "Meteor.Error",
    }


ACTIVITY_REFUSED = "activities must be a list of user-typing, user-recording, user-uploading"
EXTRAS_REFUSED = "extras must be {} or {tmid: a message id}"
TYPING_REFUSED = "typing takes a username and true or false"
ARGS_REFUSED = "user-activity takes a username, activities and extras"


@pytest.mark.parametrize(
    ("event", "args", "reason"),
    [
        ("user-activity", ["alice", ["user-dancing"], {}], ACTIVITY_REFUSED),
        ("user-activity", ["alice", "user-typing", {}], ACTIVITY_REFUSED),
        ("user-activity", ["alice", ["user-typing", "user-typing"]], ACTIVITY_REFUSED),
        ("user-activity", ["alice", [{"x": 1}]], ACTIVITY_REFUSED),
        (
            "user-activity",
            ["alice", ["user-typing"], {"tmid": "m1", "html": "<b>"}],
            EXTRAS_REFUSED,
        ),
        ("user-activity", ["alice", ["user-typing"], {"tmid": "x" * 33}], EXTRAS_REFUSED),
        ("user-activity", ["alice", ["user-typing"], {"tmid": 7}], EXTRAS_REFUSED),
        ("user-activity", ["alice", ["user-typing"], ["tmid"]], EXTRAS_REFUSED),
        # Within what may arrive (REALTIME_MAX_FRAME_BYTES), far beyond what is relayed.
        ("user-activity", ["alice", ["user-typing"], {"tmid": "x" * 200_000}], EXTRAS_REFUSED),
        ("user-activity", ["alice", ["user-typing"], {}, "more"], ARGS_REFUSED),
        ("user-activity", ["alice"], ARGS_REFUSED),
        ("typing", ["alice", "yes"], TYPING_REFUSED),
        ("typing", ["alice", 1], TYPING_REFUSED),
        ("typing", ["alice"], TYPING_REFUSED),
        ("typing", ["alice", True, {"blob": "x" * 1000}], TYPING_REFUSED),
    ],
)
def test_activity_outside_rocket_chats_shapes_is_refused_and_not_relayed(
    alice, bob, room, event, args, reason
):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as bobs, DDPClient() as alices:
            await bobs.login_resume(bob_token)
            await alices.login_resume(alice_token)
            await bobs.sub("stream-notify-room", f"{room.pk}/user-activity")
            await bobs.sub("stream-notify-room", f"{room.pk}/typing")
            refused = await alices.call("stream-notify-room", f"{room.pk}/{event}", *args)
            await bobs.nothing_more(0.3)
            # The valid form still works.
            accepted = await alices.call(
                "stream-notify-room", f"{room.pk}/user-activity", "alice", ["user-typing"]
            )
            heard = await bobs.changed("stream-notify-room", f"{room.pk}/user-activity")
            return refused, accepted, heard

    refused, accepted, heard = run(scenario())
    assert refused == {"msg": "result", "id": refused["id"], "error": invalid(reason)}
    assert accepted == {"msg": "result", "id": accepted["id"]}
    assert heard["fields"]["args"] == ["alice", ["user-typing"], {}]


def test_each_rocket_chat_activity_is_relayed_in_both_forms(alice, bob, room):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)
    activity, typing = f"{room.pk}/user-activity", f"{room.pk}/typing"

    async def scenario():
        async with DDPClient() as bobs, DDPClient() as alices:
            await bobs.login_resume(bob_token)
            await alices.login_resume(alice_token)
            await bobs.sub("stream-notify-room", activity)
            await bobs.sub("stream-notify-room", typing)
            heard = []
            for args in (
                ["alice", ["user-recording"], None],
                ["alice", ["user-uploading", "user-typing"], {"tmid": "Tm23456789ABCDEFG"}],
                ["alice", []],
            ):
                answer = await alices.call("stream-notify-room", activity, *args)
                assert "error" not in answer, answer
                heard.append((await bobs.changed("stream-notify-room", activity))["fields"])
                if args[1] != ["user-recording"]:  # Rocket.Chat: recording alone is not typing
                    heard.append((await bobs.changed("stream-notify-room", typing))["fields"])
            await bobs.nothing_more(0.3)
            answer = await alices.call("stream-notify-room", typing, "alice", False)
            assert "error" not in answer, answer
            heard.append((await bobs.changed("stream-notify-room", activity))["fields"])
            heard.append((await bobs.changed("stream-notify-room", typing))["fields"])
            return heard

    heard = run(scenario())
    assert heard == [
        {"eventName": activity, "args": ["alice", ["user-recording"], {}]},
        {
            "eventName": activity,
            "args": ["alice", ["user-uploading", "user-typing"], {"tmid": "Tm23456789ABCDEFG"}],
        },
        {"eventName": typing, "args": ["alice", True]},
        {"eventName": activity, "args": ["alice", [], {}]},
        {"eventName": typing, "args": ["alice", False]},
        {"eventName": activity, "args": ["alice", [], {}]},
        {"eventName": typing, "args": ["alice", False]},
    ]


def test_what_is_relayed_stays_small_whatever_arrives(alice, bob, room):
    """The largest valid activity is rebuilt from its checked parts: its frame is small."""
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as bobs, DDPClient() as alices:
            await bobs.login_resume(bob_token)
            await alices.login_resume(alice_token)
            await bobs.sub("stream-notify-room", f"{room.pk}/user-activity")
            await alices.call(
                "stream-notify-room",
                f"{room.pk}/user-activity",
                "alice",
                ["user-typing", "user-recording", "user-uploading"],
                {"tmid": "x" * 32},
            )
            return await bobs.changed("stream-notify-room", f"{room.pk}/user-activity")

    frame = run(scenario())
    assert len(json.dumps(frame)) < 300
