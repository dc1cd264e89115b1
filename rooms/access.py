"""Who may see and write in a room. The only way a view gets a room."""

from __future__ import annotations

import re

from accounts.models import User
from chat_project.errors import CannotAccessRoom, RoomArchived, RoomNotFound
from rooms.models import Room, Subscription

# Room ids are Meteor ids, "GENERAL", or two of them side by side; anything else names no room
# and is refused before it reaches the database (NUL bytes and the like included).
ROOM_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{1,34}$")


def get_room(room_id: str) -> Room:
    """The room with this id. Raises RoomNotFound."""
    if not ROOM_ID_SHAPE.match(room_id):
        raise RoomNotFound()
    try:
        return Room.objects.get(pk=room_id)
    except Room.DoesNotExist:
        raise RoomNotFound() from None


def access_room(user: User, room_id: str, *, for_write: bool = False) -> Room:
    """The room, if `user` may read it (or, with for_write, post in it).

    Reading: members, and any signed-in user for a public channel. Posting: members only; an
    archived room takes no messages, and a read-only one only its owners'. Raises RoomNotFound,
    CannotAccessRoom or RoomArchived.
    """
    room = get_room(room_id)
    if not for_write and room.t == Room.Type.CHANNEL:
        return room
    subscription = (
        Subscription.objects.filter(room=room, user=user).only("roles").order_by().first()
    )
    if for_write:
        if subscription is None:
            raise CannotAccessRoom("You must join the room to post in it.")
        if room.archived:
            raise RoomArchived()
        if room.read_only and "owner" not in subscription.roles:
            raise CannotAccessRoom("This room is read-only.")
    elif subscription is None:
        raise CannotAccessRoom()
    return room
