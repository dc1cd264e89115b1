"""Rocket.Chat v1's rooms.* endpoints of room information and administration (rooms.info,
rooms.adminRooms, rooms.cleanHistory, rooms.nameExists, rooms.autocomplete.channelAndPrivate).
Any kind of room, looked up with rooms.access.get_visible_room: a room the caller may not see
answers as a missing one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import user_of
from chat_project.http import schema as api
from chat_project.http.errors import RoomNotFound
from chat_project.http.fields import json_from_form
from chat_project.http.v1 import (
    Flag,
    PageInput,
    Param,
    Strings,
    Text,
    Time,
    V1Input,
    V1View,
    ok,
    paginated,
    v1_error,
    v1_failure,
)
from permissions.checks import check_permission
from rooms.access import can_read_room, get_visible_room
from rooms.models import Room
from rooms.selectors import admin_rooms, rooms_named_like
from rooms.serializers import room_v1_json
from rooms.services import clean_history, room_name_taken
from rooms.v1_views import RoomInput


def visible_room(view: V1View, *, to_read: bool = True) -> Room:
    """The room named by `roomId` or `roomName`, any type, if the caller may see it (Rocket.Chat's
    findRoomByIdOrName and its words for a miss; a hidden room is a missing one); with
    `to_read`, one they may read too, else Rocket.Chat's "not-allowed"."""
    given = view.parse()
    room_id, room_name = given.get("roomId"), given.get("roomName")
    if not room_id and not room_name:
        raise v1_error(
            'The parameter "roomId" or "roomName" is required', "error-roomid-param-not-provided"
        )
    user = user_of(view.request)
    try:
        room = get_visible_room(user, room_id, name=room_name, counted=True)
    except RoomNotFound:
        raise v1_error(
            'The required "roomId" or "roomName" param provided does not match any channel',
            "error-room-not-found",
        ) from None
    if to_read and not can_read_room(user, room):
        raise v1_failure("not-allowed", "Not Allowed")
    return room


@extend_schema(responses=api.v1_success("RoomInfo", {"room": api.any_room()}))
class InfoView(V1View):
    """rooms.info: any room the caller may read, by roomId or roomName."""

    Input = RoomInput

    def get(self, request: Request) -> Response:
        return ok({"room": room_v1_json(visible_room(self))})


class AdminRoomsInput(PageInput):
    filter = Text("Only rooms whose name contains this (in any case).")
    types = Strings('Only rooms of these types ("c", "p", "d").')
    sortable = {
        "name": "name",
        "t": "t",
        "msgs": "msgs",
        "ts": "ts",
        "default": "is_default",
        "usersCount": "users_count",
    }
    default_sort = ("-is_default", "name")


@extend_schema(
    responses=api.v1_page("AdminRoomPage", "rooms", api.any_room(many=True)),
)
class AdminRoomsView(V1View):
    """rooms.adminRooms (view-room-administration): every room, filtered by name and type."""

    Input = AdminRoomsInput

    def get(self, request: Request) -> Response:
        check_permission(user_of(request), "view-room-administration")
        given = self.parse()
        rooms = admin_rooms(text=given["filter"] or "", types=given["types"] or [])
        return paginated("rooms", rooms, given["page"], room_v1_json)


class CleanHistoryInput(V1Input):
    roomId = Text("The room's id.", required=True, ajv=True)
    latest = Time("Delete messages up to this time.")
    oldest = Time("Delete messages from this time.")
    inclusive = Flag("Include messages at latest and oldest (default false).")
    users = Strings("Only the messages of these usernames.")
    excludePinned = Flag("Keep pinned messages (there are none yet).")
    filesOnly = Flag("Clean only files (we store none: nothing is deleted).")
    ignoreDiscussion = Flag("Accepted; there are no discussions.")
    ignoreThreads = Flag("Accepted; there are no threads.")

    class Meta:
        ref_name = "RoomsCleanHistory"


@extend_schema(
    responses=api.v1_success(
        "CleanedHistory", {"_id": api.text(), "count": serializers.IntegerField()}
    )
)
class CleanHistoryView(V1View):
    """rooms.cleanHistory (clean-channel-history in the room): deletes the messages between
    `oldest` and `latest`, of `users` if given; answers the room's id and how many."""

    Input = CleanHistoryInput

    def post(self, request: Request) -> Response:
        given = self.parse()
        room = visible_room(self, to_read=False)
        if not can_read_room(user_of(request), room):
            raise v1_failure(
                "User does not have access to the room [error-not-allowed]", "error-not-allowed"
            )
        if given["latest"] is None:
            raise v1_failure('Body parameter "latest" is required.')
        if given["oldest"] is None:
            raise v1_failure('Body parameter "oldest" is required.')
        count = clean_history(
            by=user_of(request),
            room=room,
            latest=given["latest"],
            oldest=given["oldest"],
            inclusive=bool(given["inclusive"]),
            usernames=given["users"] or [],
            files_only=bool(given["filesOnly"]),
        )
        return ok({"_id": room.pk, "count": count})


@extend_schema(responses=api.v1_success("NameExists", {"exists": api.flag()}))
class NameExistsView(V1View):
    """rooms.nameExists: whether a room has this name. As in Rocket.Chat it answers for any
    room: names are unique across all rooms, so channels.create would tell as much."""

    class Input(V1Input):
        roomName = Text("The name to look for.", required=True, ajv=True)

    def get(self, request: Request) -> Response:
        return ok({"exists": room_name_taken(self.parse()["roomName"])})


@extend_schema_field({"type": "string", "description": 'JSON such as {"name": "gen"}'})
class Selector(Param):
    """rooms.autocomplete's `selector`: a JSON object with a `name` text."""

    def to_internal_value(self, data: Any) -> str:
        value = json_from_form(data)
        if not isinstance(value, dict) or not isinstance(value.get("name", ""), str):
            raise serializers.ValidationError("invalid", code="invalid")
        name: str = value.get("name", "")
        if "\x00" in name:
            raise serializers.ValidationError("invalid", code="invalid")
        return name


def selector_required(_: str) -> Any:
    return v1_failure("The 'selector' param is required")


def selector_invalid(_: str) -> Any:
    return v1_failure('The \'selector\' param must be a JSON object such as {"name": "gen"}')


@extend_schema(
    responses=api.v1_success(
        "RoomAutocomplete",
        {
            "items": api.shape(
                "RoomAutocompleteItem",
                {"_id": api.text(), "fname": api.text(), "name": api.text(), "t": api.text()},
                many=True,
            )
        },
    )
)
class AutocompleteChannelAndPrivateView(V1View):
    """rooms.autocomplete.channelAndPrivate: up to 10 of the caller's channels and groups
    whose name contains selector.name."""

    class Input(V1Input):
        selector = Selector(
            help_text='JSON such as {"name": "gen"}',
            required=True,
            missing=selector_required,
            refused=selector_invalid,
        )

    def get(self, request: Request) -> Response:
        name = self.parse()["selector"]
        return ok({"items": rooms_named_like(user_of(request), name)})
