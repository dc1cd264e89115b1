"""Direct conversations: the services that create, find and change them (dm.*, im.*,
createDirectMessage, chat.postMessage to "@username"), with Rocket.Chat's rules.

A direct room ("d") has no name: each member's subscription names it after the others (their
usernames, ", "-separated; oneself in a conversation with oneself). A conversation of two has
Rocket.Chat's id, the two user ids sorted and side by side; every direct room carries its
members' key (Room.members_key), unique, so that two creates at once find one room.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from accounts.models import User
from accounts.site_settings import direct_message_max_users, direct_messages_to_oneself
from chat_project.db.ids import random_id
from chat_project.db.timestamps import ONE_MS, now_ms
from chat_project.http.errors import InvalidParams, missing_permission_words
from permissions.checks import has_permission
from rooms import notify
from rooms.access import forget_membership
from rooms.models import Room, Subscription
from rooms.selectors import by_display_name

INVALID_USER = "Invalid user"  # Rocket.Chat's words, whatever is wrong with the user


def members_key(user_ids: list[str]) -> str:
    """A direct room's key: its members' ids, sorted, hashed (any number fits the column)."""
    return hashlib.sha256(",".join(sorted(set(user_ids))).encode()).hexdigest()


def direct_room_id(user_ids: list[str]) -> str:
    """Rocket.Chat's id: the two ids sorted and side by side; a random one otherwise."""
    ids = sorted(set(user_ids))
    return "".join(ids) if len(ids) == 2 else random_id()


def subscription_names(member: User, members: list[User]) -> tuple[str, str]:
    """(name, fname) of `member`'s subscription: the others' usernames and names, or their own
    in a conversation with oneself (as Rocket.Chat's createDirectRoom)."""
    others = [u for u in by_display_name(members) if u.pk != member.pk] or [member]
    return (
        ", ".join(u.username for u in others),
        ", ".join(u.name or u.username for u in others),
    )


def direct_room_members(usernames: list[str], *, me: User, exclude_self: bool) -> list[User]:
    """The members a create names, checked as Rocket.Chat's createDirectMessage: each an active
    user, oneself only while Message_AllowDirectMessagesToYourself is on, at most
    DirectMesssage_maxUsers of them. Raises InvalidParams. One query."""
    wanted = [name.strip() for name in usernames]
    if not wanted or not all(wanted):
        raise InvalidParams(INVALID_USER, error_type="error-invalid-user")
    if (
        not direct_messages_to_oneself()
        and len(wanted) == 1
        and wanted[0].lower() == me.username.lower()
    ):
        raise InvalidParams(
            INVALID_USER,
            error_type="error-invalid-user",
            detailed_error="Message_AllowDirectMessagesToYourself is off.",
        )
    others = {name.lower() for name in wanted} - {me.username.lower()}
    found: list[User] = list(
        User.objects.alias(lower=Lower("username")).filter(lower__in=others, is_active=True)
    )
    missing = others - {u.username.lower() for u in found}
    if missing:
        raise InvalidParams(
            INVALID_USER,
            error_type="error-invalid-user",
            detailed_error=f"No active user named '{sorted(missing)[0]}'.",
        )
    members = found if exclude_self else [me, *found]
    if not members or (len(members) == 1 and members[0].pk != me.pk):
        raise InvalidParams(INVALID_USER, error_type="error-invalid-user")
    most = direct_message_max_users()
    if len(members) > most:
        raise InvalidParams(
            f"You cannot add more than {most} users, including yourself to a direct message",
            error_type="error-direct-message-max-user-exceeded",
        )
    return members


def find_direct_room(members: list[User]) -> Room | None:
    return Room.objects.filter(members_key=members_key([u.pk for u in members])).first()


def create_direct_room(
    *, creator: User, usernames: list[str], exclude_self: bool = False
) -> tuple[Room, list[User]]:
    """The direct room of `creator` (unless `exclude_self`) and the users named, made if it
    does not exist yet, with its members (by display name). Needs create-d; without it, a
    holder of view-d-room still gets a conversation that exists (Rocket.Chat's rule). An
    existing one the creator had hidden shows again in their sidebar.

    New, each member gets a subscription named after the others; in a conversation of two the
    other's starts hidden until the first message (Rocket.Chat's `open: false`). Two creates at
    once make one room: the unique key decides, and the loser reads the winner's room.
    Raises InvalidParams (error-invalid-user, error-not-allowed,
    error-direct-message-max-user-exceeded)."""
    members = direct_room_members(usernames, me=creator, exclude_self=exclude_self)
    if not has_permission(creator, "create-d"):
        existing = find_direct_room(members) if has_permission(creator, "view-d-room") else None
        if existing is None:
            raise InvalidParams(
                "Not allowed",
                error_type="error-not-allowed",
                detailed_error=missing_permission_words(["create-d"]),
            )
        return existing, by_display_name(members)
    key = members_key([u.pk for u in members])
    with transaction.atomic(durable=True):
        room = Room.objects.filter(members_key=key).first()
        if room is None:
            try:
                with transaction.atomic():
                    room = insert_direct_room(creator=creator, members=members, key=key)
            except IntegrityError:
                room = Room.objects.filter(members_key=key).first()
                if room is None:
                    raise
        else:
            reopened = Subscription.objects.filter(
                room=room, user=creator, closed_at__isnull=False
            ).update(closed_at=None, updated_at=now_ms())
            if reopened:
                notify.subscription_changed(user=creator, room_id=room.pk)
    return room, by_display_name(members)


def insert_direct_room(*, creator: User, members: list[User], key: str) -> Room:
    """create_direct_room's writes: the room and its members' subscriptions, and what their
    sockets hear (rooms-changed and subscriptions-changed "inserted"). Two inserts."""
    now = now_ms()
    room = Room.objects.create(
        id=direct_room_id([u.pk for u in members]),
        t=Room.Type.DIRECT,
        name="",
        creator=creator,
        members_key=key,
        ts=now,
    )
    hidden_until_a_message: datetime | None = now - ONE_MS if len(members) == 2 else None
    subscriptions = []
    for member in members:
        name, fname = subscription_names(member, members)
        subscriptions.append(
            Subscription(
                room=room,
                user=member,
                ts=now,
                ls=now,
                updated_at=now,
                name=name,
                fname=fname,
                closed_at=None if member.pk == creator.pk else hidden_until_a_message,
            )
        )
    Subscription.objects.bulk_create(subscriptions)
    room.users_count = len(members)  # type: ignore[attr-defined]
    room.direct_members = by_display_name(members)  # type: ignore[attr-defined]
    forget_membership(room)
    notify.direct_room_created(room, subscriptions)
    return room


def set_direct_topic(*, room: Room, topic: str) -> None:
    """dm.setTopic: any member may set a conversation's topic (it has no owner). `room` is one
    the caller is a member of."""
    if "\x00" in topic:
        raise InvalidParams("Null characters are not allowed.")
    limit = int(getattr(Room._meta.get_field("topic"), "max_length", 0))
    if len(topic) > limit:
        raise InvalidParams(f"topic: at most {limit} characters.")
    with transaction.atomic(durable=True):
        now = now_ms()
        Room.objects.filter(pk=room.pk).update(topic=topic, updated_at=now)
        room.topic, room.updated_at = topic, now
        notify.room_changed(room)
