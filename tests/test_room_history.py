"""GET /api/rooms/<id>/messages: newest first, 50 by default, and keyset paging by time."""

from datetime import UTC, datetime, timedelta

import pytest

from rooms.models import Message
from rooms.services import send_message
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

START = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def room(user):
    room = RoomFactory(name="history")
    SubscriptionFactory(room=room, user=user)
    for n in range(120):
        MessageFactory(room=room, author=user, msg=f"m{n}", ts=START + timedelta(seconds=n))
    return room


def texts(response):
    assert response.status_code == 200, response.json()
    return [m["msg"] for m in response.json()["messages"]]


def iso(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_the_newest_50_newest_first(signed_in, room):
    assert texts(signed_in.get(f"/api/rooms/{room.pk}/messages")) == [
        f"m{n}" for n in range(119, 69, -1)
    ]


@pytest.mark.parametrize(("query", "expected"), [("count=5", 5), ("limit=7", 7), ("count=0", 50)])
def test_count_chooses_the_page_size(signed_in, room, query, expected):
    assert len(texts(signed_in.get(f"/api/rooms/{room.pk}/messages?{query}"))) == expected


@pytest.mark.parametrize("count", ["101", "100000", "99999999999999999999999"])
def test_count_is_at_most_100(signed_in, room, count):
    assert len(texts(signed_in.get(f"/api/rooms/{room.pk}/messages?count={count}"))) == 100


def test_paging_back_with_latest_visits_every_message_once(signed_in, room):
    seen, latest = [], None
    while True:
        query = "count=17" + (f"&latest={latest}" if latest else "")
        page = signed_in.get(f"/api/rooms/{room.pk}/messages?{query}").json()["messages"]
        if not page:
            break
        seen += [m["msg"] for m in page]
        latest = page[-1]["ts"]

    assert seen == [f"m{n}" for n in range(119, -1, -1)]


def test_paging_forward_with_oldest_visits_every_message_once(signed_in, room):
    seen, oldest = [], iso(START - timedelta(seconds=1))
    while True:
        page = signed_in.get(f"/api/rooms/{room.pk}/messages?count=17&oldest={oldest}").json()
        if not page["messages"]:
            break
        seen += reversed([m["msg"] for m in page["messages"]])  # each page is newest first
        oldest = page["messages"][0]["ts"]

    assert seen == [f"m{n}" for n in range(120)]


def test_latest_and_oldest_are_exclusive_bounds(signed_in, room):
    query = (
        f"oldest={iso(START + timedelta(seconds=10))}&latest={iso(START + timedelta(seconds=14))}"
    )

    assert texts(signed_in.get(f"/api/rooms/{room.pk}/messages?{query}")) == ["m13", "m12", "m11"]


@pytest.mark.parametrize(
    "latest", ["2020-01-01T02:00:03%2B02:00", "2020-01-01T02:00:03+02:00", "2020-01-01T00:00:03Z"]
)
def test_timestamps_in_other_zones_are_understood(signed_in, room, latest):
    """00:00:03 UTC, however written (a hand-typed + arrives as a space)."""
    assert texts(signed_in.get(f"/api/rooms/{room.pk}/messages?latest={latest}")) == [
        "m2",
        "m1",
        "m0",
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("count=-1", "count: Ensure this value is greater than or equal to 0."),
        ("count=ten", "count: A valid integer is required."),
        ("latest=yesterday", "latest: Datetime has wrong format."),
        ("skip=50", "skip is not supported"),
    ],
)
def test_bad_paging_parameters_are_400(signed_in, room, query, message):
    response = signed_in.get(f"/api/rooms/{room.pk}/messages?{query}")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert response.json()["status"] == "fail"


def test_messages_sent_in_the_same_millisecond_get_rising_times(user, monkeypatch):
    room = RoomFactory()
    frozen = datetime(2021, 5, 5, 12, 0, 0, 123000, tzinfo=UTC)
    monkeypatch.setattr("rooms.services.now_ms", lambda: frozen)

    for text in ("a", "b", "c"):
        send_message(user=user, room=room, text=text)

    times = list(Message.objects.order_by("ts").values_list("msg", "ts"))
    assert times == [
        ("a", frozen),
        ("b", frozen + timedelta(milliseconds=1)),
        ("c", frozen + timedelta(milliseconds=2)),
    ]


def test_a_clock_that_steps_back_still_gives_rising_times(user, monkeypatch):
    room = RoomFactory()
    clock = iter([START + timedelta(seconds=5), START])
    monkeypatch.setattr("rooms.services.now_ms", lambda: next(clock))

    send_message(user=user, room=room, text="first")
    send_message(user=user, room=room, text="second")

    assert Message.objects.get(msg="second").ts == START + timedelta(seconds=5, milliseconds=1)


def test_stored_times_are_whole_milliseconds(user):
    room = RoomFactory()

    message = send_message(user=user, room=room, text="now")

    message.refresh_from_db()
    assert message.ts.microsecond % 1000 == 0
