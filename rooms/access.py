"""Who may see and write in a room. The only way a view gets a room."""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from chat_project import access_cache
from chat_project.http.errors import (
    CannotAccessRoom,
    MessageNotFound,
    NotAMember,
    ReadOnlyRoom,
    RoomArchived,
    RoomNotFound,
    missing_permission_words,
)
from permissions.checks import has_permission
from rooms.models import Message, Room, Subscription
from rooms.selectors import message_by_id, with_member_counts

# Room ids are Meteor ids, "GENERAL", or two of them side by side; anything else names no room
# and is refused before it reaches the database (NUL bytes and the like included).
ROOM_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{1,34}$")
# Rocket.Chat's words when a message named with a room id is not in that room.
ROOM_MISMATCH = "The room id provided does not match where the message is from."


def get_room(room_id: str, *, viewer: User | None = None) -> Room:
    """The room with this id. Raises RoomNotFound. With a `viewer`, whether they are a member
    comes in the same query, and is_member answers it without asking again; both are kept in
    the access cache, all but the room's counters."""
    if not ROOM_ID_SHAPE.match(room_id):
        raise RoomNotFound()
    if viewer is None:
        try:
            return Room.objects.get(pk=room_id)
        except Room.DoesNotExist:
            raise RoomNotFound() from None
    key = ("room", room_id, viewer.pk)
    kept = access_cache.get(key)
    if kept is not None:
        # The counters, which every send moves on, are never kept: read when asked.
        room = access_cache.rebuild(Room, kept[0], leave_out=Room.COUNTERS)
        room.viewer_is_member = kept[1]  # type: ignore[attr-defined]
        return remember_membership(room, viewer)
    read_under = access_cache.generation()
    try:
        room = with_membership(Room.objects.all(), viewer).get(pk=room_id)
    except Room.DoesNotExist:
        raise RoomNotFound() from None
    snapshot = (access_cache.snapshot(room, leave_out=Room.COUNTERS), room.viewer_is_member)  # type: ignore[attr-defined]
    access_cache.remember(key, snapshot, read_under)
    return remember_membership(room, viewer)


def with_membership(rooms: QuerySet[Room], viewer: User) -> QuerySet[Room]:
    """`rooms` with whether `viewer` is a member of each, in the same query."""
    membership = Subscription.objects.filter(room=OuterRef("pk"), user=viewer)
    return rooms.annotate(viewer_is_member=Exists(membership))


def remember_membership(room: Room, viewer: User | None) -> Room:
    """Makes is_member answer from with_membership's annotation instead of asking again."""
    if viewer is not None and hasattr(room, "viewer_is_member"):
        room.known_membership = (viewer.pk, room.viewer_is_member)  # type: ignore[attr-defined]
    return room


def is_member(user: User, room: Room) -> bool:
    known = known_membership(user, room)
    if known is not None:
        return known
    return Subscription.objects.filter(room=room, user=user).exists()


def known_membership(user: User, room: Room) -> bool | None:
    """Whether `user` is a member, as fetched with the room (get_room's viewer), or None."""
    known = getattr(room, "known_membership", None)
    if known is not None and known[0] == user.pk:
        return bool(known[1])
    return None


def forget_membership(room: Room) -> None:
    """Membership of `room` changed: what get_room fetched with it no longer holds."""
    room.__dict__.pop("known_membership", None)


