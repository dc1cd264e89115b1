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
    `users_count` annotated (rooms.selectors.with_member_counts) and the creator fetched."""
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
