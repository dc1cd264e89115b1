"""The rooms app's realtime API (Meteor's DDP): its methods (Rocket.Chat's names, parameters
and result shapes) and who may subscribe to its streams (stream-room-messages,
stream-notify-room). Each method is thin: it checks its parameters as Meteor's check() would
(chat_project.realtime.params; a wrong type is error-invalid-params), then calls the same access
helpers, selectors and services as the REST views, so the rules are those of channels.*,
groups.* and chat.*; a service's ApiError becomes a Meteor error in Method.run. `register` adds
them to the transport's registries; RoomsConfig.ready() calls it.

Where Rocket.Chat answers a refusal with `false` or nothing (loadHistory, updateMessage of a
missing message), we answer the error the REST API gives (docs/api.md): every failure is a
clear error.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.presence import not_offline, statuses
from accounts.site_settings import public_settings
from chat_project.db.timestamps import epoch_ms
from chat_project.http.errors import ApiError, CannotAccessRoom, RoomNotFound
from chat_project.http.v1 import MAX_COUNT
from chat_project.realtime import errors, events, methods, streams
from chat_project.realtime.events import MY_MESSAGES, NOTIFY_ROOM, ROOM_MESSAGES
from chat_project.realtime.methods import Call
from chat_project.realtime.params import (
    changes,
    count_param,
    date_param,
    param,
    required_text,
    text_field,
    usernames_param,
)
from chat_project.realtime.streams import Grant, refuse, signed_in
from rooms.access import (
    ROOM_MISMATCH,
    access_message,
    access_room,
    can_read_room,
    check_access,
    get_room,
    get_visible_room,
)
from rooms.direct import create_direct_room, members_key
from rooms.models import Room
from rooms.notify import room_ddp_json
from rooms.selectors import (
    channel_history,
    member_room_ids,
    members_matching,
    room_history,
    room_role_holders,
    unread_between,
    with_direct_members,
)
from rooms.serializers import (
    member_json,
    message_ddp_json,
    room_role_json,
    subscription_ddp_json,
)
from rooms.services import (
    create_room,
    delete_message,
    edit_message,
    hide_room,
    join_room,
    leave_room,
    mark_read,
    open_room,
    send_message,
    set_favorite,
)
from rooms.sync import room_changes, subscription_changes

HISTORY_LIMIT = 20  # Rocket.Chat's default page of loadHistory


# --- messages -------------------------------------------------------------------------------


def send_message_method(call: Call, params: list[Any]) -> dict[str, Any]:
    """Rocket.Chat's sendMessage({_id?, rid, msg, alias?, emoji?, avatar?, attachments?}):
    posts as chat.sendMessage does (a client-chosen _id is kept) and returns the message."""
    body = param(call, params, 0, dict)
    rid = text_field(call, body, "rid", default=None)
    if not rid:
        raise errors.invalid_params(
            call.name, "The 'rid' property on the message object is missing."
        )
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise errors.invalid_params(call.name, "attachments must be a list")
    groupable = body.get("groupable")
    if groupable is not None and not isinstance(groupable, bool):
        raise errors.invalid_params(call.name, "groupable must be true or false")
    room = access_room(call.user, rid, for_write=True)
    message = send_message(
        user=call.user,
        room=room,
        text=text_field(call, body, "msg"),
        alias=text_field(call, body, "alias"),
        emoji=text_field(call, body, "emoji"),
        avatar=text_field(call, body, "avatar"),
        attachments=attachments,
        groupable=groupable,
        message_id=text_field(call, body, "_id", default=None),
    )
    return message_ddp_json(message)


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


def delete_message_method(call: Call, params: list[Any]) -> None:
    """deleteMessage({_id}): chat.delete's rules; its author may delete it after leaving."""
    body = param(call, params, 0, dict)
    message_id = required_text(call, body, "_id")
    message = access_message(call.user, message_id, authors_too=True)
    delete_message(user=call.user, message=message)


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


def join_room_method(call: Call, params: list[Any]) -> bool:
    """joinRoom(rid, code): channels.join's rules (`code`: the channel's join code, if it has
    one); true, as Rocket.Chat answers (joining twice too)."""
    rid = param(call, params, 0, str)
    code = param(call, params, 1, str, optional=True)
    join_room(user=call.user, room=get_visible_room(call.user, rid), join_code=code)
    return True


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


