"""POST /api/rooms/<id>/send refuses bad messages with a 4xx in the envelope and writes nothing."""

import json

import pytest
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from rooms.models import Message, Room
from rooms.views import SendInput, sent_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_general(signed_in):
    """Signed in as `user`, a member of GENERAL."""
    signed_in.post("/api/rooms/GENERAL/join")
    return signed_in


def post_body(api, body, content_type="application/json"):
    """A send with the body exactly as given (text, not an object to encode)."""
    return api.post("/api/rooms/GENERAL/send", body, content_type=content_type)


def send(api, body):
    return post_body(api, json.dumps(body))


def assert_nothing_written():
    assert not Message.objects.exists()
    general = Room.objects.get(pk="GENERAL")
    assert (general.msgs, general.lm) == (0, None)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"msg": ""}, 400, "The message is empty."),
        ({"msg": "   \n\t "}, 400, "The message is empty."),
        ({}, 400, "msg: This field is required."),
        ({"text": "wrong key"}, 400, "msg: This field is required."),
        ({"msg": 42}, 400, "msg: Not a valid string."),
        ({"msg": ["a"]}, 400, "msg: Not a valid string."),
        ({"msg": {"$set": 1}}, 400, "msg: Not a valid string."),
        ({"msg": None}, 400, "msg: This field may not be null."),
        ({"msg": "nul \x00 byte"}, 400, "msg: Null characters are not allowed."),
        (["msg"], 400, "Invalid data. Expected a dictionary, but got list."),
    ],
)
def test_bad_messages_are_refused(in_general, body, status, message):
    response = send(in_general, body)

    assert response.status_code == status
    assert response.json()["message"] == message
    assert response.json()["request_id"] == response["X-Request-Id"]
    assert_nothing_written()


def test_a_message_over_the_limit_is_refused(in_general, settings):
    response = send(in_general, {"msg": "x" * 5001})

    assert response.status_code == 400
    assert response.json()["errorType"] == "error-message-size-exceeded"
    assert response.json()["message"] == "Message size exceeds the allowed 5000 characters."
    assert_nothing_written()
    assert send(in_general, {"msg": "x" * 5000}).status_code == 200


def test_the_limit_is_a_setting(in_general, settings):
    settings.MESSAGE_MAX_LENGTH = 10

    assert send(in_general, {"msg": "x" * 11}).status_code == 400
    assert send(in_general, {"msg": "x" * 10}).status_code == 200


def test_malformed_json_writes_nothing(in_general):
    response = post_body(in_general, '{"msg": "unterminated')

    assert response.status_code == 400
    assert response.json()["errorType"] == "error-invalid-body"
    assert_nothing_written()


@pytest.mark.parametrize(
    "text",
    [
        "e\u0301\u0301\u0301 combining",
        "\u05e9\u05dc\u05d5\u05dd RTL",
        "emoji \U0001f600\U0001f469\u200d\U0001f4bb",
        "'; DROP TABLE rooms_message; --",
        "<script>alert(1)</script> & &amp;",
    ],
)
def test_any_text_is_stored_and_returned_verbatim(in_general, text):
    assert send(in_general, {"msg": text}).status_code == 200

    messages = in_general.get("/api/rooms/GENERAL/messages").json()["messages"]

    assert messages[0]["msg"] == text


def test_a_lone_surrogate_is_refused(in_general):
    response = post_body(in_general, '{"msg": "half \\ud800 a pair"}')

    assert response.status_code == 400
    assert response.json()["message"] == "msg: Surrogate characters are not allowed: U+D800."
    assert_nothing_written()
    assert send(in_general, {"msg": "a whole pair \U0001f600"}).status_code == 200


def test_a_form_sends_its_last_msg(in_general):
    response = post_body(
        in_general, "msg=first&msg=second", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert response.json()["data"]["msg"] == "second"


@pytest.mark.parametrize(
    "data",
    [
        {"msg": "plain"},
        {"msg": ""},
        {"msg": "  spaces kept  "},
        {"msg": "caf\u00e9 \U0001f600 \u05e9"},
        {"msg": "nul \x00"},
        {"msg": "lone \udfff"},
        {"msg": 42},
        {"msg": True},
        {"msg": None},
        {"msg": ["a"]},
        {},
        ["msg"],
        "msg",
        QueryDict("msg=a&msg=b"),
        QueryDict("other=a"),
    ],
)
def test_the_send_fast_path_agrees_with_the_serializer(data):
    """rooms.views.sent_text reads the usual body directly: what it accepts, SendInput accepts
    with the same text, and what SendInput refuses, it refuses with the same error."""

    def outcome(read):
        try:
            return ("text", read())
        except ValidationError as exc:
            return ("error", exc.detail)

    def by_serializer():
        given = SendInput(data=data)
        given.is_valid(raise_exception=True)
        return given.validated_data["msg"]

    assert outcome(lambda: sent_text(data)) == outcome(by_serializer)
