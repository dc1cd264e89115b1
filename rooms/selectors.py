"""Reads of rooms and messages. Each function fixes its query count, whatever the data size."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from rooms.models import Message, Room, Subscription


def public_rooms() -> list[tuple[Room, list[str]]]:
    """Every public channel, most messages first, with its members' usernames. Two queries."""
    return with_members(Room.objects.filter(t=Room.Type.CHANNEL).order_by("-msgs", "name"))


def joined_rooms(user: User) -> list[tuple[Room, list[str]]]:
    """The rooms `user` is a member of, of any type, by name, with members. Two queries."""
    return with_members(Room.objects.filter(subscriptions__user=user).order_by("name"))


def with_members(rooms: QuerySet[Room]) -> list[tuple[Room, list[str]]]:
    """Each room (and its creator) paired with its members' usernames in alphabetical order."""
    fetched = list(rooms.select_related("creator"))
    members: dict[str, list[str]] = defaultdict(list)
    for room_id, username in (
        Subscription.objects.filter(room__in=rooms.values("pk"))
        .order_by("user__username")
        .values_list("room_id", "user__username")
    ):
        members[room_id].append(username)
    return [(room, members[room.pk]) for room in fetched]


# What a message's JSON needs of its author and editor: not their password hashes and the rest.
PERSON_FIELDS = ("id", "username", "name")


def messages_to_show() -> QuerySet[Message]:
    """Messages with their author and editor fetched in the same query, and only the columns
    rooms.serializers.message_json reads: no password hashes carried along, and about a tenth
    less time per page of 50 (in-process, against the benchmark's 1M-message room)."""
    return Message.objects.select_related("author", "edited_by").only(
        *(f.name for f in Message._meta.concrete_fields if f.name not in {"author", "edited_by"}),
        *(f"author__{name}" for name in PERSON_FIELDS),
        *(f"edited_by__{name}" for name in PERSON_FIELDS),
    )


def room_history(
    room: Room, *, count: int, latest: datetime | None = None, oldest: datetime | None = None
) -> list[Message]:
    """Up to `count` messages of `room`, newest first. One query, an index range scan.

    `latest` and `oldest` are exclusive bounds. With `latest` (or neither) the page is the newest
    messages before it, for paging back; with `oldest` alone it is the first messages after it,
    for paging forward, so a client following either way never skips a message.
    """
    messages = messages_to_show().filter(room=room)
    if latest is not None:
        messages = messages.filter(ts__lt=latest)
    if oldest is not None:
        messages = messages.filter(ts__gt=oldest)
    if oldest is not None and latest is None:
        return list(messages.order_by("ts")[:count])[::-1]
    return list(messages.order_by("-ts")[:count])


def with_member_counts(rooms: QuerySet[Room]) -> QuerySet[Room]:
    """Rooms with their creator and `users_count` (their number of members), in one query."""
    return rooms.select_related("creator").annotate(users_count=Count("subscriptions"))


def room_members(room: Room) -> QuerySet[User]:
    return User.objects.filter(subscriptions__room=room)


def channel_history(
    room: Room,
    *,
    latest: datetime | None,
    oldest: datetime | None,
    inclusive: bool,
    offset: int,
    count: int,
) -> list[Message]:
    """v1's channels.history: messages between `oldest` and `latest` (exclusive unless
    `inclusive`), newest first, `offset` of them skipped. One query."""
    messages = messages_to_show().filter(room=room)
    if latest is not None:
        messages = messages.filter(ts__lte=latest) if inclusive else messages.filter(ts__lt=latest)
    if oldest is not None:
        messages = messages.filter(ts__gte=oldest) if inclusive else messages.filter(ts__gt=oldest)
    return list(messages.order_by("-ts")[offset : offset + count])


# Message ids are Meteor ids, or (chat.sendMessage) a client's own of at most 32 letters and digits.
MESSAGE_ID_SHAPE = re.compile(r"[0-9A-Za-z]{1,32}")


def message_by_id(message_id: str) -> Message | None:
    """The message with this id, fetched with its room, author and editor. One query, none for
    an id no message can have (NUL bytes and the like never reach the database)."""
    if not MESSAGE_ID_SHAPE.fullmatch(message_id):
        return None
    return (
        Message.objects.select_related("room", "author", "edited_by").filter(pk=message_id).first()
    )


def room_by_id_or_name(value: str) -> Room | None:
    """Rocket.Chat's findOneByIdOrName: the room with this id, else the one with this name
    (regardless of case, as names are unique). At most two queries."""
    if not value or len(value) > 64 or "\x00" in value:
        return None
    room = Room.objects.filter(pk=value).first()
    if room is None:
        room = Room.objects.alias(lower=Lower("name")).filter(lower=value.lower()).first()
    return room