def create_channel(call: Call, params: list[Any]) -> dict[str, str]:
    """createChannel(name, members, readOnly?): a public channel (create-c); {rid, name}."""
    return create(call, params, private=False)


def create_private_group(call: Call, params: list[Any]) -> dict[str, str]:
    """createPrivateGroup(name, members, readOnly?): a private group (create-p); {rid, name}."""
    return create(call, params, private=True)


def create_direct_message(call: Call, params: list[Any]) -> dict[str, Any]:
    """createDirectMessage(...usernames): dm.create's service and rules; Rocket.Chat's
    {t: "d", rid, usernames} (the members by display name)."""
    if not params or not all(isinstance(name, str) and "\x00" not in name for name in params):
        raise errors.invalid_params(call.name, "usernames must be strings")
    room, members = create_direct_room(creator=call.user, usernames=list(params))
    return {"t": room.t, "rid": room.pk, "usernames": [member.username for member in members]}


def get_room_roles(call: Call, params: list[Any]) -> list[dict[str, Any]]:
    """getRoomRoles(rid): channels.roles' list of members holding room roles, for a room the
    user may read."""
    room = access_room(call.user, param(call, params, 0, str))
    return [room_role_json(membership) for membership in room_role_holders(room)]


def get_users_of_room(call: Call, params: list[Any]) -> dict[str, Any]:
    """getUsersOfRoom(rid, showAll, {limit, skip}?, filter?): {total, records} of the members
    of a room the user may read (channels.members' rules and shape), by username, `filter`
    matching usernames and names, each with their presence. Without showAll only members who
    are not offline are listed."""
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


def get_room_by_type_and_name(call: Call, params: list[Any]) -> dict[str, Any]:
    """getRoomByTypeAndName(type, name): the channel ('c') or private group ('p') of that name
    (or id, as Rocket.Chat's findByTypeAndNameOrId), or the caller's own direct room ('d':
    direct_room_by_name), as rooms-changed carries it, if the caller may read it. A room they
    may not read, a hidden one and a missing one are alike Rocket.Chat's "Not allowed" (so its
    existence does not leak)."""
    kind = param(call, params, 0, str)
    name = param(call, params, 1, str)
    user = call.user
    if kind == Room.Type.DIRECT:
        return direct_room_by_name(call, name)
    try:
        if kind not in (Room.Type.CHANNEL, Room.Type.GROUP) or not name or "\x00" in name:
            raise RoomNotFound()
        try:
            room = get_visible_room(user, name=name, t=kind, counted=True)
        except RoomNotFound:
            room = get_visible_room(user, name, t=kind, counted=True)
        check_access(user, room)
    except (RoomNotFound, CannotAccessRoom):
        raise errors.not_allowed(method=call.name) from None
    return room_ddp_json(room)


def direct_room_by_name(call: Call, name: str) -> dict[str, Any]:
    """getRoomByTypeAndName("d", rid or the other member's username): the caller's own direct
    room, with its members; anyone else's, or none, is "Not allowed"."""
    user = call.user
    try:
        if not name or "\x00" in name:
            raise RoomNotFound()
        rid = name
        other = User.objects.by_username(name).first()
        if other is not None:
            rid = (
                Room.objects.filter(members_key=members_key([user.pk, other.pk]))
                .values_list("pk", flat=True)
                .first()
                or name
            )
        room = get_visible_room(user, rid, t=Room.Type.DIRECT, counted=True)
    except RoomNotFound:
        raise errors.not_allowed(method=call.name) from None
    with_direct_members([room])
    return room_ddp_json(room)


# --- what clients sync at start ---------------------------------------------------------------


def ejson_date(moment: Any) -> dict[str, int]:
    return {"$date": epoch_ms(moment)}


def rooms_get(call: Call, params: list[Any]) -> Any:
    """rooms/get(date?): the user's rooms (as rooms-changed carries them); with a date, those
    changed since and those they left since, as {update, remove} (rooms.get's reads)."""
    since = date_param(call, params, 0)
    update, remove = room_changes(call.user, since, shape=room_ddp_json, date=ejson_date)
    return update if since is None else {"update": update, "remove": remove}


def subscriptions_get(call: Call, params: list[Any]) -> Any:
    """subscriptions/get(date?): the user's subscriptions (as subscriptions-changed carries
    them); with a date, those changed since and those lost since, as {update, remove}."""
    since = date_param(call, params, 0)
    update, remove = subscription_changes(
        call.user, since, shape=subscription_ddp_json, date=ejson_date
    )
    return update if since is None else {"update": update, "remove": remove}


