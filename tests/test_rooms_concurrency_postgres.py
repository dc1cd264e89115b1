"""Many clients at once against a live server on PostgreSQL: nothing lost, nothing doubled.

SQLite serialises every write, so these races only mean something on PostgreSQL. They run
whenever DATABASE_URL points at PostgreSQL (CI's second pass does) and are skipped, saying so,
otherwise.
"""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.services import create_user
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

SENDERS = 32
MESSAGES_EACH = 10


def call(url, headers, body=None):
    data = json.dumps(body).encode() if body is not None else b"{}"
    request = urllib.request.Request(
        url, data=data, headers=headers | {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def headers_for(user):
    return {"X-Auth-Token": issue_login_token(user=user), "X-User-Id": user.pk}


def test_concurrent_senders_lose_nothing_and_count_exactly(live_server):
    room = RoomFactory(name="busy")
    senders = []
    for n in range(SENDERS):
        user = create_user(username=f"sender{n}", email=f"s{n}@example.com", password=None)
        Subscription.objects.create(room=room, user=user)
        senders.append(headers_for(user))
    url = f"{live_server.url}/api/rooms/{room.pk}/send"

    def send_all(headers):
        return [
            call(url, headers, {"msg": f"{headers['X-User-Id']} #{i}"})
            for i in range(MESSAGES_EACH)
        ]

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        results = [status for batch in pool.map(send_all, senders) for status, _ in batch]

    assert results == [200] * (SENDERS * MESSAGES_EACH)
    room.refresh_from_db()
    stored = Message.objects.filter(room=room)
    assert stored.count() == room.msgs == SENDERS * MESSAGES_EACH
    assert room.lm == stored.latest("ts").ts
    assert stored.values("ts").distinct().count() == SENDERS * MESSAGES_EACH


def test_concurrent_double_joins_leave_one_membership(live_server):
    room = RoomFactory(name="popular")
    user = create_user(username="eager", email="eager@example.com", password=None)
    headers = headers_for(user)
    url = f"{live_server.url}/api/rooms/{room.pk}/join"

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: call(url, headers), range(16)))

    assert answers == [(200, {"status": "success"})] * 16
    assert Subscription.objects.filter(room=room, user=user).count() == 1
    assert Room.objects.get(pk="GENERAL")  # the data migration's room is still there afterwards
