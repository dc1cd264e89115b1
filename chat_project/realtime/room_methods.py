"""The realtime API's room, message and sync methods (Rocket.Chat's names, parameters and result
shapes). Each is thin: it checks its parameters as Meteor's check() would (a wrong type is
error-invalid-params), then calls the same access helpers, selectors and services as the REST
views, so the rules are those of channels.*, groups.* and chat.*; a service's ApiError becomes
a Meteor error in Method.run.

Where Rocket.Chat answers a refusal with `false` or nothing (loadHistory, updateMessage of a
missing message), we answer the error the REST API gives (docs/api.md): every failure is a
clear error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from chat_project.realtime import errors
from chat_project.realtime.ejson import date, from_date
from chat_project.realtime.methods import Call, method, param, text_field
from chat_project.v1 import MAX_COUNT, MAX_OFFSET
from permissions.selectors import permissions_with_roles
from permissions.serializers import permission_json
from rooms.access import access_message, access_room, get_visible_room
from rooms.notify import room_ddp_json, subscription_ddp_json
from rooms.selectors import (
    channel_history,
    members_matching,
    room_role_holders,
    rooms_of,
    subscriptions_of,
    unread_between,
)
from rooms.serializers import member_json, message_ddp_json, room_role_json
from rooms.services import (
    create_room,
    delete_message,
    edit_message,
    join_room,
    leave_room,
    message_deleting_allowed,
    message_editing_allowed,
)
from rooms.v1_chat import ROOM_MISMATCH

HISTORY_LIMIT = 20  # Rocket.Chat's default page of loadHistory


# --- parameters -----------------------------------------------------------------------------


def date_param(call: Call, params: list[Any], index: int) -> datetime | None:
    """An optional EJSON date ({"$date": ms}); absent or null is None."""
    given = param(call, params, index, dict, optional=True)
    if given is None:
        return None
    moment = from_date(given)
    if moment is None:
        raise errors.invalid_params(call.name)
    return moment


def count_param(call: Call, value: Any, *, default: int) -> int:
    """A whole number from 0 to MAX_OFFSET; absent or null is `default`."""
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_OFFSET:
        raise errors.invalid_params(call.name)
    return value


def usernames_param(call: Call, params: list[Any], index: int) -> list[str]:
    """createChannel's `members`: a list of usernames (absent or null: none)."""
    members = param(call, params, index, list, optional=True) or []
    if not all(isinstance(member, str) for member in members):
        raise errors.invalid_params(call.name)
    return members


def required_text(call: Call, body: dict[str, Any], key: str) -> str:
    value = text_field(call, body, key, default=None)
    if not value:
        raise errors.invalid_params(call.name, f"{key} is required")
    return str(value)


def changes(items: list[dict[str, Any]], since: datetime | None) -> Any:
    """The list, or with a client's date Rocket.Chat's {update, remove}. We keep no record of
    what was deleted (Rocket.Chat keeps a trash collection), so `remove` is always empty: a
    client learns of rooms it left, and deleted ones, from rooms-changed and
    subscriptions-changed while connected, or by asking without a date."""
    if since is None:
        return items
    return {"update": items, "remove": []}


# --- messages -------------------------------------------------------------------------------


@method("updateMessage")
def update_message(call: Call, params: list[Any]) -> None:
    """updateMessage({_id, rid, msg}): chat.update's rules (the author while editing is on, or a
    holder of edit-message, who may post in the room). Its message must be in `rid`."""
    body = param(call, params, 0, dict)
    message_id = required_text(call, body, "_id")
    rid = required_text(call, body, "rid")
    text = text_field(call, body, "msg", default=None)
    if text is None:
        raise errors.invalid_params(call.name, "msg is required")
    message = access_message(call.user, message_id)
    if message.room_id != rid:
        raise errors.invalid_params(call.name, ROOM_MISMATCH)
    edit_message(user=call.user, message=message, text=text)


