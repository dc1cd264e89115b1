"""Rocket.Chat v1's chat.* endpoints: post, send, read, edit and delete a message. Every rule
lives in rooms.services and rooms.access, shared with the 0.1 API (the message limits, who may
post where); these views parse, call and shape, in Rocket.Chat's words.

A message in a room the caller may not read answers as if it did not exist; so does a room named
in chat.postMessage's `channel`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    CannotAccessRoom,
    DeletingAsAuthorNotAllowed,
    MessageAuthorGone,
    MessageNotFound,
    MessageTooLong,
    RoomArchived,
    RoomNotFound,
)
from chat_project.http.fields import json_from_form
from chat_project.http.v1 import V1Error, V1View, bool_param, ok, text_param, v1_error, v1_failure
from rooms.access import (
    ROOM_MISMATCH,
    access_message,
    access_room,
    can_read_room,
    check_access,
    get_room,
    is_member,
    remember_membership,
    with_membership,
)
from rooms.models import Message, Room
from rooms.selectors import room_by_name
from rooms.serializers import message_json
from rooms.services import (
    delete_message,
    edit_message,
    send_message,
)

# Rocket.Chat's words, to the letter.
READ_ONLY_SEND = "You can't send messages because the room is readonly."
NO_RID = "The 'rid' property on the message object is missing."


# --- Rocket.Chat's words -------------------------------------------------------------------------


def bare(exc: ApiError, text: str | None = None) -> V1Error:
    """A shared error as Rocket.Chat answers a plain Error it throws, or its API.v1.failure(text):
    `error` is Rocket.Chat's bare text (`text`, or the error's own message when that is already
    Rocket.Chat's); our `message` and `errorType` stay; a refusal keeps its 403, the rest is 400."""
    answer = V1Error(
        exc.message,
        error=exc.message if text is None else text,
        error_type=exc.error_type,
        detailed_error=exc.detailed_error,
    )
    answer.status_code = 403 if exc.status_code == 403 else 400
    answer.status = exc.status
    return answer


@contextmanager
def send_refusals_in_rocket_chat_words(user: User, room_id: str) -> Iterator[None]:
    """access_room(for_write=True)'s refusals as Rocket.Chat's canSendMessage words them: the
    plain texts error-invalid-room, room_is_archived, error-not-allowed, or the read-only one."""
    try:
        yield
    except RoomNotFound as exc:
        raise bare(exc, "error-invalid-room") from None
    except RoomArchived as exc:
        raise bare(exc, "room_is_archived") from None
    except CannotAccessRoom as exc:
        # access_room refuses non-members first, so a member refused in a read-only room was
        # refused for that.
        room = get_room(room_id)
        read_only = room.read_only and is_member(user, room)
        raise bare(exc, READ_ONLY_SEND if read_only else "error-not-allowed") from None


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
    (or "#id"), a bare room id or name, or "@username" (a direct conversation; none exist yet).
    A room the caller may not read answers as if missing."""
    room = None
    if not channel.startswith("@"):
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


def required_text(params: Mapping[str, Any], name: str) -> str:
    value = text_param(params, name, required=True)
    assert value is not None  # text_param raised for a missing one
    return value


def text_field(params: Mapping[str, Any], name: str, label: str) -> str | None:
    """An optional string: absent or null is None; another type is a 400 naming `label`."""
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise v1_error(f'The "{label}" parameter must be a string', "error-invalid-params")
    return value


def from_json(value: Any) -> Any:
    """A list or object a form can only carry as a JSON string, decoded; anything else (an
    empty or malformed string included) as it came, for the caller to refuse."""
    return json_from_form(value)


def message_extras(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`alias`, `emoji`, `avatar` (strings) and `attachments` (a list of objects, or from a form
    the same list as JSON) for send_message, which checks what they hold."""
    extras: dict[str, Any] = {
        name: text_field(params, name, prefix + name) or "" for name in ("alias", "emoji", "avatar")
    }
    attachments = from_json(params.get("attachments"))
    if attachments == "":
        attachments = None  # an empty form field
    if attachments is not None and not isinstance(attachments, list):
        raise v1_error(
            f'The "{prefix}attachments" parameter must be an array of objects',
            "error-invalid-params",
        )
    extras["attachments"] = attachments or []
    return extras


