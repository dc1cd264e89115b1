"""Rocket.Chat v1's chat.* endpoints: post, send, read, edit and delete a message. Every rule
lives in rooms.services and rooms.access, shared with the 0.1 API (the message limits, who may
post where); these views parse, call and shape, in Rocket.Chat's words.

A message in a room the caller may not read answers as if it did not exist; so does a room named
in chat.postMessage's `channel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import user_of
from accounts.models import User
from chat_project.db.timestamps import epoch_ms, now_ms
from chat_project.http import schema as api
from chat_project.http.errors import (
    ApiError,
    InvalidParams,
    MessageNotFound,
    MessageTooLong,
    RoomNotFound,
)
from chat_project.http.v1 import (
    Flag,
    JsonList,
    JsonObject,
    Text,
    V1Error,
    V1Input,
    V1View,
    bare,
    ok,
    v1_error,
    v1_failure,
)
from rooms.access import (
    ROOM_MISMATCH,
    access_message,
    can_read_room,
    check_access,
    get_room,
    get_visible_room,
    remember_membership,
    with_membership,
)
from rooms.direct import create_direct_room
from rooms.models import Message, Room
from rooms.selectors import room_by_name
from rooms.serializers import message_json
from rooms.services import (
    delete_message,
    edit_message,
    send_message,
)

# Rocket.Chat's words, to the letter.
NO_RID = "The 'rid' property on the message object is missing."


# --- Rocket.Chat's words (the refusals' are V1_WORDS', chat_project.http.v1) ----------------------


def no_such_message(msg_id: str) -> ApiError:
    return v1_failure(f'No message found with the id of "{msg_id}".')  # Rocket.Chat's words


def invalid_channel() -> V1Error:
    # Meteor.Error('invalid-channel') has no reason: its text is the type in brackets alone.
    return V1Error(
        "No room you may see matches this channel.",
        error="[invalid-channel]",
        error_type="invalid-channel",
    )


# --- lookups and parameters ----------------------------------------------------------------------


def find_message(user: User, msg_id: str, *, authors_too: bool = False) -> Message:
    """The message `msg_id` if `user` may read its room (or, `authors_too`, wrote it: an author
    may still delete a message after leaving its room); anything else answers as if missing."""
    try:
        return access_message(user, msg_id, authors_too=authors_too)
    except MessageNotFound:
        raise no_such_message(msg_id) from None


def room_for_channel(user: User, channel: str) -> Room:
    """chat.postMessage's room, found as Rocket.Chat's processWebhookMessage finds it: "#name"
    (or "#id"), a bare room id or name, or "@username" (the direct conversation with them,
    made if needed: rooms.direct's rules). A room the caller may not read answers as if
    missing."""
    if channel.startswith("@"):
        try:
            direct, _ = create_direct_room(creator=user, usernames=[channel[1:]])
        except InvalidParams as exc:
            if exc.error_type == "error-invalid-user":
                raise invalid_channel() from None
            raise
        return direct
    room: Room | None
    wanted = channel.removeprefix("#")
    try:
        room = get_room(wanted, viewer=user)  # by id: usually from the access cache
    except RoomNotFound:
        room = room_by_name(wanted, with_membership(Room.objects.all(), user))
        if room is not None:
            remember_membership(room, user)
    if room is None or not can_read_room(user, room):
        raise invalid_channel()
    return room


# --- parameters ----------------------------------------------------------------------------------


def extra_fields() -> tuple[Text, Text, Text, JsonList]:
    """A message's `alias`, `emoji`, `avatar` and `attachments` (objects; from a form, the list
    as JSON), for send_message, which checks what they hold."""
    return (
        Text(blank=True, nul=True),
        Text(blank=True, nul=True),
        Text(blank=True, nul=True),
        JsonList(help_text="From a form, the list as JSON."),
    )


def extras(given: Mapping[str, Any]) -> dict[str, Any]:
    """send_message's keywords for the extra_fields given."""
    extra = {name: given[name] or "" for name in ("alias", "emoji", "avatar")}
    return {**extra, "attachments": given["attachments"] or []}


class NewMessage(V1Input):
    """chat.sendMessage's `message`."""

    rid = Text(required=True, missing=lambda _: v1_failure(NO_RID), nul=True)
    msg = Text(blank=True, nul=True)
    _id = Text("The client's own id: 1 to 32 letters and digits.", blank=True, nul=True)
    groupable = Flag(json_only=True)
    alias, emoji, avatar, attachments = extra_fields()


ONE_MESSAGE = api.v1_success("OneMessage", {"message": api.Message()})
USUAL_POST = frozenset({"channel", "roomId", "text"})


