"""The 0.1 API's room endpoints, as the seed document calls them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import user_of
from chat_project.http import schema as api
from chat_project.http.fields import StrictCharField, TimestampField, batch_param
from permissions.checks import requires
from rooms.access import access_room, get_visible_room
from rooms.selectors import joined_rooms, public_rooms, room_history
from rooms.serializers import message_json, room_json
from rooms.services import (
    archive_room,
    create_rooms,
    join_room,
    leave_room,
    send_message,
    unarchive_room,
)

HISTORY_DEFAULT_COUNT = 50
HISTORY_MAX_COUNT = 100


ROOMS = api.success_01("Rooms01", {"rooms": api.Room01(many=True)})
DONE = api.success_01("Done01")


@extend_schema(responses=ROOMS)
class PublicRoomsView(APIView):
    """GET /api/publicRooms: every public channel, most messages first."""

    def get(self, request: Request) -> Response:
        rooms = [room_json(room, usernames) for room, usernames in public_rooms()]
        return Response({"status": "success", "rooms": rooms})


@extend_schema(responses=ROOMS)
class JoinedRoomsView(APIView):
    """GET /api/joinedRooms: the caller's rooms, of any type."""

    def get(self, request: Request) -> Response:
        rooms = [room_json(room, usernames) for room, usernames in joined_rooms(user_of(request))]
        return Response({"status": "success", "rooms": rooms})


@extend_schema(request=None, responses=DONE)
class JoinView(APIView):
    """POST /api/rooms/<id>/join (curl's `-d "{}"` arrives as a form and is ignored)."""

    def post(self, request: Request, room_id: str) -> Response:
        join_room(user=user_of(request), room=get_visible_room(user_of(request), room_id))
        return Response({"status": "success"})


@extend_schema(request=None, responses=DONE)
class LeaveView(APIView):
    """POST /api/rooms/<id>/leave."""

    def post(self, request: Request, room_id: str) -> Response:
        leave_room(user=user_of(request), room=get_visible_room(user_of(request), room_id))
        return Response({"status": "success"})


class HistoryQuery(serializers.Serializer):
    count = serializers.IntegerField(required=False, min_value=0)
    limit = serializers.IntegerField(required=False, min_value=0)  # the 0.32 name for count
    latest = TimestampField(required=False)
    oldest = TimestampField(required=False)
    skip = serializers.IntegerField(required=False, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("skip"):
            # An OFFSET scan costs more the further back it goes; keyset paging does not.
            raise serializers.ValidationError(
                "skip is not supported: page back with latest=<ts of the oldest message you have>."
            )
        wanted = attrs.get("count") or attrs.get("limit") or HISTORY_DEFAULT_COUNT
        attrs["count"] = min(wanted, HISTORY_MAX_COUNT)
        return attrs


@extend_schema(
    parameters=[
        api.query("count", "How many (default 50, at most 100).", kind="count"),
        api.query("limit", "count's 0.32 name.", kind="count"),
        api.query("latest", "Only messages before this time.", kind="time or empty"),
        api.query("oldest", "Only messages after this time.", kind="time or empty"),
    ],
    responses=api.success_01("Messages01", {"messages": api.Message(many=True)}),
)
class MessagesView(APIView):
    """GET /api/rooms/<id>/messages: the newest 50 (or `count`, at most 100), newest first."""

    def get(self, request: Request, room_id: str) -> Response:
        room = access_room(user_of(request), room_id)
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = room_history(
            room,
            count=query.validated_data["count"],
            latest=query.validated_data.get("latest"),
            oldest=query.validated_data.get("oldest"),
        )
        return Response({"status": "success", "messages": [message_json(m) for m in messages]})


class SendInput(serializers.Serializer):
    msg = StrictCharField(allow_blank=True, trim_whitespace=False)


# A lone UTF-16 surrogate, which JSON's \ud800 escapes can carry and DRF's CharField refuses.
SURROGATE = re.compile("[\ud800-\udfff]")


def sent_text(data: Any) -> str:
    """SendInput's `msg`. The usual body (an object whose `msg` is a string with no NUL and no
    lone surrogate) is read directly: the serializer took 70 us of a send's ~800
    (docs/performance.md, item 12); everything else goes through SendInput, whose answer or
    error stands (tests/test_room_send_bad_input.py holds the two to the same results)."""
    if isinstance(data, Mapping):
        text = data.get("msg")
        if (
            isinstance(text, str)
            and "\x00" not in text
            and (text.isascii() or not SURROGATE.search(text))
        ):
            return text
    given = SendInput(data=data)
    given.is_valid(raise_exception=True)
    return cast(str, given.validated_data["msg"])


@extend_schema(
    request=api.body(
        "Send01", {"msg": serializers.RegexField(r"\S", help_text="Not only white space.")}
    ),
    responses=api.success_01("Sent01", {"data": api.Message()}),
)
class SendView(APIView):
    """POST /api/rooms/<id>/send with `msg`, as JSON or a form."""

    def post(self, request: Request, room_id: str) -> Response:
        user = user_of(request)
        room = access_room(user, room_id, for_write=True)
        message = send_message(user=user, room=room, text=sent_text(request.data))
        return Response({"status": "success", "data": message_json(message)})


@extend_schema(
    request=api.body(
        "BulkCreateRoom",
        {
            "rooms": api.shape(
                "BulkRoom",
                {
                    "name": api.text(required=True),
                    "members": serializers.ListField(
                        child=api.text(required=True), required=False, help_text="Usernames."
                    ),
                    "private": api.flag(nullable=False),
                },
                many=True,
            )
        },
    ),
    responses=api.success_01(
        "BulkCreatedRooms",
        {"ids": api.shape("CreatedRoomId", {"rid": api.text()}, many=True)},
    ),
)
class BulkCreateRoomView(APIView):
    """POST /api/bulk/createRoom {"rooms": [{"name", "members": [...], "private": false}]}."""

    permission_classes = [requires("bulk-create-c", "create-c")]

    def post(self, request: Request) -> Response:
        rooms = create_rooms(creator=user_of(request), records=batch_param(request.data, "rooms"))
        return Response({"status": "success", "ids": [{"rid": room.pk} for room in rooms]})


@extend_schema(request=None, responses=DONE)
class ArchiveView(APIView):
    """POST /api/room/<id>/archive (singular `room`, as Rocket.Chat 0.44 had it)."""

    def post(self, request: Request, room_id: str) -> Response:
        archive_room(user=user_of(request), room=get_visible_room(user_of(request), room_id))
        return Response({"status": "success"})


@extend_schema(request=None, responses=DONE)
class UnarchiveView(APIView):
    """POST /api/room/<id>/unarchive."""

    def post(self, request: Request, room_id: str) -> Response:
        unarchive_room(user=user_of(request), room=get_visible_room(user_of(request), room_id))
        return Response({"status": "success"})