def get_visible_room(
    user: User,
    room_id: str | None = None,
    *,
    name: str | None = None,
    t: str | None = None,
    joined_only: bool = False,
    counted: bool = False,
) -> Room:
    """The room with this id (or, without one, this exact name), if `user` may know that it
    exists: any public channel; a direct room only to its members; any other room only to its
    members and to holders of view-room-administration (not even to them with `joined_only`:
    Rocket.Chat's groups.* look a group up among the caller's own). With `t`, only a room of
    that type. Raises RoomNotFound otherwise, exactly as for a room that does not exist.

    By id, the room comes from get_room (and so usually from the access cache); by name, or with
    `counted` (its `users_count` too), from one query. Either way whether `user` is a member
    comes with it, so is_member asks no more."""
    if room_id and not counted:
        room = get_room(room_id, viewer=user)
    else:
        room = room_with_membership(user, room_id=room_id, name=name, t=t)
    if t is not None and room.t != t:
        raise RoomNotFound()
    if (
        room.t != Room.Type.CHANNEL
        and not is_member(user, room)
        # A direct conversation is its members' alone, administrators' endpoints apart
        # (dm.list.everyone, dm.messages.others, rooms.adminRooms), which ask for it by name.
        and (
            joined_only
            or room.t == Room.Type.DIRECT
            or not has_permission(user, "view-room-administration")
        )
    ):
        raise RoomNotFound()
    return room


def room_with_membership(
    user: User, *, room_id: str | None, name: str | None, t: str | None
) -> Room:
    """get_visible_room's query: the room by id or exact name (of type `t`), with its
    `users_count` and whether `user` is a member. Raises RoomNotFound."""
    if room_id and not ROOM_ID_SHAPE.match(room_id):
        raise RoomNotFound()
    if not room_id and not name:
        raise RoomNotFound()
    rooms = Room.objects.filter(t=t) if t is not None else Room.objects.all()
    rooms = with_membership(with_member_counts(rooms), user)
    room = (rooms.filter(pk=room_id) if room_id else rooms.filter(name=name)).first()
    if room is None:
        raise RoomNotFound()
    return remember_membership(room, user)


def can_read_room(user: User, room: Room) -> bool:
    """Rocket.Chat's rule: a public channel to holders of view-c-room, any room to its members."""
    if known_membership(user, room):  # fetched with the room: no query at all
        return True
    if room.t == Room.Type.CHANNEL and has_permission(user, "view-c-room"):
        return True
    return is_member(user, room)


def unreadable_why(room: Room) -> str:
    """The detailed_error of a refusal by can_read_room: what would have let the caller in."""
    if room.t == Room.Type.CHANNEL:
        return missing_permission_words(["view-c-room"]) + " Members may read without it."
    return "Only its members may read this room."


def access_room(user: User, room_id: str, *, for_write: bool = False) -> Room:
    """The room, if `user` may read it (or, with for_write, post in it).

    Posting takes membership; an archived room takes no messages, and a read-only one only
    those of holders of post-readonly (its owners, by default). A private group answers a
    non-member as if it did not exist (get_visible_room). Raises RoomNotFound, and check_access'
    refusals.
    """
    return check_access(user, get_visible_room(user, room_id), for_write=for_write)


def check_access(user: User, room: Room, *, for_write: bool = False) -> Room:
    """access_room's rules for a room already in hand (and known to be visible to `user`).
    Raises CannotAccessRoom (reading), or, to post: NotAMember, RoomArchived, ReadOnlyRoom."""
    if not for_write:
        if not can_read_room(user, room):
            raise CannotAccessRoom(detailed_error=unreadable_why(room))
        return room
    if not is_member(user, room):
        raise NotAMember()
    if room.archived:
        raise RoomArchived()
    if room.read_only and not has_permission(user, "post-readonly", room):
        raise ReadOnlyRoom(detailed_error=missing_permission_words(["post-readonly"]))
    return room


def access_message(user: User, message_id: str, *, authors_too: bool = False) -> Message:
    """The message with this id (fetched with its room, author and editor) if `user` may read
    its room, or, with `authors_too`, wrote it: an author may still delete a message after
    leaving its room. Anything else raises MessageNotFound, as a missing message does."""
    message = message_by_id(message_id)
    if message is None:
        raise MessageNotFound()
    own = authors_too and message.author_id == user.pk
    if not own and not can_read_room(user, message.room):
        raise MessageNotFound()
    return message