# --- a member's own state -----------------------------------------------------------------------


def read_messages(call: Call, params: list[Any]) -> None:
    """readMessages(rid, readThreads?): subscriptions.read's service and rules."""
    rid = param(call, params, 0, str)
    param(call, params, 1, bool, optional=True)
    mark_read(user=call.user, room=get_visible_room(call.user, rid))


def hide_room_method(call: Call, params: list[Any]) -> int:
    """hideRoom(rid): channels.close's service; 1, as Rocket.Chat's count of changed rows."""
    rid = param(call, params, 0, str)
    hide_room(user=call.user, room=get_visible_room(call.user, rid))
    return 1


def open_room_method(call: Call, params: list[Any]) -> int:
    """openRoom(rid): channels.open's service; 1, as Rocket.Chat's count of changed rows."""
    rid = param(call, params, 0, str)
    open_room(user=call.user, room=get_visible_room(call.user, rid))
    return 1


def toggle_favorite(call: Call, params: list[Any]) -> int:
    """toggleFavorite(rid, favorite): rooms.favorite's service; 1, as Rocket.Chat answers."""
    rid = param(call, params, 0, str)
    favorite = param(call, params, 1, bool)
    set_favorite(user=call.user, room=get_visible_room(call.user, rid), favorite=favorite)
    return 1


def load_missed_messages(call: Call, params: list[Any]) -> list[dict[str, Any]]:
    """loadMissedMessages(rid, start): the messages of a readable room after `start`, newest
    first (Rocket.Chat's order), the first MAX_COUNT of them (Rocket.Chat answers them all: a
    client catching up after a long absence pages with loadHistory instead)."""
    rid = param(call, params, 0, str)
    start = date_param(call, params, 1)
    if start is None:
        raise errors.invalid_params(call.name, "start must be a date")
    room = access_room(call.user, rid)
    messages = room_history(room, count=MAX_COUNT, oldest=start)
    return [message_ddp_json(m) for m in messages]


def public_settings_get(call: Call, params: list[Any]) -> Any:
    """public-settings/get(date?): what a client needs before anyone signs in, as Rocket.Chat
    serves it to anyone: the public settings of the store (accounts.site_settings), as
    settings.public answers them. A default follows the environment and carries no change time,
    so with a date every one of them is in `update`."""
    return changes(public_settings(), date_param(call, params, 0))


# --- typing and other activity ---------------------------------------------------------------

ROOM_ACTIVITY = ("typing", "user-activity")
# Rocket.Chat's USER_ACTIVITIES, the only names its clients send and show.
ACTIVITIES = ("user-typing", "user-recording", "user-uploading")
# Rocket.Chat's IExtras: the thread the activity is in, as a message id (ours are at most 32).
EXTRAS = {"tmid": 32}


def activity_names(call: Call, value: Any) -> list[str]:
    """user-activity's list: Rocket.Chat's activity names, each at most once."""
    if (
        not isinstance(value, list)
        or not all(isinstance(name, str) and name in ACTIVITIES for name in value)
        or len(set(value)) != len(value)
    ):
        raise errors.invalid_params(
            call.name, f"activities must be a list of {', '.join(ACTIVITIES)}"
        )
    return list(value)


