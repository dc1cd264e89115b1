"""Every /api/ answer is written by orjson (chat_project.http.renderers.FastJSONRenderer), byte for
byte as DRF's own JSONRenderer writes it: compact, UTF-8, times in DRF's format, U+2028 and
U+2029 escaped, and whatever orjson does not know handed to DRF's encoder."""

import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from chat_project.http.renderers import FastJSONRenderer
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

PAYLOADS = [
    {"status": "success", "messages": [{"_id": "a", "msg": "hé ✓ 😀", "n": 1, "ok": True}]},
    {"nothing": None, "empty": [], "nested": {"a": [1, 2.5, -3, {"b": ""}]}},
    {"line": "one\u2028two\u2029three", "quote": '"\\/</script>'},
    {"when": datetime(2026, 11, 30, 15, 20, 11, 886123, tzinfo=UTC), "day": date(2026, 1, 2)},
    {"naive": datetime(2026, 1, 2, 3, 4, 5), "at": time(10, 11, 12, 5000)},
    {"span": timedelta(seconds=90), "id": uuid.UUID(int=7), "price": Decimal("1.10")},
    {"lazy": gettext_lazy("Room not found."), "set": sorted({3, 1}), "tuple": (1, "x")},
    {1: "int key", "ordered": OrderedDict(b=1, a=2)},
    ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    ["a", 1, None],
    {"big": 2**70},  # past orjson's 64 bits: DRF's way
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_bytes_are_drfs(payload):
    assert FastJSONRenderer().render(payload) == JSONRenderer().render(payload)


def test_nothing_renders_as_nothing():
    assert FastJSONRenderer().render(None) == b""


def test_an_indented_answer_is_drfs():
    payload = {"a": [1, {"b": 2}]}
    indented = FastJSONRenderer().render(payload, "application/json; indent=4")
    assert indented == JSONRenderer().render(payload, "application/json; indent=4")
    assert b"\n    " in indented


@pytest.mark.django_db
def test_a_page_of_history_is_rendered_by_orjson_as_drf_would(api, auth_headers):
    user = UserFactory(username="reader")
    room = RoomFactory(name="rendered")
    SubscriptionFactory(user=user, room=room)
    for text in ("first", "second \u2028 line", "ünïcödé 😀"):
        MessageFactory(room=room, author=user, msg=text)

    response = api.get(f"/api/rooms/{room.pk}/messages", **auth_headers(user))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render(response.json())
    assert b"\\u2028" in response.content and "😀".encode() in response.content
