"""What the services tell the sockets, published only once the change is committed.

Every write that changes a message, room or subscription calls one of these functions inside its
transaction (or in autocommit). `transaction.on_commit` holds the event until the commit, so a
socket never sees a change that was rolled back, and never sees it before a REST client could
read it. The bus then carries it to every server process (chat_project.realtime.bus).

An event is a small JSON object. Stream events name the DDP collection ("c"), the event name
("e") and the arguments ("a") exactly as the `changed` frame will carry them, so each process
builds the frame once. A few carry routing hints for the hub (room id, user ids, the connection
that caused it) and control events ("ctl") tell hubs that access changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from chat_project.realtime import bus

logger = logging.getLogger(__name__)

ROOM_MESSAGES = "stream-room-messages"
NOTIFY_ROOM = "stream-notify-room"
NOTIFY_USER = "stream-notify-user"
NOTIFY_LOGGED = "stream-notify-logged"
NOTIFY_ALL = "stream-notify-all"
USER_PRESENCE = "stream-user-presence"
MY_MESSAGES = "__my_messages__"


def publish(event: dict[str, Any]) -> None:
    """Sends `event` to every process once the current transaction commits (at once outside
    one). A bus that fails is logged and the event is lost: the write itself stands."""
    transaction.on_commit(lambda: bus.send(event), robust=True)


def publish_many(batch: list[dict[str, Any]]) -> None:
    """Several events in one bus message (a bulk write's), each delivered as if alone."""
    if len(batch) == 1:
        publish(batch[0])
    elif batch:
        publish({"ctl": "batch", "events": batch})


def stream(
    collection: str, event_name: str, args: list[Any], *, origin: str | None = None, **hints: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {"c": collection, "e": event_name, "a": args}
    if origin:
        event["origin"] = origin  # the connection that caused it does not get it back
    event.update(hints)
    return event


# --- messages -------------------------------------------------------------------------------


def message_changed(message_body: dict[str, Any], *, room_type: str, room_name: str) -> None:
    """A new or edited message (message_body: rooms.serializers.message_ddp_json). Goes to
    `stream-room-messages/<rid>` and to the `__my_messages__` stream of the room's members."""
    rid = message_body["rid"]
    extra = {"roomParticipant": True, "roomType": room_type, "roomName": room_name}
    publish(stream(ROOM_MESSAGES, rid, [message_body], rid=rid, my=extra))


def message_deleted(*, room_id: str, message_id: str) -> None:
    publish(stream(NOTIFY_ROOM, f"{room_id}/deleteMessage", [{"_id": message_id}]))


def room_activity(*, room_id: str, event: str, args: list[Any], origin: str | None = None) -> None:
    """Typing and other user activity in a room (stream-notify-room <rid>/<event>)."""
    publish(stream(NOTIFY_ROOM, f"{room_id}/{event}", args, origin=origin))


# --- settings -------------------------------------------------------------------------------


def public_setting_changed(*, setting_id: str, value: Any) -> None:
    """Rocket.Chat's stream-notify-all `public-settings-changed` ["updated", {_id, value}]: a
    public setting's new value, heard by every socket (signed in or not) that asked for it."""
    publish(
        stream(
            NOTIFY_ALL, "public-settings-changed", ["updated", {"_id": setting_id, "value": value}]
        )
    )


# --- users and rooms ------------------------------------------------------------------------


def notify_user(user_id: str, event: str, args: list[Any]) -> None:
    publish(stream(NOTIFY_USER, f"{user_id}/{event}", args))


def notify_logged(event: str, args: list[Any], *, only: Iterable[str] | None = None) -> None:
    """An event for every signed-in user, or (`only`: user ids) for those users alone."""
    hints: dict[str, Any] = {} if only is None else {"to": list(only)}
    publish(stream(NOTIFY_LOGGED, event, args, **hints))


def role_changed(
    *,
    user: Any,
    role: str,
    held: bool,
    scope: str | None = None,
    audience: Iterable[str] | None = None,
) -> None:
    """Rocket.Chat's roles-change on stream-notify-logged: a role given or taken, globally or
    (`scope`: a room id) in one room; heard by every signed-in user, or only by `audience` (user
    ids: a private group's members, rooms.models.Room.audience)."""
    change: dict[str, Any] = {
        "type": "added" if held else "removed",
        "_id": role,
        "u": {"_id": user.pk, "username": user.username, "name": user.name},
    }
    if scope is not None:
        change["scope"] = scope
    notify_logged("roles-change", [change], only=audience)


def memberships_changed(
    *, joined: Iterable[tuple[str, str]] = (), left: Iterable[tuple[str, str]] = ()
) -> None:
    """(user id, room id) pairs that became or stopped being members. Hubs then route
    __my_messages__ accordingly, and end the room subscriptions of those who left."""
    joined, left = list(joined), list(left)
    if joined or left:
        publish({"ctl": "membership", "joined": joined, "left": left})


def room_gone(room_id: str) -> None:
    """The room was deleted: every subscription to it ends."""
    publish({"ctl": "room-gone", "rid": room_id})


def room_closed(*, room_id: str, members: Iterable[str]) -> None:
    """The room became private: the subscriptions to it of everyone but `members` (user ids)
    end, as if they had left it."""
    publish({"ctl": "room-closed", "rid": room_id, "members": list(members)})


def logins_ended(
    *, token_ids: Iterable[int] = (), user_ids: Iterable[str] = (), origin: str | None = None
) -> None:
    """Login tokens revoked (or every token of these users): their sockets are closed, but for
    `origin`, the connection that logged itself out (it stays up, signed out)."""
    token_ids, user_ids = list(token_ids), list(user_ids)
    if token_ids or user_ids:
        publish({"ctl": "logout", "tokens": token_ids, "users": user_ids, "origin": origin})