def usual_post(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """What PostMessageView.Input answers for the usual body, read directly: a JSON object of
    strings, `channel` or `roomId` (without NUL) and `text`. None for any other body, which the
    Input parses. The Input took about 180 Python calls, 60-130 us, of a ~1.2 ms send
    (docs/performance.md, the structure change); tests/test_v1_chat_usual_post.py holds the two
    to the same answers."""
    if type(params) is not dict or not params.keys() <= USUAL_POST:
        return None
    if not all(type(value) is str for value in params.values()):
        return None
    channel, room_id = params.get("channel", ""), params.get("roomId", "")
    if "\x00" in channel or "\x00" in room_id:
        return None
    given: dict[str, Any] = {"channel": channel or None, "roomId": room_id or None}
    given["text"] = params.get("text")
    return given | {"alias": None, "emoji": None, "avatar": None, "attachments": None}


# --- views ---------------------------------------------------------------------------------------


@extend_schema(
    responses=api.v1_success(
        "PostedMessage",
        {
            "ts": serializers.IntegerField(help_text="Milliseconds since 1970."),
            "channel": api.text(),
            "message": api.Message(),
        },
    ),
)
class PostMessageView(V1View):
    """POST chat.postMessage: `channel` ("#name", a room id or name) or `roomId`; `text` (which
    may be empty when `attachments` are given), `alias`, `emoji`, `avatar`, `attachments`. Only
    members may post, as everywhere. Answers the message, `ts` (milliseconds since 1970, a
    number) and `channel` as given."""

    class Input(V1Input):
        channel = Text('"#name", a room id or name (or give roomId).')
        roomId = Text()
        text = Text(blank=True, nul=True)
        alias, emoji, avatar, attachments = extra_fields()

        class Meta:
            ref_name = "PostMessage"

    def post(self, request: Request) -> Response:
        user, given = user_of(request), usual_post(self.params()) or self.parse()
        channel = given["channel"] or given["roomId"]
        if not channel:
            raise v1_error(
                'The "roomId" or "channel" parameter is required', "error-invalid-params"
            )
        # room_for_channel found it and checked it is readable: no second lookup.
        room = check_access(user, room_for_channel(user, channel), for_write=True)
        try:
            # Rocket.Chat's webhook messages are never grouped.
            message = send_message(
                user=user, room=room, text=given["text"] or "", groupable=False, **extras(given)
            )
        except MessageTooLong as exc:
            # Rocket.Chat words this one differently in each chat.* endpoint: here, bare.
            raise bare(exc, "error-message-size-exceeded") from None
        return ok(
            {"ts": epoch_ms(message.ts), "channel": channel, "message": message_json(message)}
        )


@extend_schema(responses=ONE_MESSAGE)
class SendMessageView(V1View):
    """POST chat.sendMessage: `message` {`rid`, `msg`, and optionally `_id` (the client's own id:
    1 to 32 letters and digits, unused), `alias`, `emoji`, `avatar`, `attachments`,
    `groupable`}. Answers the message."""

    class Input(V1Input):
        message = JsonObject(NewMessage, "From a form, the object as JSON.", required=True)

        class Meta:
            ref_name = "SendMessage"

    def post(self, request: Request) -> Response:
        user, given = user_of(request), self.parse()["message"]
        try:
            room = get_visible_room(user, given["rid"])
        except RoomNotFound as exc:
            # Rocket.Chat's canSendMessage words a rid that names no room it shows so.
            raise bare(exc, "error-invalid-room") from None
        room = check_access(user, room, for_write=True)
        try:
            message = send_message(
                user=user,
                room=room,
                text=given["msg"] or "",
                groupable=given["groupable"],
                message_id=given["_id"] or None,
                **extras(given),
            )
        except MessageTooLong as exc:
            # Rocket.Chat's words here (its Meteor.Error); our message says what the limit is.
            raise V1Error(
                exc.message,
                error="Message size exceeds Message_MaxAllowedSize [error-message-size-exceeded]",
                error_type=exc.error_type,
            ) from None
        return ok({"message": message_json(message)})


@extend_schema(responses=ONE_MESSAGE)
class GetMessageView(V1View):
    """GET chat.getMessage?msgId=: one message, if the caller may read its room."""

    class Input(V1Input):
        msgId = Text(
            required=True,
            missing=lambda _: v1_failure('The "msgId" query parameter must be provided.'),
        )

    def get(self, request: Request) -> Response:
        msg_id = self.parse()["msgId"]
        return ok({"message": message_json(find_message(user_of(request), msg_id))})


class MessageInRoom(V1Input):
    roomId = Text(required=True)
    msgId = Text(required=True)


@extend_schema(responses=ONE_MESSAGE)
class UpdateView(V1View):
    """POST chat.update: `roomId`, `msgId`, `text`. Its author (while MESSAGE_ALLOW_EDITING is
    on) or a holder of edit-message, who may post in the room. Answers the edited message."""

    class Input(MessageInRoom):
        text = Text(required=True, blank=True, nul=True)

        class Meta:
            ref_name = "UpdateMessage"

    def post(self, request: Request) -> Response:
        user, given = user_of(request), self.parse()
        message = find_message(user, given["msgId"])
        if message.room_id != given["roomId"]:
            raise v1_failure(ROOM_MISMATCH)
        message = edit_message(user=user, message=message, text=given["text"])
        return ok({"message": message_json(message)})


@extend_schema(
    responses=api.v1_success(
        "DeletedMessage",
        {
            "_id": api.text(),
            "ts": api.text("Milliseconds since 1970, as a string."),
            "message": api.shape(
                "Deleted", {"_id": api.text(), "rid": api.text(), "u": api.NullableUserBrief()}
            ),
        },
    ),
)
class DeleteView(V1View):
    """POST chat.delete: `roomId`, `msgId`, and `asUser` to delete as its author (which takes
    force-delete-message for another's message). Answers what was deleted, and when."""

    class Input(MessageInRoom):
        asUser = Flag()

        class Meta:
            ref_name = "DeleteMessage"

    def post(self, request: Request) -> Response:
        user, given = user_of(request), self.parse()
        message = find_message(user, given["msgId"], authors_too=True)
        if message.room_id != given["roomId"]:
            raise v1_failure(ROOM_MISMATCH)
        deleted = {"_id": message.pk, "rid": message.room_id, "u": message_json(message)["u"]}
        delete_message(user=user, message=message, as_author=bool(given["asUser"]))
        # Rocket.Chat answers the time of deletion as a string of milliseconds.
        return ok({"_id": message.pk, "ts": str(epoch_ms(now_ms())), "message": deleted})
