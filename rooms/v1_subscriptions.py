"""Rocket.Chat v1's subscriptions.* and the rooms.* a client reads first (rooms.get,
rooms.favorite, rooms.leave), and the counters channels.counters and groups.counters answer
(dm.counters, later, the same). Every rule lives in rooms.services and rooms.access; these views
parse, call and shape, in Rocket.Chat's words.

A subscription is the caller's own: nobody reads another's here, and a room the caller may not
see answers as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import user_of
from accounts.models import User
from chat_project.db.timestamps import iso_ms
from chat_project.http import schema as api
from chat_project.http.errors import RoomNotFound
from chat_project.http.v1 import (
    Flag,
    JsonObject,
    Text,
    Time,
    V1Input,
    V1View,
    ok,
    v1_error,
    v1_failure,
)
from rooms.access import access_message, get_visible_room
from rooms.models import Room
from rooms.selectors import subscription_of
from rooms.serializers import room_v1_json, subscription_json
from rooms.services import (
    leave_room,
    mark_read,
    mark_room_unread,
    mark_unread_from,
    set_favorite,
)
from rooms.sync import room_changes, subscription_changes

SUBSCRIPTION_FIELDS = {
    "_id": api.text(),
    "rid": api.text(),
    "u": api.UserBrief(),
    "name": api.text(),
    "fname": api.text(),
    "t": api.text(),
    "ts": api.text(),
    "ls": api.text(),
    "lr": api.text(required=False),
    "unread": serializers.IntegerField(),
    "userMentions": serializers.IntegerField(),
    "groupMentions": serializers.IntegerField(),
    "alert": api.flag(),
    "open": api.flag(),
    "f": api.flag(),
    "roles": serializers.ListField(child=api.text()),
    "archived": api.flag(),
    "_updatedAt": api.text(),
}
SUBSCRIPTION = api.shape("Subscription", SUBSCRIPTION_FIELDS)
REMOVED = api.shape("Removed", {"_id": api.text(), "_deletedAt": api.text()}, many=True)


def removal_date(when: Any) -> str:
    return iso_ms(when)


def valid_date_words(param: str, error_type: str) -> Any:
    return lambda _: v1_error(f'The "{param}" query parameter must be a valid date.', error_type)


# --- subscriptions.* ------------------------------------------------------------------------------


@extend_schema(
    responses=api.v1_success(
        "Subscriptions",
        {
            "update": api.shape("SubscriptionList", SUBSCRIPTION.fields, many=True),
            "remove": REMOVED,
        },
    )
)
class SubscriptionsGetView(V1View):
    """GET subscriptions.get: the caller's subscriptions as `update` (`remove` empty); with
    `updatedSince`, those changed since and, in `remove`, those they lost since."""

    class Input(V1Input):
        # Rocket.Chat's words name the parameter by its old name.
        updatedSince = Time(
            "Only what changed after this time.",
            refused=valid_date_words("lastUpdate", "error-roomId-param-invalid"),
        )

    def get(self, request: Request) -> Response:
        since = self.parse()["updatedSince"]
        update, remove = subscription_changes(
            user_of(request), since, shape=subscription_json, date=removal_date
        )
        return ok({"update": update, "remove": remove})


@extend_schema(
    responses=api.v1_success(
        "OneSubscription",
        # null when the caller is not a member, as Rocket.Chat answers
        {"subscription": api.shape("Subscription", SUBSCRIPTION_FIELDS, allow_null=True)},
    ),
)
class SubscriptionsGetOneView(V1View):
    """GET subscriptions.getOne?roomId=: the caller's subscription to the room, or null."""

    class Input(V1Input):
        roomId = Text(
            "The room's id.",
            required=True,
            missing=lambda _: v1_failure("The 'roomId' param is required"),
        )

    def get(self, request: Request) -> Response:
        user = user_of(request)
        found = subscription_of(user, self.parse()["roomId"])
        return ok({"subscription": subscription_json(found, user.username) if found else None})


def own_room(user: User, room_id: str) -> Room:
    """A room the caller may see, by id; Rocket.Chat's words for one it may not."""
    try:
        return get_visible_room(user, room_id)
    except RoomNotFound:
        raise v1_error(
            'The required "roomId" param provided does not match any room', "error-room-not-found"
        ) from None