@method("deleteMessage")
def delete_message_method(call: Call, params: list[Any]) -> None:
    """deleteMessage({_id}): chat.delete's rules; its author may delete it after leaving."""
    body = param(call, params, 0, dict)
    message_id = required_text(call, body, "_id")
    message = access_message(call.user, message_id, authors_too=True)
    delete_message(user=call.user, message=message)


@method("loadHistory")
def load_history(call: Call, params: list[Any]) -> dict[str, Any]:
    """loadHistory(rid, end, limit, ls): up to `limit` (default 20, at most 100) messages older
    than `end` (else the newest), newest first, from a room the user may read (channels.history's
    selector and rules). Given `ls` (when the user last looked), `unreadNotLoaded` counts the
    messages after it older than this page, and `firstUnread` is the first of them."""
    rid = param(call, params, 0, str)
    end = date_param(call, params, 1)
    limit = count_param(call, param(call, params, 2, int, optional=True), default=HISTORY_LIMIT)
    last_seen = date_param(call, params, 3)
    room = access_room(call.user, rid)
    # As in Rocket.Chat (a Mongo limit of 0 is none), 0 asks for the most we give.
    count = min(limit or MAX_COUNT, MAX_COUNT)
    messages = channel_history(
        room, latest=end, oldest=None, inclusive=False, offset=0, count=count
    )
    answer: dict[str, Any] = {"messages": [message_ddp_json(m) for m in messages]}
    unread = 0
    if last_seen is not None and messages and messages[-1].ts > last_seen:
        first, unread = unread_between(room, after=last_seen, before=messages[-1].ts)
        if first is not None:
            answer["firstUnread"] = message_ddp_json(first)
    answer["unreadNotLoaded"] = unread
    return answer


# --- rooms ----------------------------------------------------------------------------------


@method("joinRoom")
def join_room_method(call: Call, params: list[Any]) -> bool:
    """joinRoom(rid): channels.join's rules; true, as Rocket.Chat answers (joining twice too)."""
    rid = param(call, params, 0, str)
    join_room(user=call.user, room=get_visible_room(call.user, rid))
    return True


@method("leaveRoom")
def leave_room_method(call: Call, params: list[Any]) -> None:
    """leaveRoom(rid): channels.leave's rules. No result, as Rocket.Chat's returns nothing."""
    rid = param(call, params, 0, str)
    leave_room(user=call.user, room=get_visible_room(call.user, rid))


def create(call: Call, params: list[Any], *, private: bool) -> dict[str, str]:
    """(name, members, readOnly?, customFields?, extraData?) as channels.create and
    groups.create take them. customFields and extraData (teams, broadcast, encryption) have
    nothing to set here: objects are accepted and left unused."""
    name = param(call, params, 0, str)
    members = usernames_param(call, params, 1)
    read_only = bool(param(call, params, 2, bool, optional=True))
    param(call, params, 3, dict, optional=True)
    param(call, params, 4, dict, optional=True)
    room = create_room(
        creator=call.user, name=name, private=private, members=members, read_only=read_only
    )
    return {"rid": room.pk, "name": room.name}


@method("createChannel")
def create_channel(call: Call, params: list[Any]) -> dict[str, str]:
    """createChannel(name, members, readOnly?): a public channel (create-c); {rid, name}."""
    return create(call, params, private=False)


@method("createPrivateGroup")
def create_private_group(call: Call, params: list[Any]) -> dict[str, str]:
    """createPrivateGroup(name, members, readOnly?): a private group (create-p); {rid, name}."""
    return create(call, params, private=True)


@method("getRoomRoles")
def get_room_roles(call: Call, params: list[Any]) -> list[dict[str, Any]]:
    """getRoomRoles(rid): channels.roles' list of members holding room roles, for a room the
    user may read."""
    room = access_room(call.user, param(call, params, 0, str))
    return [room_role_json(membership) for membership in room_role_holders(room)]


