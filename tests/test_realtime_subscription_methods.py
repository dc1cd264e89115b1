"""readMessages, hideRoom, openRoom, toggleFavorite and loadMissedMessages over the websocket: the
same services as subscriptions.read, channels.close/open and rooms.favorite, each telling the
user's own subscriptions-changed with the whole subscription."""

import pytest

from rooms.models import Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory
from tests.realtime import run
from tests.test_realtime_methods import session

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_own_state_methods_change_the_subscription_and_tell_the_user(alice, bob):
    room = RoomFactory(name="lobby")
    SubscriptionFactory(room=room, user=bob)
    messages = MessageFactory.create_batch(3, room=room, author=alice)
    room.msgs = 3
    room.lm = messages[-1].ts
    room.save()

    async def scenario():
        async with session(bob) as ddp:
            await ddp.sub("stream-notify-user", f"{bob.pk}/subscriptions-changed")
            read = await ddp.call("readMessages", room.pk)
            after_read = await ddp.changed("stream-notify-user", f"{bob.pk}/subscriptions-changed")
            favourite = await ddp.call("toggleFavorite", room.pk, True)
            after_favourite = await ddp.changed(
                "stream-notify-user", f"{bob.pk}/subscriptions-changed"
            )
            hidden = await ddp.call("hideRoom", room.pk)
            after_hide = await ddp.changed("stream-notify-user", f"{bob.pk}/subscriptions-changed")
            opened = await ddp.call("openRoom", room.pk)
            missed = await ddp.call("loadMissedMessages", room.pk, {"$date": 0})
            outside = await ddp.call("readMessages", "nosuchroom")
            return (
                read,
                after_read,
                favourite,
                after_favourite,
                hidden,
                after_hide,
                opened,
                missed,
                outside,
            )

    read, after_read, favourite, after_fav, hidden, after_hide, opened, missed, outside = run(
        scenario()
    )

    assert "error" not in read
    event, sub = after_read["fields"]["args"]
    assert (event, sub["_id"], sub["unread"], sub["alert"]) == (
        "updated",
        f"{room.pk}{bob.pk}",
        0,
        False,
    )
    assert favourite["result"] == 1 and after_fav["fields"]["args"][1]["f"] is True
    assert hidden["result"] == 1 and after_hide["fields"]["args"][1]["open"] is False
    assert opened["result"] == 1
    assert [m["_id"] for m in missed["result"]] == [m.pk for m in reversed(messages)]
    assert outside["error"]["error"] == "error-room-not-found"
    sub = Subscription.objects.get(room=room, user=bob)
    assert (sub.read_msgs, sub.f, sub.closed_at) == (3, True, None)
