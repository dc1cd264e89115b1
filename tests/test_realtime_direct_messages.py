"""Direct conversations over the websocket: createDirectMessage (dm.create's service), what
each member hears when one is made (rooms-changed and subscriptions-changed "inserted") and
when a message arrives (stream-room-messages, and Rocket.Chat's notification on
stream-notify-user), and that a third user can hear none of it."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import issue_login_token
from rooms.models import Room
from tests.factories import UserFactory
from tests.realtime import rest, run
from tests.test_realtime_methods import session

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_create_direct_message_tells_both_and_messages_notify_the_other_only(alice, bob):
    carol = UserFactory(username="carol", name="Carol")
    rid = "".join(sorted([alice.pk, bob.pk]))
    bob_token = issue_login_token(user=bob)

    async def scenario():
        async with session(alice) as mine, session(bob) as theirs, session(carol) as outsider:
            await theirs.sub("stream-notify-user", f"{bob.pk}/rooms-changed")
            await theirs.sub("stream-notify-user", f"{bob.pk}/subscriptions-changed")
            await theirs.sub("stream-notify-user", f"{bob.pk}/notification")
            await mine.sub("stream-notify-user", f"{alice.pk}/notification")
            await outsider.sub("stream-notify-user", f"{carol.pk}/notification")
            created = await mine.call("createDirectMessage", "bob")
            room_event = await theirs.changed("stream-notify-user", f"{bob.pk}/rooms-changed")
            sub_event = await theirs.changed(
                "stream-notify-user", f"{bob.pk}/subscriptions-changed"
            )
            await theirs.sub("stream-room-messages", rid)
            refused = await outsider.sub("stream-room-messages", rid, expect="nosub")
            mine_only = await outsider.sub("stream-room-messages", "__my_messages__")
            again = await theirs.call("createDirectMessage", "alice")
            sent = await rest(
                APIClient(),
                "post",
                "/api/v1/chat.postMessage",
                bob,
                bob_token,
                {"roomId": rid, "text": "hi alice"},
            )
            message = await theirs.changed("stream-room-messages", rid)
            notified = await mine.changed("stream-notify-user", f"{alice.pk}/notification")
            await outsider.nothing_more()
            return (
                created,
                room_event,
                sub_event,
                refused,
                mine_only,
                again,
                sent.json(),
                message,
                notified,
            )

    created, room_event, sub_event, refused, mine_only, again, sent, message, notified = run(
        scenario()
    )
    assert created["result"] == {"t": "d", "rid": rid, "usernames": ["alice", "bob"]}
    assert again["result"] == created["result"]
    assert Room.objects.filter(t="d").count() == 1
    event, room = room_event["fields"]["args"]
    assert (event, room["_id"], room["t"], room["usernames"]) == (
        "inserted",
        rid,
        "d",
        ["alice", "bob"],
    )
    event, sub = sub_event["fields"]["args"]
    assert (event, sub["rid"], sub["name"], sub["fname"], sub["t"], sub["open"]) == (
        "inserted",
        rid,
        "alice",
        "Alice",
        "d",
        False,
    )
    assert refused["msg"] == "nosub"
    assert mine_only["msg"] == "ready"
    assert message["fields"]["args"][0]["msg"] == "hi alice"
    assert notified["fields"]["args"] == [
        {
            "title": "bob",
            "text": "hi alice",
            "payload": {
                "_id": sent["message"]["_id"],
                "rid": rid,
                "sender": {"_id": bob.pk, "username": "bob", "name": "Bob"},
                "type": "d",
                "message": {"msg": "hi alice"},
            },
        }
    ]


def test_a_third_user_cannot_find_a_conversation_by_type_and_name(alice, bob):
    carol = UserFactory(username="carol")

    async def scenario():
        async with session(alice) as mine, session(carol) as outsider:
            created = await mine.call("createDirectMessage", "bob")
            rid = created["result"]["rid"]
            return (
                await mine.call("getRoomByTypeAndName", "d", rid),
                await outsider.call("getRoomByTypeAndName", "d", rid),
                await outsider.call("createDirectMessage", "nobody"),
            )

    own, outside, nobody = run(scenario())
    assert own["result"]["t"] == "d" and own["result"]["usernames"] == ["alice", "bob"]
    assert outside["error"]["error"] == "error-not-allowed"
    assert nobody["error"]["error"] == "error-invalid-user"
