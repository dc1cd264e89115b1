"""Many creates of one conversation at once, against a live server on PostgreSQL: one room,
one subscription each, every caller answered with it (the unique key decides the race)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.services import create_user
from rooms.models import Room, Subscription
from tests.test_rooms_concurrency_postgres import call, headers_for

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CREATES = 16


def test_concurrent_creates_of_one_conversation_make_one_room(live_server):
    alice = create_user(username="alice", email="alice@example.com", password=None)
    bob = create_user(username="bob", email="bob@example.com", password=None)
    create_user(username="carol", email="carol@example.com", password=None)
    callers = [(headers_for(alice), "bob"), (headers_for(bob), "alice")] * (CREATES // 2)
    group = [(headers_for(user), names) for user, names in ((alice, "bob,carol"),) * CREATES]
    url = f"{live_server.url}/api/v1/dm.create"

    def create(caller):
        headers, names = caller
        key = "usernames" if "," in names else "username"
        return call(url, headers, {key: names})

    with ThreadPoolExecutor(max_workers=CREATES) as pool:
        answers = list(pool.map(create, callers + group))

    rid = "".join(sorted([alice.pk, bob.pk]))
    assert [status for status, _ in answers] == [200] * (2 * CREATES)
    assert {body["room"]["rid"] for _, body in answers[:CREATES]} == {rid}
    group_ids = {body["room"]["rid"] for _, body in answers[CREATES:]}
    assert len(group_ids) == 1
    assert Room.objects.filter(t="d").count() == 2
    assert Subscription.objects.filter(room_id=rid).count() == 2
    assert Subscription.objects.filter(room_id__in=group_ids).count() == 3