def message_object(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """chat.sendMessage's `message`: a JSON object (from a form, as a JSON string)."""
    given = from_json(params.get("message"))
    if given is None or given == "":
        raise v1_error('The "message" parameter is required', "error-invalid-params")
    if not isinstance(given, dict):
        raise v1_error('The "message" parameter must be an object', "error-invalid-params")
    return given


# --- the schema ---------------------------------------------------------------------------------

EXTRAS = {
    "alias": api.text(),
    "emoji": api.text(),
    "avatar": api.text(),
    "attachments": serializers.ListField(
        child=api.anything(),
        required=False,
        allow_null=True,
        help_text="From a form, the list as JSON.",
    ),
}
ONE_MESSAGE = api.v1_success("OneMessage", {"message": api.Message()})


# --- views ---------------------------------------------------------------------------------------


@extend_schema(
    request=api.body(
        "PostMessage",
        {
            "channel": api.text('"#name", a room id or name (or give roomId).'),
            "roomId": api.text(),
            "text": api.text(),
            **EXTRAS,
        },
    ),
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

    def post(self, request: Request) -> Response:
        user, params = user_of(request), self.params()
        channel = text_param(params, "channel") or text_param(params, "roomId")
        if not channel:
            raise v1_error(
                'The "roomId" or "channel" parameter is required', "error-invalid-params"
            )
        text = text_field(params, "text", "text") or ""
        extras = message_extras(params)
        room = room_for_channel(user, channel)
        with send_refusals_in_rocket_chat_words(user, room.pk):
            # room_for_channel found it and checked it is readable: no second lookup.
            room = check_access(user, room, for_write=True)
        try:
            # Rocket.Chat's webhook messages are never grouped.
            message = send_message(user=user, room=room, text=text, groupable=False, **extras)
        except MessageTooLong as exc:
            raise bare(exc, "error-message-size-exceeded") from None  # Rocket.Chat's words
        return ok(
            {"ts": epoch_ms(message.ts), "channel": channel, "message": message_json(message)}
        )


@extend_schema(
    request=api.body(
        "SendMessage",
        {
            "message": api.shape(
                "NewMessage",
                {
                    "rid": api.text(required=True),
                    "msg": api.text(),
                    "_id": api.text("The client's own id: 1 to 32 letters and digits."),
                    "groupable": api.flag(),
                    **EXTRAS,
                },
                help_text="From a form, the object as JSON.",
            )
        },
    ),
    responses=ONE_MESSAGE,
)
class SendMessageView(V1View):
    """POST chat.sendMessage: `message` {`rid`, `msg`, and optionally `_id` (the client's own id:
    1 to 32 letters and digits, unused), `alias`, `emoji`, `avatar`, `attachments`,
    `groupable`}. Answers the message."""

    def post(self, request: Request) -> Response:
        user = user_of(request)
        given = message_object(self.params())
        rid = text_field(given, "rid", "message.rid")
        if not rid:
            raise v1_failure(NO_RID)
        text = text_field(given, "msg", "message.msg") or ""
        message_id = text_field(given, "_id", "message._id") or None
        groupable = given.get("groupable")
        if groupable is not None and not isinstance(groupable, bool):
            raise v1_error(
                'The "message.groupable" parameter must be true or false', "error-invalid-params"
            )
        extras = message_extras(given, "message.")
        with send_refusals_in_rocket_chat_words(user, rid):
            room = access_room(user, rid, for_write=True)
        try:
            message = send_message(
                user=user,
                room=room,
                text=text,
                groupable=groupable,
                message_id=message_id,
                **extras,
            )
        except MessageTooLong as exc:
            error = v1_error(
                "Message size exceeds Message_MaxAllowedSize", "error-message-size-exceeded"
            )  # Rocket.Chat's words
            error.message = exc.message
            raise error from None
        return ok({"message": message_json(message)})


@extend_schema(parameters=[api.query("msgId", required=True)], responses=ONE_MESSAGE)
class GetMessageView(V1View):
    """GET chat.getMessage?msgId=: one message, if the caller may read its room."""

    def get(self, request: Request) -> Response:
        msg_id = text_param(self.params(), "msgId")
        if not msg_id:
            raise v1_failure('The "msgId" query parameter must be provided.')
        return ok({"message": message_json(find_message(user_of(request), msg_id))})


@extend_schema(
    request=api.body(
        "UpdateMessage",
        {
            "roomId": api.text(required=True),
            "msgId": api.text(required=True),
            "text": api.text(required=True),
        },
    ),
    responses=ONE_MESSAGE,
)
class UpdateView(V1View):
    """POST chat.update: `roomId`, `msgId`, `text`. Its author (while MESSAGE_ALLOW_EDITING is
    on) or a holder of edit-message, who may post in the room. Answers the edited message."""

    def post(self, request: Request) -> Response:
        user, params = user_of(request), self.params()
        room_id, msg_id = required_text(params, "roomId"), required_text(params, "msgId")
        text = text_field(params, "text", "text")
        if text is None:
            raise v1_error('The "text" parameter is required', "error-invalid-params")
        message = find_message(user, msg_id)
        if message.room_id != room_id:
            raise v1_failure(ROOM_MISMATCH)
        with send_refusals_in_rocket_chat_words(user, message.room_id):
            message = edit_message(user=user, message=message, text=text)
        return ok({"message": message_json(message)})


@extend_schema(
    request=api.body(
        "DeleteMessage",
        {
            "roomId": api.text(required=True),
            "msgId": api.text(required=True),
            "asUser": api.flag(),
        },
    ),
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

    def post(self, request: Request) -> Response:
        user, params = user_of(request), self.params()
        room_id, msg_id = required_text(params, "roomId"), required_text(params, "msgId")
        as_user = bool(bool_param(params, "asUser", False))
        message = find_message(user, msg_id, authors_too=True)
        if message.room_id != room_id:
            raise v1_failure(ROOM_MISMATCH)
        deleted = {"_id": message.pk, "rid": message.room_id, "u": message_json(message)["u"]}
        try:
            delete_message(user=user, message=message, as_author=as_user)
        except (DeletingAsAuthorNotAllowed, MessageAuthorGone, CannotAccessRoom) as exc:
            raise bare(exc) from None  # Rocket.Chat answers these with their bare text
        # Rocket.Chat answers the time of deletion as a string of milliseconds.
        return ok({"_id": message.pk, "ts": str(epoch_ms(now_ms())), "message": deleted})
