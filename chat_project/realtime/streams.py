"""Rocket.Chat's streams: the registry of who may subscribe to what, and opening a subscription.

A `sub` names a stream and, as its first parameter, an event name; the hub then sends every
event of that name as a `changed` frame. Each stream's rule is registered by the app that owns
its events (accounts/realtime.py, rooms/realtime.py) from its AppConfig.ready(); it runs in a
worker thread (it may read the database) and answers the room the subscription is about, if
any, so that the hub can end it when the user leaves that room. A refusal is a `nosub` with
Meteor's error; a stream nobody registered is Meteor's "Subscription '…' not found".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from chat_project.realtime import errors, sync
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


def register(name: str, rule: Rule) -> None:
    """Makes `rule` decide who may subscribe to the stream `name` (from an app's ready())."""
    if RULES.get(name, rule) is not rule:
        raise ImproperlyConfigured(f"the realtime stream {name!r} is registered twice")
    RULES[name] = rule


def refuse() -> errors.MeteorError:
    return errors.MeteorError(NOT_ALLOWED, "Not allowed")


def signed_in(call: Call) -> Any:
    try:
        return call.user
    except errors.MeteorError:
        raise refuse() from None


async def open_subscription(conn: Connection, sub_id: str, name: str, params: list[Any]) -> None:
    rule = RULES.get(name)
    if rule is None:
        raise errors.subscription_not_found(name)
    event_name = params[0] if params else None
    if not isinstance(event_name, str) or len(event_name) > 200:
        raise errors.MeteorError("error-invalid-params", "Invalid event name")
    call = Call.on_socket(conn, name)
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