@extend_schema(responses=api.V1_DONE)
class SubscriptionsReadView(V1View):
    """POST subscriptions.read {rid (or roomId), readThreads?}: everything in the room so far
    is read, its mention counts cleared (there are no threads to read yet)."""

    class Input(V1Input):
        rid = Text("The room's id.")
        roomId = Text("The room's id (Rocket.Chat's newer name).")
        readThreads = Flag("Threads too (none exist here yet).")

        class Meta:
            ref_name = "SubscriptionRead"

    def post(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        rid = given["rid"] or given["roomId"]
        if not rid:
            raise v1_failure("must have required property 'rid'", "error-invalid-params")
        mark_read(user=user, room=own_room(user, rid))
        return ok()


class FirstUnread(serializers.Serializer):
    _id = serializers.CharField(max_length=32)


@extend_schema(responses=api.V1_DONE)
class SubscriptionsUnreadView(V1View):
    """POST subscriptions.unread {firstUnreadMessage: {_id}} (that message and the later ones
    unread again) or {roomId} (the room's last message unread)."""

    class Input(V1Input):
        roomId = Text("The room's id.")
        firstUnreadMessage = JsonObject(FirstUnread, "{_id}: the first message to mark unread.")

        class Meta:
            ref_name = "SubscriptionUnread"

    def post(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        first = given["firstUnreadMessage"]
        if first:
            mark_unread_from(user=user, message=access_message(user, first["_id"]))
        elif given["roomId"]:
            mark_room_unread(user=user, room=own_room(user, given["roomId"]))
        else:
            raise v1_failure(
                "must have required property 'firstUnreadMessage' or 'roomId'",
                "error-invalid-params",
            )
        return ok()


# --- counters -------------------------------------------------------------------------------------


# --- rooms.* --------------------------------------------------------------------------------------


@extend_schema(
    responses=api.v1_success("RoomChanges", {"update": api.any_room(many=True), "remove": REMOVED})
)
class RoomsGetView(V1View):
    """GET rooms.get: the rooms the caller is in as `update`; with `updatedSince`, those changed
    since and, in `remove`, those they left (or that were deleted) since."""

    class Input(V1Input):
        updatedSince = Time(
            "Only what changed after this time.",
            refused=valid_date_words("updatedSince", "error-updatedSince-param-invalid"),
        )

    def get(self, request: Request) -> Response:
        since = self.parse()["updatedSince"]
        update, remove = room_changes(
            user_of(request), since, shape=room_v1_json, date=removal_date
        )
        return ok({"update": update, "remove": remove})


class RoomByIdOrName(V1Input):
    roomId = Text("The room's id (or give roomName).")
    roomName = Text("The room's name.")

    class Meta:
        ref_name = "RoomByIdOrName"


def room_by_id_or_name(user: User, given: dict[str, Any]) -> Room:
    """Rocket.Chat's findRoomByIdOrName, among the rooms the caller may see."""
    if not given["roomId"] and not given["roomName"]:
        raise v1_error(
            'The parameter "roomId" or "roomName" is required', "error-roomid-param-not-provided"
        )
    try:
        return get_visible_room(user, given["roomId"], name=given["roomName"])
    except RoomNotFound:
        raise v1_error(
            'The required "roomId" or "roomName" param provided does not match any channel',
            "error-room-not-found",
        ) from None


@extend_schema(responses=api.V1_DONE)
class RoomsFavoriteView(V1View):
    """POST rooms.favorite {roomId or roomName, favorite}: marks the caller's subscription a
    favourite, or not."""

    class Input(RoomByIdOrName):
        favorite = Flag(
            "true or false.",
            required=True,
            missing=lambda _: v1_failure("The 'favorite' param is required"),
        )

        class Meta:
            ref_name = "RoomFavorite"

    def post(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        room = room_by_id_or_name(user, given)
        set_favorite(user=user, room=room, favorite=bool(given["favorite"]))
        return ok()


@extend_schema(responses=api.V1_DONE)
class RoomsLeaveView(V1View):
    """POST rooms.leave {roomId or roomName}: channels.leave's rules, for a room of any kind."""

    Input = RoomByIdOrName

    def post(self, request: Request) -> Response:
        user = user_of(request)
        leave_room(user=user, room=room_by_id_or_name(user, self.parse()))
        return ok()
