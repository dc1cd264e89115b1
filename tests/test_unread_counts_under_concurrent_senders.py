"""Unread counts stay exact while many senders post at once into a 2-member and a large room,
against a live server on PostgreSQL (SQLite serialises every write, so the race means nothing
there: skipped, saying so). A member who never posted has every message unread; a sender has
unread exactly the messages after their own last one."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import User
from accounts.tokens import issue_login_token
from rooms.models import Message, Room, Subscription
from tests.factories import RoomFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MESSAGES_EACH = 15


def call(url, user, body=None):
    headers = {
        "X-Auth-Token": issue_login_token(user=user),
        "X-User-Id": user.pk,
        "Content-Type": "application/json",
    }
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def room_with_members(name, count):
    room = RoomFactory(name=name)
    users = User.objects.bulk_create(
        [User(username=f"{name}{n}", email=f"{name}{n}@example.com") for n in range(count)]
    )
    Subscription.objects.bulk_create([Subscription(room=room, user=u) for u in users])
    return room, users


@pytest.mark.parametrize("members", [2, 10_000])
def test_unread_counts_are_exact_under_concurrent_senders(live_server, members):
    room, users = room_with_members(f"race{members}x", members)
    # In the 2-member room one sends while the other reads; in the large one, eight send.
    senders, reader = (users[:1] if members == 2 else users[:8]), users[-1]
    post = f"{live_server.url}/api/v1/chat.postMessage"

    def send_all(user):
        for n in range(MESSAGES_EACH):
            call(post, user, {"roomId": room.pk, "text": f"{user.username} {n}"})

    with ThreadPoolExecutor(max_workers=len(senders) + 1) as pool:
        # The reader marks the room read meanwhile, racing the senders.
        reads = pool.submit(
            lambda: [
                call(f"{live_server.url}/api/v1/subscriptions.read", reader, {"rid": room.pk})
                for _ in range(5)
            ]
        )
        list(pool.map(send_all, senders))
        reads.result()

    total = len(senders) * MESSAGES_EACH
    assert Room.objects.get(pk=room.pk).msgs == Message.objects.filter(room=room).count() == total
    one = f"{live_server.url}/api/v1/subscriptions.getOne?roomId={room.pk}"
    # The reader: what came after their last read (exact whatever the interleaving).
    read_mark = Subscription.objects.get(room=room, user=reader)
    assert call(one, reader)["subscription"]["unread"] == total - read_mark.read_msgs
    call(f"{live_server.url}/api/v1/subscriptions.read", reader, {"rid": room.pk})
    assert call(one, reader)["subscription"]["unread"] == 0
    # A member who neither posted nor read: all of them.
    bystander = users[len(senders)] if members > 2 else None
    if bystander is not None:
        assert call(one, bystander)["subscription"]["unread"] == total
    # Each sender: exactly the messages after their own last one.
    for sender in senders:
        last = Message.objects.filter(room=room, author=sender).latest("ts").ts
        after = Message.objects.filter(room=room, ts__gt=last).count()
        assert call(one, sender)["subscription"]["unread"] == after
