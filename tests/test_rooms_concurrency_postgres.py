"""Many clients at once against a live server on PostgreSQL: nothing lost, nothing doubled.

SQLite serialises every write, so these races only mean something on PostgreSQL. They run
whenever DATABASE_URL points at PostgreSQL (CI's second pass does) and are skipped, saying so,
otherwise.
"""

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from accounts.services import create_user
from accounts.tokens import issue_login_token
from rooms.models import Message, Room, Subscription
from rooms.services import SEND_QUEUE_LOCK
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


def waiting_in_the_send_queue():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            " AND NOT granted",
            [SEND_QUEUE_LOCK],
        )
        return cursor.fetchone()[0]


def test_senders_to_one_room_wait_their_turn_in_its_queue_then_go(live_server):
    """Senders to one room line up on its advisory lock before they touch its row
    (docs/performance.md, item 11: waiting on the row itself cost PostgreSQL a third more CPU a
    message)."""
    room = RoomFactory(name="queued")
    user = create_user(username="patient", email="patient@example.com", password=None)
    Subscription.objects.create(room=room, user=user)
    url, headers = f"{live_server.url}/api/rooms/{room.pk}/send", headers_for(user)
    holder = connections.create_connection("default")  # another session holds the room's turn
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [SEND_QUEUE_LOCK, room.pk])

    with ThreadPoolExecutor(max_workers=3) as pool:
        sends = [pool.submit(call, url, headers, {"msg": f"#{n}"}) for n in range(3)]
        for _ in range(100):
            if waiting_in_the_send_queue() == 3:
                break
            time.sleep(0.05)
        assert waiting_in_the_send_queue() == 3
        assert not any(send.done() for send in sends)
        assert Message.objects.filter(room=room).count() == 0

        holder.rollback()  # its turn is over
        holder.close()
        assert [send.result(timeout=30)[0] for send in sends] == [200, 200, 200]

    room.refresh_from_db()
    assert Message.objects.filter(room=room).count() == room.msgs == 3
    assert waiting_in_the_send_queue() == 0
    with connection.cursor() as cursor:  # nobody holds a turn once the sends are done
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0
