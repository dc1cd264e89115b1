"""chat.postMessage reads the usual body directly (rooms.v1_chat.usual_post) and every other
body through its input serializer: for any body, the two give the same answer, and the usual
bodies do take the direct way."""

from __future__ import annotations

import pytest

from chat_project.http.v1 import parse_input
from rooms.v1_chat import PostMessageView, usual_post

USUAL = [
    {"channel": "#general", "text": "hello"},
    {"roomId": "GENERAL", "text": "hello"},
    {"roomId": "GENERAL", "text": ""},
    {"roomId": "GENERAL"},
    {"channel": "general", "roomId": "", "text": "both, one empty"},
    {"channel": "", "roomId": "GENERAL", "text": "  spaces kept  "},
    {"roomId": "GENERAL", "text": "a NUL in the text is the service's to refuse: \x00"},
    {"roomId": "GENERAL", "text": "é 😀 \u200b"},
    {"text": "no room named"},
    {},
]
OTHERS = [
    {"roomId": "GEN\x00ERAL", "text": "hello"},
    {"channel": "#gen\x00eral", "text": "hello"},
    {"roomId": 5, "text": "hello"},
    {"roomId": None, "text": "hello"},
    {"roomId": "GENERAL", "text": None},
    {"roomId": "GENERAL", "text": ["a list"]},
    {"roomId": "GENERAL", "text": "hi", "alias": "bot"},
    {"roomId": "GENERAL", "text": "hi", "attachments": [{"text": "x"}]},
    {"roomId": "GENERAL", "text": "hi", "unknown": "ignored"},
]


@pytest.mark.parametrize("body", USUAL)
def test_the_usual_body_is_read_directly_as_the_input_would(body):
    assert usual_post(body) is not None
    assert usual_post(body) == dict(parse_input(PostMessageView.Input, body))


@pytest.mark.parametrize("body", OTHERS)
def test_any_other_body_goes_through_the_input(body):
    assert usual_post(body) is None


def test_a_form_goes_through_the_input():
    from django.http import QueryDict

    assert usual_post(QueryDict("roomId=GENERAL&text=hi")) is None
