"""Every change to rooms, memberships and messages goes through these functions."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from chat_project.errors import (
    CannotAccessRoom,
    InvalidParams,
    MessageTooLong,
    NotInRoom,
    RoomArchived,
)
from chat_project.timestamps import ONE_MS, now_ms
from rooms.models import Message, Room, Subscription


def join_room(*, user: User, room: Room) -> None:
    """Makes `user` a member of the public channel `room`; joining twice changes nothing.

    Raises CannotAccessRoom for anything but a public channel, RoomArchived for an archived one.
    """
    if room.t != Room.Type.CHANNEL:
        raise CannotAccessRoom("Only public channels can be joined.")
    if room.archived:
        raise RoomArchived()
    # get_or_create inserts inside a savepoint and, when a racing request won, reads its row:
    # the unique constraint decides, so two joins at once still leave one membership.
    Subscription.objects.get_or_create(room=room, user=user)


def join_default_rooms(*, user: User) -> None:
    """Makes a new user a member of every default room."""
    now = timezone.now()
    Subscription.objects.bulk_create(
        [
            Subscription(room=room, user=user, ts=now)
            for room in Room.objects.filter(is_default=True)
        ],
        ignore_conflicts=True,
    )


def leave_room(*, user: User, room: Room) -> None:
    """Ends `user`'s membership of `room`. Raises NotInRoom if they were not a member."""
    deleted, _ = Subscription.objects.filter(room=room, user=user).delete()
    if not deleted:
        raise NotInRoom()


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
