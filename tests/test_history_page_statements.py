"""A page of history runs SQL the ORM built once per page shape (rooms.selectors.page_rows):
the same rows, in the same order and with the same types, as the ORM's own query gives."""

from datetime import timedelta

import pytest

from rooms import selectors
from rooms.selectors import PageShape, page_query, page_rows
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    room = RoomFactory(name="paged")
    author, editor = UserFactory(username="writer"), UserFactory(username="editor")
    first = MessageFactory(room=room, author=author)
    for n in range(1, 12):
        MessageFactory(
            room=room,
            author=None if n == 3 else author,
            ts=first.ts + timedelta(milliseconds=n),
            attachments=[{"text": f"a{n}"}] if n % 4 == 0 else [],
            groupable=False if n == 5 else None,
            edited_by=editor if n == 7 else None,
            edited_at=first.ts if n == 7 else None,
        )
    return room


SHAPES = [
    dict(before=False, after=False, inclusive=False, ascending=False, offset=0, count=5),
    dict(before=True, after=False, inclusive=False, ascending=False, offset=0, count=50),
    dict(before=False, after=True, inclusive=False, ascending=True, offset=0, count=3),
    dict(before=True, after=True, inclusive=True, ascending=False, offset=2, count=4),
    dict(before=True, after=True, inclusive=False, ascending=False, offset=0, count=100),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_prepared_page_matches_the_orm(room, shape):
    from django.db import connection

    times = sorted(room.messages.values_list("ts", flat=True))
    before = times[9] if shape["before"] else None
    after = times[2] if shape["after"] else None
    expected = [
        tuple(row)
        for row in page_query(room.pk, PageShape(connection.vendor, **shape), before, after)
    ]

    rows = page_rows(
        room.pk,
        before=before,
        after=after,
        **{k: v for k, v in shape.items() if k not in ("before", "after")},
    )

    assert [tuple(row) for row in rows] == expected
    assert expected  # the shape selects something
    assert selectors._page_statements[PageShape(connection.vendor, **shape)] is not None


def test_the_statement_is_built_once_per_shape(api, user, auth_headers, room, monkeypatch):
    SubscriptionFactory(room=room, user=user)
    api.credentials(**auth_headers(user))
    first = api.get(f"/api/rooms/{room.pk}/messages?count=4").json()["messages"]
    selectors._page_statements.clear()
    built = []
    prepare = selectors.prepare_page
    monkeypatch.setattr(
        selectors, "prepare_page", lambda shape: built.append(shape) or prepare(shape)
    )

    for _ in range(3):
        assert api.get(f"/api/rooms/{room.pk}/messages?count=4").json()["messages"] == first

    assert len(built) == 1
