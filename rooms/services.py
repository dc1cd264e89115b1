"""Every change to rooms, memberships and messages goes through these functions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from chat_project.errors import (
    CannotAccessRoom,
    Forbidden,
    InvalidParams,
    LastOwner,
    MessageTooLong,
    NotInRoom,
    RoomArchived,
    bulk_record_error,
)
from chat_project.timestamps import ONE_MS, now_ms
from permissions.checks import has_permission
from rooms.models import Message, Room, Subscription

OWNER = "owner"  # the room role of a room's creator
DUPLICATE_NAME = "error-duplicate-channel-name"


def join_room(*, user: User, room: Room) -> None:
    """Makes `user` a member of the public channel `room`; joining twice changes nothing.

    Raises CannotAccessRoom for anything but a public channel (or without view-c-room),
    RoomArchived for an archived one.
    """
    if room.t != Room.Type.CHANNEL:
        raise CannotAccessRoom("Only public channels can be joined.")
    if not has_permission(user, "view-c-room"):
        raise CannotAccessRoom()
    if room.archived:
        raise RoomArchived()
    # get_or_create inserts inside a savepoint and, when a racing request won, reads its row:
    # the unique constraint decides, so two joins at once still leave one membership.
    Subscription.objects.get_or_create(room=room, user=user)


def join_default_rooms(*, users: list[User]) -> None:
    """Makes new users members of every default room. Two queries, however many users."""
    now = timezone.now()
    Subscription.objects.bulk_create(
        [
            Subscription(room_id=room_id, user=user, ts=now)
            for room_id in Room.objects.filter(is_default=True).values_list("pk", flat=True)
            for user in users
        ],
        ignore_conflicts=True,
    )


def leave_room(*, user: User, room: Room) -> None:
    """Ends `user`'s membership of `room`.

    Raises NotInRoom if they were not a member, Forbidden without leave-c / leave-p, and
    LastOwner when they own the room alone and others remain (someone must be able to run it).
    """
    if not has_permission(user, "leave-c" if room.t == Room.Type.CHANNEL else "leave-p", room):
        raise Forbidden()
    with transaction.atomic():
        # Locking the room makes two owners leaving at once take turns, so one of them stays.
        list(Room.objects.select_for_update().filter(pk=room.pk).values_list("pk"))
        mine = Subscription.objects.filter(room=room, user=user).first()
        if mine is None:
            raise NotInRoom()
        others = Subscription.objects.filter(room=room).exclude(pk=mine.pk)
        if (
            mine.roles.filter(pk=OWNER).exists()
            and others.exists()
            and not others.filter(roles=OWNER).exists()
        ):
            raise LastOwner()
        mine.delete()


def archive_room(*, user: User, room: Room) -> None:
    """Archives `room`: it then refuses joins and messages. Needs archive-room (held by admins
    and the room's owners). Archiving twice changes nothing."""
    if not has_permission(user, "archive-room", room):
        raise Forbidden()
    set_archived(room, archived=True)


def unarchive_room(*, user: User, room: Room) -> None:
    """Undoes archive_room. Needs unarchive-room."""
    if not has_permission(user, "unarchive-room", room):
        raise Forbidden()
    set_archived(room, archived=False)


def set_archived(room: Room, *, archived: bool) -> None:
    now = timezone.now()
    Room.objects.filter(pk=room.pk).update(archived=archived, updated_at=now)
    room.archived, room.updated_at = archived, now


def create_rooms(*, creator: User, records: Any) -> list[Room]:
    """bulk/createRoom: rooms from `{"name", "members": [usernames], "private": false}` records,
    all or none, the caller as creator and owner of each, the members subscribed.

    The whole batch is checked first (shape, name rules, names unused and unique in the batch,
    every member exists; create-p for private ones), then written in bulk in one transaction.
    Raises InvalidParams naming the first bad record, or Forbidden.
    """
    if not isinstance(records, list):
        raise InvalidParams("rooms must be a list of {name, members} records.")
    if len(records) > settings.BULK_MAX:
        raise InvalidParams(f"At most {settings.BULK_MAX} records per batch, not {len(records)}.")
    rooms = [room_from_record(index, record, creator) for index, record in enumerate(records)]
    if any(room.t == Room.Type.GROUP for room in rooms) and not has_permission(creator, "create-p"):
        raise Forbidden()
    check_names_unused(rooms)
    members = members_by_record(records)
    try:
        with transaction.atomic():
            Room.objects.bulk_create(rooms)
            Subscription.objects.bulk_create(
                [
                    Subscription(room=room, user_id=user_id)
                    for room, user_ids in zip(rooms, members, strict=True)
                    for user_id in {creator.pk, *user_ids}
                ]
            )
            owned = Subscription.objects.filter(user=creator, room__in=[r.pk for r in rooms])
            Subscription.roles.through.objects.bulk_create(
                [
                    Subscription.roles.through(subscription_id=pk, role_id=OWNER)
                    for pk in owned.values_list("pk", flat=True)
                ]
            )
    except IntegrityError:
        raise InvalidParams(
            "A room name of this batch was taken meanwhile; nothing was created.",
            error_type=DUPLICATE_NAME,
        ) from None
    return rooms


def room_from_record(index: int, record: Any, creator: User) -> Room:
    """An unsaved room from one bulk/createRoom record, checked on its own."""
    if not isinstance(record, dict):
        raise bulk_record_error(index, "expected an object with name and members.")
    name, members, private = (
        record.get("name"),
        record.get("members", []),
        record.get("private", False),
    )
    if not isinstance(name, str) or not name:
        raise bulk_record_error(index, "name: a non-empty string is required.")
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise bulk_record_error(index, "members: a list of usernames is required.")
    if not isinstance(private, bool):
        raise bulk_record_error(index, "private: true or false is required.")
    room = Room(name=name, t=Room.Type.GROUP if private else Room.Type.CHANNEL, creator=creator)
    try:
        room.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        problem = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise bulk_record_error(index, problem, error_type="error-invalid-room-name") from None
    return room


def check_names_unused(rooms: list[Room]) -> None:
    """Raises for the first room whose name repeats an earlier one of the batch or exists."""
    names = [room.name.lower() for room in rooms]
    taken = set(
        Room.objects.alias(lower=Lower("name"))
        .filter(lower__in=names)
        .annotate(taken=Lower("name"))
        .values_list("taken", flat=True)
    )
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in taken:
            raise bulk_record_error(
                index,
                f"name: a room named '{name}' already exists.",
                error_type="error-duplicate-channel-name",
            )
        if name in first:
            raise bulk_record_error(
                index,
                f"name: repeats record #{first[name]}.",
                error_type="error-duplicate-channel-name",
            )
        first[name] = index


def members_by_record(records: list[dict[str, Any]]) -> list[set[str]]:
    """The user ids of each record's members. Raises for the first unknown username. One query."""
    wanted = {m.lower() for record in records for m in record.get("members", [])}
    found = dict(
        User.objects.alias(lower=Lower("username"))
        .filter(lower__in=wanted)
        .annotate(key=Lower("username"))
        .values_list("key", "pk")
    )
    members = []
    for index, record in enumerate(records):
        ids = set()
        for username in record.get("members", []):
            if username.lower() not in found:
                raise bulk_record_error(
                    index,
                    f"members: user '{username}' does not exist.",
                    error_type="error-invalid-user",
                )
            ids.add(found[username.lower()])
        members.append(ids)
    return members


def check_message_text(text: str) -> str:
    """The text of a new message, or InvalidParams / MessageTooLong saying what is wrong."""
    if not text.strip():
        raise InvalidParams("The message is empty.")
    if len(text) > settings.MESSAGE_MAX_LENGTH:
        raise MessageTooLong(
            f"Message size exceeds the allowed {settings.MESSAGE_MAX_LENGTH} characters."
        )
    return text


def send_message(*, user: User, room: Room, text: str) -> Message:
    """Stores a message by `user` in `room` (access already checked) and counts it.

    The room's row lock orders concurrent senders: each message gets a time later than the
    room's last one (the next millisecond if the clock has not moved on), and the message, `msgs`
    and `lm` are written in one transaction, so nothing is lost or double-counted.
    """
    check_message_text(text)
    with transaction.atomic():
        last = Room.objects.select_for_update().values_list("lm", flat=True).get(pk=room.pk)
        ts = now_ms()
        if last is not None and ts <= last:
            ts = last + ONE_MS
        message = Message.objects.create(room=room, author=user, msg=text, ts=ts)
        Room.objects.filter(pk=room.pk).update(msgs=F("msgs") + 1, lm=ts, updated_at=ts)
    return message