@method("getUsersOfRoom")
def get_users_of_room(call: Call, params: list[Any]) -> dict[str, Any]:
    """getUsersOfRoom(rid, showAll, {limit, skip}?, filter?): {total, records} of the members
    of a room the user may read (channels.members' rules and shape), by username, `filter`
    matching usernames and names, each with their presence. Without showAll only members who
    are not offline are listed."""
    from chat_project.realtime.presence import not_offline, statuses

    rid = param(call, params, 0, str)
    show_all = bool(param(call, params, 1, bool, optional=True))
    options = param(call, params, 2, dict, optional=True) or {}
    text = param(call, params, 3, str, optional=True) or ""
    if "\x00" in text:
        raise errors.invalid_params(call.name)
    skip = count_param(call, options.get("skip"), default=0)
    limit = count_param(call, options.get("limit"), default=0) or MAX_COUNT
    room = access_room(call.user, rid)
    members = members_matching(room, text)
    if not show_all:
        members = members.filter(pk__in=list(not_offline()))
    page = list(members[skip : skip + min(limit, MAX_COUNT)])
    shown = statuses([user.pk for user in page])
    return {
        "total": members.count(),
        "records": [member_json(user, status=shown.get(user.pk, "offline")) for user in page],
    }


# --- what clients sync at start ---------------------------------------------------------------


@method("rooms/get")
def rooms_get(call: Call, params: list[Any]) -> Any:
    """rooms/get(date?): the user's rooms (as rooms-changed carries them); with a date, those
    changed since, as {update, remove} (see `changes` on `remove`)."""
    since = date_param(call, params, 0)
    return changes([room_ddp_json(r) for r in rooms_of(call.user, updated_since=since)], since)


@method("subscriptions/get")
def subscriptions_get(call: Call, params: list[Any]) -> Any:
    """subscriptions/get(date?): the user's subscriptions (as subscriptions-changed carries
    them); with a date, those made or changed since, as {update, remove}."""
    since = date_param(call, params, 0)
    user = call.user
    items = [
        subscription_ddp_json(
            sub.room,
            user_id=user.pk,
            username=user.username,
            roles=[role.pk for role in sub.roles.all()],
            joined=sub.ts,
        )
        for sub in subscriptions_of(user, updated_since=since)
    ]
    return changes(items, since)


@method("permissions/get")
def permissions_get(call: Call, params: list[Any]) -> Any:
    """permissions/get(date?): every permission with its roles (permissions.listAll's), with a
    date those changed since, as {update, remove}. For signed-in users, as permissions.listAll."""
    since = date_param(call, params, 0)
    items = [
        permission_json(permission) | {"_updatedAt": date(permission.updated_at)}
        for permission in permissions_with_roles(updated_since=since)
    ]
    return changes(items, since)


def public_settings() -> list[dict[str, Any]]:
    """The Rocket.Chat public settings our configuration decides, under Rocket.Chat's ids."""
    return [
        {"_id": "Accounts_RegistrationForm", "value": public_registration()},
        {"_id": "Message_AllowDeleting", "value": message_deleting_allowed()},
        {"_id": "Message_AllowEditing", "value": message_editing_allowed()},
        {"_id": "Message_MaxAllowedSize", "value": settings.MESSAGE_MAX_LENGTH},
        {"_id": "UTF8_Names_Validation", "value": settings.NAME_PATTERN},
    ]


def public_registration() -> str:
    return "Public" if settings.REGISTRATION_ENABLED else "Disabled"


@method("public-settings/get", login=False)
def public_settings_get(call: Call, params: list[Any]) -> Any:
    """public-settings/get(date?): what a client needs before anyone signs in, as Rocket.Chat
    serves it to anyone. They come from the environment and carry no change time, so with a
    date every one of them is in `update`."""
    return changes(public_settings(), date_param(call, params, 0))
