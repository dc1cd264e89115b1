"""Every message moves its room's counters (msgs, lm, updated_at) on. No index may hold them:
then PostgreSQL updates the room's row in place (a HOT update), without new index entries and
without leaving dead versions in the room's indexes for every message sent."""

import pytest
from django.db import connection

from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

COUNTERS = {"msgs", "lm", "updated_at"}


def test_no_index_of_rooms_holds_a_counter():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Room._meta.db_table)

    indexed = {column for c in constraints.values() if c["index"] for column in c["columns"]}
    assert indexed and not indexed & COUNTERS


def test_sending_updates_the_room_in_place(api, user, auth_headers):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")
    room = RoomFactory(name="busy")
    SubscriptionFactory(room=room, user=user)
    api.credentials(**auth_headers(user))

    def updates():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relname = 'rooms_room'"
            )
            return cursor.fetchone()

    before = updates()
    for n in range(5):
        assert (
            api.post(f"/api/rooms/{room.pk}/send", {"msg": f"m{n}"}, format="json").status_code
            == 200
        )
    after = updates()

    assert after[0] - before[0] == 5  # one update of the room a message
    assert after[1] - before[1] == 5  # ... each of them in place