def activity_extras(call: Call, value: Any) -> dict[str, str]:
    """user-activity's extras: none (absent or null), or {} or {tmid} with a message id."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        key in EXTRAS and isinstance(text, str) and 0 < len(text) <= EXTRAS[key]
        for key, text in value.items()
    ):
        raise errors.invalid_params(call.name, "extras must be {} or {tmid: a message id}")
    return dict(value)


def notify_room_method(call: Call, params: list[Any]) -> None:
    """What clients emit on a room, by a user who may read it, in their own name, and in the
    shapes Rocket.Chat defines: `<rid>/user-activity` [username, activities, extras?] (the
    activities among user-typing, user-recording and user-uploading; extras none, {} or
    {tmid}), or the older `<rid>/typing` [username, true|false]. Both forms are passed on, so
    old and new clients see each other type. Anything else is an error and nothing is relayed:
    what reaches the room's sockets is rebuilt from the checked parts, a few hundred bytes at
    most, whatever arrived (Rocket.Chat relays its clients' arguments as they are)."""
    target = param(call, params, 0, str)
    rid, _, event = target.rpartition("/")
    if event not in ROOM_ACTIVITY or not rid:
        raise errors.not_allowed()
    args = params[1:]
    user = call.user
    if not args or args[0] != user.username:
        raise errors.not_allowed()
    if event == "typing":
        if len(args) != 2 or not isinstance(args[1], bool):
            raise errors.invalid_params(call.name, "typing takes a username and true or false")
        typing: bool = args[1]
        activities = ["user-typing"] if typing else []
        extras: dict[str, str] = {}
    else:
        if not 2 <= len(args) <= 3:
            raise errors.invalid_params(
                call.name, "user-activity takes a username, activities and extras"
            )
        activities = activity_names(call, args[1])
        extras = activity_extras(call, args[2] if len(args) == 3 else None)
        typing = "user-typing" in activities
    room = get_room(rid)
    if not can_read_room(user, room):
        raise errors.not_allowed()
    events.room_activity(
        room_id=rid,
        event="user-activity",
        args=[user.username, activities, extras],
        origin=call.conn_id,
    )
    if typing or not activities:  # as Rocket.Chat: recording or uploading alone is not typing
        events.room_activity(
            room_id=rid, event="typing", args=[user.username, typing], origin=call.conn_id
        )


# --- streams --------------------------------------------------------------------------------


def readable_room(call: Call, rid: str) -> str:
    user = signed_in(call)
    try:
        room = get_room(rid)
    except ApiError:
        raise refuse() from None
    if not can_read_room(user, room):
        raise refuse()
    return room.pk


def room_messages(call: Call, event_name: str) -> Grant:
    """`<rid>`: the room's new and edited messages, for whoever may read it.
    `__my_messages__`: those of every room the user is a member of."""
    if event_name == MY_MESSAGES:
        return Grant(my_rooms=member_room_ids(signed_in(call)))
    return Grant(room=readable_room(call, event_name))


ROOM_EVENTS = ("deleteMessage", "deleteMessageBulk", "typing", "user-activity")


def notify_room(call: Call, event_name: str) -> Grant:
    """`<rid>/deleteMessage`, `<rid>/deleteMessageBulk`, `<rid>/typing`, `<rid>/user-activity`
    of a readable room."""
    rid, _, event = event_name.rpartition("/")
    if not rid or event not in ROOM_EVENTS:
        raise refuse()
    return Grant(room=readable_room(call, rid))


def register() -> None:
    """Adds the rooms app's methods and stream rules to the realtime transport
    (RoomsConfig.ready())."""
    # A method that does what a REST route does spends that route's budget too (the REST sends,
    # chat.sendMessage, chat.postMessage and 0.1's, share RATELIMIT_RATE unless one is named in
    # RATELIMIT_RATES).
    methods.register(
        "sendMessage", send_message_method, rate="REALTIME_SEND_RATE", route="chat.sendMessage"
    )
    methods.register("stream-notify-room", notify_room_method)
    methods.register("updateMessage", update_message, route="chat.update")
    methods.register("deleteMessage", delete_message_method, route="chat.delete")
    methods.register("loadHistory", load_history)
    methods.register("joinRoom", join_room_method, route="channels.join")
    methods.register("leaveRoom", leave_room_method, route="channels.leave")
    methods.register("createChannel", create_channel, route="channels.create")
    methods.register("createPrivateGroup", create_private_group, route="groups.create")
    methods.register("createDirectMessage", create_direct_message, route="dm.create")
    methods.register("getRoomRoles", get_room_roles)
    methods.register("getUsersOfRoom", get_users_of_room)
    methods.register("rooms/get", rooms_get, route="rooms.get")
    methods.register("getRoomByTypeAndName", get_room_by_type_and_name)
    methods.register("readMessages", read_messages, route="subscriptions.read")
    methods.register("hideRoom", hide_room_method, route="channels.close")
    methods.register("openRoom", open_room_method, route="channels.open")
    methods.register("toggleFavorite", toggle_favorite, route="rooms.favorite")
    methods.register("loadMissedMessages", load_missed_messages)
    methods.register("subscriptions/get", subscriptions_get, route="subscriptions.get")
    methods.register("public-settings/get", public_settings_get, login=False)
    streams.register(ROOM_MESSAGES, room_messages)
    streams.register(NOTIFY_ROOM, notify_room)
