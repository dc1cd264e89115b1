"""Rocket.Chat's streams and who may subscribe to them.

A `sub` names a stream and, as its first parameter, an event name; the hub then sends every
event of that name as a `changed` frame. Each stream's rule below runs in a worker thread
(it may read the database) and answers the room the subscription is about, if any, so that the
hub can end it when the user leaves that room. A refusal is a `nosub` with Meteor's error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chat_project.errors import ApiError
from chat_project.realtime import errors, sync
from chat_project.realtime.events import (
    MY_MESSAGES,
    NOTIFY_LOGGED,
    NOTIFY_ROOM,
    NOTIFY_USER,
    ROOM_MESSAGES,
)
from chat_project.realtime.hub import Frame, Subscription
from chat_project.realtime.methods import Call

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection


@dataclass
class Grant:
    room: str | None = None  # the room the subscription is about (ended when access ends)
    my_rooms: set[str] | None = None  # for __my_messages__: the rooms it carries
    event_names: list[str] | None = None  # several event names instead of the one asked for
    initial: list[tuple[str, list[Any]]] | None = None  # (event name, args) to send at once


Rule = Callable[[Call, str], Grant]
RULES: dict[str, Rule] = {}

NOT_ALLOWED = "not-allowed"


def stream(name: str) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        RULES[name] = rule
        return rule

    return register


def refuse() -> errors.MeteorError:
    return errors.MeteorError(NOT_ALLOWED, "Not allowed")


def signed_in(call: Call) -> Any:
    try:
        return call.user
    except errors.MeteorError:
        raise refuse() from None


def readable_room(call: Call, rid: str) -> str:
    from rooms.access import can_read_room, get_room

    user = signed_in(call)
    try:
        room = get_room(rid)
    except ApiError:
        raise refuse() from None
    if not can_read_room(user, room):
        raise refuse()
    return room.pk


@stream(ROOM_MESSAGES)
def room_messages(call: Call, event_name: str) -> Grant:
    """`<rid>`: the room's new and edited messages, for whoever may read it.
    `__my_messages__`: those of every room the user is a member of."""
    if event_name == MY_MESSAGES:
        from rooms.models import Subscription as Membership

        user = signed_in(call)
        rooms = set(Membership.objects.filter(user=user).values_list("room_id", flat=True))
        return Grant(my_rooms=rooms)
    return Grant(room=readable_room(call, event_name))


ROOM_EVENTS = ("deleteMessage", "typing", "user-activity")


@stream(NOTIFY_ROOM)
def notify_room(call: Call, event_name: str) -> Grant:
    """`<rid>/deleteMessage`, `<rid>/typing`, `<rid>/user-activity` of a readable room."""
    rid, _, event = event_name.rpartition("/")
    if not rid or event not in ROOM_EVENTS:
        raise refuse()
    return Grant(room=readable_room(call, rid))


USER_EVENTS = (
    "rooms-changed",
    "subscriptions-changed",
    "notification",
    "message",
    "otr",
    "webrtc",
    "userData",
)


@stream(NOTIFY_USER)
def notify_user(call: Call, event_name: str) -> Grant:
    """`<uid>/<event>`: a user's own notifications, to that user only."""
    user = signed_in(call)
    uid, _, event = event_name.partition("/")
    if uid != user.pk or event not in USER_EVENTS:
        raise refuse()
    return Grant()


@stream(NOTIFY_LOGGED)
def notify_logged(call: Call, event_name: str) -> Grant:
    """Events for every signed-in user (user-status, Users:NameChanged, roles-change...)."""
    signed_in(call)
    if not event_name:
        raise refuse()
    return Grant()


async def open_subscription(conn: Connection, sub_id: str, name: str, params: list[Any]) -> None:
    rule = RULES.get(name)
    if rule is None:
        raise errors.subscription_not_found(name)
    event_name = params[0] if params else None
    if not isinstance(event_name, str) or len(event_name) > 200:
        raise errors.MeteorError("error-invalid-params", "Invalid event name")
    call = Call(conn, name)
    call.params = params
    try:
        grant = await sync.run(rule, call, event_name)
    finally:
        await call.apply(conn)
    assert conn.hub is not None
    if conn.closed or conn.user_id != call.user_id:
        raise refuse()  # logged out while the rule ran
    sub = Subscription(conn, sub_id, name, event_name, grant.room, grant.event_names)
    conn.hub.add_subscription(sub, grant.my_rooms)
    for initial_event, args in grant.initial or ():
        conn.push(Frame(name, initial_event, args))
