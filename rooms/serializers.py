"""Rooms and messages in the shapes Rocket.Chat clients read. They never query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accounts.models import User
from accounts.serializers import user_brief
from chat_project.db.timestamps import epoch_ms, iso_ms
from rooms.models import Message, Room, Subscription

if TYPE_CHECKING:
    from rooms.selectors import ShownMessage


def room_json(room: Room, usernames: list[str]) -> dict[str, Any]:
    """The 0.1 room: `u` only when the room has a creator, `lm` only once it has messages."""
    body: dict[str, Any] = {
        "_id": room.pk,
        "name": room.name,
        "t": room.t,
        "usernames": usernames,
        "msgs": room.msgs,
        "ts": iso_ms(room.ts),
    }
    if room.lm is not None:
        body["lm"] = iso_ms(room.lm)
    if room.creator is not None:
        body["u"] = {"_id": room.creator.pk, "username": room.creator.username}
    body |= {
        "default": room.is_default,
        "ro": room.read_only,
        "archived": room.archived,
        "topic": room.topic,
        "_updatedAt": iso_ms(room.updated_at),
    }
    return body


def message_json(message: Message | ShownMessage) -> dict[str, Any]:
    """A message as Rocket.Chat shows it, 0.1 and v1 alike. Rocket.Chat's optional fields appear
    only when they apply: alias, emoji, avatar, groupable and attachments when given, editedAt and
    editedBy once edited. Fetch `author` and `edited_by` with the message (select_related)."""
    author = message.author
    ts = iso_ms(message.ts)
    body: dict[str, Any] = {
        "_id": message.pk,
        "rid": message.room_id,
        "msg": message.msg,
        "ts": ts,
        # A message whose author's account was deleted keeps the shape, with nulls.
        "u": {
            "_id": author.pk if author else None,
            "username": author.username if author else None,
            "name": author.name if author else None,
        },
        # Until an edit, the same time (and then the same text, written once).
        "_updatedAt": ts if message.updated_at == message.ts else iso_ms(message.updated_at),
    }
    for key in ("alias", "emoji", "avatar"):
        if getattr(message, key):
            body[key] = getattr(message, key)
    if message.groupable is not None:
        body["groupable"] = message.groupable
    if message.attachments:
        body["attachments"] = message.attachments
    if message.edited_at is not None:
        editor = message.edited_by
        body["editedAt"] = iso_ms(message.edited_at)
        body["editedBy"] = {
            "_id": editor.pk if editor else None,
            "username": editor.username if editor else None,
        }
    return body


def room_v1_json(room: Room) -> dict[str, Any]:
    """A room as Rocket.Chat's v1 answers show it (channels.info, groups.info...). Expects
    `users_count` annotated (rooms.selectors.with_member_counts) and the creator fetched. A
    direct room has its own shape (direct_room_json)."""
    if room.t == Room.Type.DIRECT:
        return direct_room_json(room)
    body: dict[str, Any] = {
        "_id": room.pk,
        "name": room.name,
        "fname": room.name,
        "t": room.t,
        "msgs": room.msgs,
        "usersCount": getattr(room, "users_count", 0),
        "ts": iso_ms(room.ts),
        "ro": room.read_only,
        "default": room.is_default,
        "sysMes": True,
        "archived": room.archived,
        "topic": room.topic,
        "description": room.description,
        "announcement": room.announcement,
        "_updatedAt": iso_ms(room.updated_at),
    }
    if room.creator is not None:
        body["u"] = {"_id": room.creator.pk, "username": room.creator.username}
    if room.lm is not None:
        body["lm"] = iso_ms(room.lm)
    # Rocket.Chat's optional fields, present once set; the join code itself is never shown.
    if room.custom_fields:
        body["customFields"] = room.custom_fields
    if room.join_code:
        body["joinCodeRequired"] = True
    return body


def direct_room_json(room: Room) -> dict[str, Any]:
    """A direct room as Rocket.Chat's IRoom of type "d": no name (each member's subscription
    names it), its members' `usernames` (by display name) and `uids` (sorted) when fetched with
    it (`direct_members`: rooms.selectors.with_direct_members), `topic` once set."""
    body: dict[str, Any] = {"_id": room.pk, "t": room.t}
    members = getattr(room, "direct_members", None)
    if members is not None:
        body["usernames"] = [user.username for user in members]
        body["uids"] = sorted(user.pk for user in members)
    body |= {
        "usersCount": getattr(room, "users_count", 0),
        "msgs": room.msgs,
        "ts": iso_ms(room.ts),
        "ro": False,
        "default": False,
        "sysMes": True,
        "_updatedAt": iso_ms(room.updated_at),
    }
    if room.lm is not None:
        body["lm"] = iso_ms(room.lm)
    if room.topic:
        body["topic"] = room.topic
    return body


def message_ddp_json(message: Message | ShownMessage) -> dict[str, Any]:
    """message_json as the realtime API sends it: the same fields, dates as EJSON $date."""
    body = message_json(message)
    body["ts"] = {"$date": epoch_ms(message.ts)}
    body["_updatedAt"] = {"$date": epoch_ms(message.updated_at)}
    if message.edited_at is not None:
        body["editedAt"] = {"$date": epoch_ms(message.edited_at)}
    return body


def member_json(user: User, *, status: str = "offline") -> dict[str, Any]:
    """A room member as channels.members and getUsersOfRoom list them; `status` is their
    presence (offline until the caller looks it up)."""
    return user_brief(user) | {"status": status}


def room_role_json(membership: Subscription) -> dict[str, Any]:
    """A member holding room roles, as channels.roles and getRoomRoles list them. Fetch the
    user and prefetch the roles (rooms.selectors.room_role_holders does)."""
    return {
        "rid": membership.room_id,
        "u": user_brief(membership.user),
        "roles": sorted(role.pk for role in membership.roles.all()),
    }


def subscription_state(subscription: Subscription) -> dict[str, Any]:
    """What a subscription shows that depends on its room's counters, derived, never stored:
    unread (the room's messages since the last read, rooms.models.Subscription.read_msgs),
    alert (anything unread or a mention), and open (not hidden, or a message came since it was
    hidden: Rocket.Chat reopens a hidden room on a new message). Fetch the room with it."""
    room = subscription.room
    unread = max(room.msgs - subscription.read_msgs, 0)
    closed_at = subscription.closed_at
    return {
        "unread": unread,
        "alert": bool(unread or subscription.user_mentions or subscription.group_mentions),
        "open": closed_at is None or (room.lm is not None and room.lm > closed_at),
        "updated_at": max(subscription.updated_at, room.updated_at),
    }


def subscription_names(subscription: Subscription) -> tuple[str, str]:
    """(name, fname) a subscription shows: its own where set (a direct conversation, named
    after the other member by whoever creates it), else its room's."""
    room = subscription.room
    if subscription.name:
        return subscription.name, subscription.fname or subscription.name
    return room.name, room.name


def subscription_fields(subscription: Subscription, username: str) -> dict[str, Any]:
    """A subscription as Rocket.Chat's ISubscription, dates left as datetimes for the caller to
    write (ISO for REST, EJSON for realtime). `_id` is the room's id and the user's side by side,
    stable, so a removal names what was listed. Fetch the room and prefetch the roles."""
    room = subscription.room
    state = subscription_state(subscription)
    name, fname = subscription_names(subscription)
    body: dict[str, Any] = {
        "_id": f"{room.pk}{subscription.user_id}",
        "rid": room.pk,
        "u": {"_id": subscription.user_id, "username": username},
        "name": name,
        "fname": fname,
        "t": room.t,
        "ts": subscription.ts,
        "ls": subscription.ls,
        "unread": state["unread"],
        "userMentions": subscription.user_mentions,
        "groupMentions": subscription.group_mentions,
        "alert": state["alert"],
        "open": state["open"],
        "f": subscription.f,
        "roles": sorted(role_names(subscription)),
        "_updatedAt": state["updated_at"],
    }
    if subscription.lr is not None:  # Rocket.Chat's: only once they have replied in a thread
        body["lr"] = subscription.lr
    body["archived"] = room.archived
    return body


def role_names(subscription: Subscription) -> list[str]:
    """The room roles a subscription holds: as given to one not read back
    (rooms.notify.joined_subscription), else prefetched."""
    given = getattr(subscription, "role_names", None)
    if given is not None:
        return list(given)
    return [role.pk for role in subscription.roles.all()]


SUBSCRIPTION_DATES = ("ts", "ls", "lr", "_updatedAt")


def subscription_json(subscription: Subscription, username: str) -> dict[str, Any]:
    """subscription_fields as v1 answers carry it (subscriptions.get, subscriptions.getOne)."""
    body = subscription_fields(subscription, username)
    for key in SUBSCRIPTION_DATES:
        if key in body:
            body[key] = iso_ms(body[key])
    return body


def subscription_ddp_json(subscription: Subscription, username: str) -> dict[str, Any]:
    """subscription_fields as the realtime API carries it (subscriptions/get,
    subscriptions-changed): dates as EJSON."""
    body = subscription_fields(subscription, username)
    for key in SUBSCRIPTION_DATES:
        if key in body:
            body[key] = {"$date": epoch_ms(body[key])}
    return body


def room_counters(
    room: Room, subscription: Subscription | None, *, visible: bool
) -> dict[str, Any]:
    """channels.counters', groups.counters' and dm.counters' answer, as Rocket.Chat's: a
    subscription counts only while open (its `joined` too); `visible` (a member, or a holder
    of view-room-administration) shows the room's own counts. `room` with `users_count`;
    `subscription` fetched with its room. No query: the counts are counters."""
    joined = False
    unreads = unreads_from = user_mentions = None
    if subscription is not None:
        state = subscription_state(subscription)
        if state["open"]:
            joined = True
            unreads = state["unread"]
            unreads_from = iso_ms(subscription.ls or subscription.ts)
            user_mentions = subscription.user_mentions
    shown = visible or joined
    return {
        "joined": joined,
        "members": getattr(room, "users_count", 0) if shown else None,
        "unreads": unreads,
        "unreadsFrom": unreads_from,
        "msgs": room.msgs if shown else None,
        "latest": iso_ms(room.lm or room.updated_at) if shown else None,
        "userMentions": user_mentions,
    }
