"""Every change to rooms, memberships and messages goes through these functions."""

from __future__ import annotations

import hmac
import json
import re
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Subquery
from django.db.models.functions import Greatest, Lower
from django.utils import timezone

from accounts.models import User
from accounts.site_settings import (
    message_deleting_allowed,
    message_editing_allowed,
    message_max_length,
)
from accounts.validators import validate_name
from chat_project.db.lookups import pks_by_lowercase
from chat_project.db.postgresql.statements import prepared_statement
from chat_project.db.timestamps import ONE_MS, now_ms
from chat_project.http.errors import (
    CannotAccessRoom,
    DeletingAsAuthorNotAllowed,
    DeletingInReadOnlyRoom,
    InvalidJoinCode,
    InvalidParams,
    LastOwner,
    MessageActionNotAllowed,
    MessageAuthorGone,
    MessageEditingNotAllowed,
    MessageIdTaken,
    MessageNotFound,
    MessageTooLong,
    NotInRoom,
    NotJoinable,
    NotSubscribed,
    RoomArchived,
    RoomNotFound,
    bulk_record_error,
    missing_permission_words,
)
from permissions.checks import check_permission, has_permission
from rooms import notify
from rooms.access import access_room, forget_membership
from rooms.models import Message, RemovedSubscription, Room, Subscription
from rooms.selectors import MESSAGE_ID_SHAPE, membership_of

OWNER = "owner"  # the room role of a room's creator
DUPLICATE_NAME = "error-duplicate-channel-name"


def join_room(*, user: User, room: Room, join_code: str | None = None) -> None:
    """Makes `user` a member of the public channel `room`; joining twice changes nothing.

    Raises NotJoinable for anything but a public channel, CannotAccessRoom without view-c-room,
    RoomArchived for an archived one, InvalidJoinCode when the channel has a join code and
    `join_code` is not it (holders of join-without-join-code need none).
    """
    if room.t != Room.Type.CHANNEL:
        raise NotJoinable()
    if not has_permission(user, "view-c-room"):
        raise CannotAccessRoom(detailed_error=missing_permission_words(["view-c-room"]))
    if room.archived:
        raise RoomArchived()
    if room.join_code and not has_permission(user, "join-without-join-code"):
        given = (join_code or "").encode()
        if not hmac.compare_digest(given, room.join_code.encode()):
            raise InvalidJoinCode(
                detailed_error="Give the channel's joinCode. "
                + missing_permission_words(["join-without-join-code"])
            )
    # get_or_create inserts inside a savepoint and, when a racing request won, reads its row:
    # the unique constraint decides, so two joins at once still leave one membership. If a
    # racing leave deletes that row before it is read, get_or_create re-raises the conflict:
    # the membership is then simply not there, and the next attempt makes it.
    with transaction.atomic(durable=True):
        for attempt in range(3):
            try:
                _, created = Subscription.objects.get_or_create(
                    room=room, user=user, defaults={"read_msgs": room.msgs}
                )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        forget_membership(room)
        if created:
            notify.members_joined(room, {user.pk: user.username})


def join_default_rooms(*, users: list[User]) -> None:
    """Makes new users members of every default room. Two queries, however many users."""
    now = timezone.now()
    Subscription.objects.bulk_create(
        [
            # What was said before they joined is not unread.
            Subscription(room_id=room_id, user=user, ts=now, ls=now, read_msgs=msgs)
            for room_id, msgs in Room.objects.filter(is_default=True).values_list("pk", "msgs")
            for user in users
        ],
        ignore_conflicts=True,
    )


def leave_room(*, user: User, room: Room) -> None:
    """Ends `user`'s membership of `room`.

    Raises NotInRoom if they were not a member, MissingPermission without leave-c / leave-p, and
    LastOwner when they own the room alone and others remain (someone must be able to run it).
    """
    check_permission(user, "leave-c" if room.t == Room.Type.CHANNEL else "leave-p", room)
    with transaction.atomic(durable=True):
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
        record_removals(room.pk, [user.pk])
        forget_membership(room)
        notify.members_left(room, [user.pk])


def archive_room(*, user: User, room: Room) -> None:
    """Archives `room`: it then refuses joins and messages. Needs archive-room (held by admins
    and the room's owners). Archiving twice changes nothing."""
    check_permission(user, "archive-room", room)
    with transaction.atomic(durable=True):
        set_archived(room, archived=True)


def unarchive_room(*, user: User, room: Room) -> None:
    """Undoes archive_room. Needs unarchive-room."""
    check_permission(user, "unarchive-room", room)
    with transaction.atomic(durable=True):
        set_archived(room, archived=False)


def set_archived(room: Room, *, archived: bool) -> None:
    """archive_room's and unarchive_room's write, inside their transaction."""
    now = timezone.now()
    Room.objects.filter(pk=room.pk).update(archived=archived, updated_at=now)
    room.archived, room.updated_at = archived, now
    notify.room_changed(room)


def create_rooms(*, creator: User, records: Any) -> list[Room]:
    """bulk/createRoom: rooms from `{"name", "members": [usernames], "private": false}` records,
    all or none, the caller as creator and owner of each, the members subscribed.

    The whole batch is checked first (shape, name rules, names unused and unique in the batch,
    every member exists; create-p for private ones), then written in bulk in one transaction.
    Raises InvalidParams naming the first bad record, or MissingPermission.
    """
    if not isinstance(records, list):
        raise InvalidParams("rooms must be a list of {name, members} records.")
    if len(records) > settings.BULK_MAX:
        raise InvalidParams(f"At most {settings.BULK_MAX} records per batch, not {len(records)}.")
    rooms = [room_from_record(index, record, creator) for index, record in enumerate(records)]
    if any(room.t == Room.Type.GROUP for room in rooms):
        check_permission(creator, "create-p")
    check_names_unused(rooms)
    members = members_by_record(records)
    try:
        insert_rooms(creator=creator, rooms=rooms, members=members)
    except IntegrityError:
        raise InvalidParams(
            "A room name of this batch was taken meanwhile; nothing was created.",
            error_type=DUPLICATE_NAME,
        ) from None
    return rooms


def insert_rooms(*, creator: User, rooms: list[Room], members: list[set[str]]) -> None:
    """Writes checked rooms in one transaction, create_rooms' or create_room's own: each with its
    members (user ids) and its creator as member and owner. Three inserts and a read, however
    many rooms."""
    with transaction.atomic(durable=True):
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
        usernames = dict(
            User.objects.filter(pk__in=set().union(*members)).values_list("pk", "username")
        )
        usernames[creator.pk] = creator.username
        for room, user_ids in zip(rooms, members, strict=True):
            joined = {uid: usernames[uid] for uid in {creator.pk, *user_ids}}
            room.users_count = len(joined)  # type: ignore[attr-defined]  # new: all its members
            notify.members_joined(room, joined, owner=creator.pk)


def create_room(
    *, creator: User, name: str, private: bool = False, members: list[str], read_only: bool = False
) -> Room:
    """One new room (channels.create, groups.create): `creator` needs create-c (create-p for a
    private group), becomes its owner, and the named members join. Raises MissingPermission or
    InvalidParams with Rocket.Chat's words."""
    check_permission(creator, "create-p" if private else "create-c")
    room = Room(
        name=name,
        t=Room.Type.GROUP if private else Room.Type.CHANNEL,
        creator=creator,
        read_only=read_only,
    )
    check_room_name(name)
    found = users_by_username(members)
    missing = [m for m in members if m.lower() not in found]
    if missing:
        raise InvalidParams(f"User '{missing[0]}' does not exist", error_type="error-invalid-user")
    try:
        insert_rooms(creator=creator, rooms=[room], members=[set(found.values())])
    except IntegrityError:
        raise InvalidParams(
            f"A channel with name '{name}' exists", error_type=DUPLICATE_NAME
        ) from None
    return room


def check_room_name(name: str, *, besides: Room | None = None) -> None:
    """Raises InvalidParams (Rocket.Chat's words) unless `name` follows the name rules and no
    other room has it, in any case."""
    try:
        validate_name(name)
    except ValidationError:
        raise InvalidParams(
            f"{name} is not a valid room name", error_type="error-invalid-room-name"
        ) from None
    if room_name_taken(name, besides=besides):
        raise InvalidParams(f"A channel with name '{name}' exists", error_type=DUPLICATE_NAME)


def room_name_taken(name: str, *, besides: Room | None = None) -> bool:
    taken = Room.objects.alias(lower=Lower("name")).filter(lower=name.lower())
    if besides is not None:
        taken = taken.exclude(pk=besides.pk)
    return taken.exists()


def users_by_username(usernames: list[str]) -> dict[str, str]:
    """{lowercased username: user id} for those of `usernames` that exist. One query."""
    return pks_by_lowercase(User, "username", usernames)


def invite_users(*, by: User, room: Room, users: list[User]) -> None:
    """Adds `users` to `room` (channels.invite, groups.invite); members already in stay as
    they are. Needs add-user-to-any-c-room / add-user-to-any-p-room, or membership and
    add-user-to-joined-room (owners and moderators by default), as in Rocket.Chat."""
    anywhere = "add-user-to-any-c-room" if room.t == Room.Type.CHANNEL else "add-user-to-any-p-room"
    allowed = has_permission(by, anywhere) or (
        has_permission(by, "add-user-to-joined-room", room)
        and Subscription.objects.filter(room=room, user=by).exists()
    )
    if not allowed:
        raise InvalidParams(
            "Not allowed",
            error_type="error-not-allowed",
            detailed_error=missing_permission_words(
                [anywhere, "add-user-to-joined-room"], any_of=True
            ),
        )
    if room.archived:
        raise RoomArchived()
    with transaction.atomic(durable=True):
        already = set(
            Subscription.objects.filter(room=room, user__in=users).values_list("user_id", flat=True)
        )
        Subscription.objects.bulk_create(
            [Subscription(room=room, user=user, read_msgs=room.msgs) for user in users],
            ignore_conflicts=True,
        )
        forget_membership(room)
        notify.members_joined(room, {u.pk: u.username for u in users if u.pk not in already})


def remove_from_room(*, by: User, room: Room, user: User) -> None:
    """Takes `user` out of `room` (channels.kick): needs remove-user; the last owner stays."""
    if not has_permission(by, "remove-user", room):
        raise InvalidParams(
            "Not allowed",
            error_type="error-not-allowed",
            detailed_error=missing_permission_words(["remove-user"]),
        )
    with transaction.atomic(durable=True):
        list(Room.objects.select_for_update().filter(pk=room.pk).values_list("pk"))
        theirs = Subscription.objects.filter(room=room, user=user).first()
        if theirs is None:
            raise InvalidParams("User is not in this room", error_type="error-user-not-in-room")
        owners = Subscription.objects.filter(room=room, roles=OWNER)
        if owners.filter(pk=theirs.pk).exists() and owners.count() == 1:
            raise LastOwner()
        theirs.delete()
        record_removals(room.pk, [user.pk])
        forget_membership(room)
        notify.members_left(room, [user.pk])


# Room roles that can be given and taken: role -> (permission, singular noun, error suffix).
ROOM_ROLES = {
    "owner": ("set-owner", "an owner", "owner"),
    "moderator": ("set-moderator", "a moderator", "moderator"),
    "leader": ("set-leader", "a leader", "leader"),
}


def set_room_role(*, by: User, room: Room, user: User, role: str, held: bool) -> None:
    """Gives (`held`) or takes a room role (channels.addOwner, removeModerator...), as
    Rocket.Chat's addRoomOwner & co. do: the permission in that room, a member to give it to,
    not twice, and never the last owner taken away."""
    permission, noun, suffix = ROOM_ROLES[role]
    if not has_permission(by, permission, room):
        raise InvalidParams(
            "Not allowed",
            error_type="error-not-allowed",
            detailed_error=missing_permission_words([permission]),
        )
    with transaction.atomic(durable=True):
        list(Room.objects.select_for_update().filter(pk=room.pk).values_list("pk"))
        theirs = Subscription.objects.filter(room=room, user=user).first()
        if theirs is None:
            raise InvalidParams("User is not in this room", error_type="error-user-not-in-room")
        holding = Subscription.roles.through.objects.filter(subscription=theirs, role_id=role)
        has_it = holding.exists()
        if held:
            if has_it:
                raise InvalidParams(
                    f"User is already {noun}", error_type=f"error-user-already-{suffix}"
                )
            Subscription.roles.through.objects.create(subscription=theirs, role_id=role)
            notify.room_role_changed(room=room, user=user, role=role, held=True)
            return
        if not has_it:
            raise InvalidParams(f"User is not {noun}", error_type=f"error-user-not-{suffix}")
        if role == OWNER and Subscription.objects.filter(room=room, roles=OWNER).count() == 1:
            raise InvalidParams(
                "This is the last owner. Please set a new owner before removing this one.",
                error_type="error-remove-last-owner",
            )
        holding.delete()
        notify.room_role_changed(room=room, user=user, role=role, held=False)


# What each editable room setting needs, as Rocket.Chat's saveRoomSettings has it.
SETTING_PERMISSIONS = {
    "name": "edit-room",
    "topic": "edit-room",
    "description": "edit-room",
    "announcement": "edit-room",
    "read_only": "set-readonly",
    "is_default": "view-room-administration",
    "t": "edit-room",
    "custom_fields": "edit-room",
    "join_code": "edit-room",
}

# setType: what making a room of each type takes besides edit-room (Rocket.Chat's roomType
# validator: one may only make the kind of room one may create), and its words otherwise.
TYPE_CHANGES = {
    Room.Type.CHANNEL: ("create-c", "Changing a private group to a public channel is not allowed"),
    Room.Type.GROUP: ("create-p", "Changing a public channel to a private room is not allowed"),
}


def update_room(*, by: User, room: Room, **changes: Any) -> Room:
    """Changes room settings (rename, setTopic, setDescription, setAnnouncement, setReadOnly,
    setDefault), each guarded by its permission in that room; a name is checked like a new one."""
    for field in changes:
        if not has_permission(by, SETTING_PERMISSIONS[field], room):
            raise InvalidParams(
                "Editing room is not allowed",
                error_type="error-action-not-allowed",
                detailed_error=missing_permission_words([SETTING_PERMISSIONS[field]]),
            )
    if "name" in changes:
        check_room_name(changes["name"], besides=room)
    if "t" in changes:
        check_type_change(by, changes["t"])
    if contains_nul([changes.get("custom_fields"), changes.get("join_code")]):
        raise InvalidParams(NUL_TEXT)
    closed = changes.get("t") == Room.Type.GROUP and room.t != Room.Type.GROUP
    for field, value in changes.items():
        setattr(room, field, value)
    try:
        with transaction.atomic(durable=True):
            room.save(update_fields=[*changes, "updated_at"])
            notify.room_changed(room)
            if closed:
                # Made private: whoever is not a member stops hearing it at once. (Later reads
                # see the new type: the access cache forgets on the room's UPDATE.)
                notify.room_closed_to_outsiders(room)
    except IntegrityError:
        raise InvalidParams(
            f"A channel with name '{changes.get('name')}' exists", error_type=DUPLICATE_NAME
        ) from None
    return room


def check_type_change(by: User, t: str) -> None:
    """Raises InvalidParams unless `t` is a type a room can be changed to ("c" or "p") and `by`
    may create rooms of that type (create-c / create-p), as Rocket.Chat's roomType rule."""
    if t not in TYPE_CHANGES:
        raise InvalidParams("error-invalid-room-type", error_type="error-invalid-room-type")
    permission, words = TYPE_CHANGES[Room.Type(t)]
    if not has_permission(by, permission):
        raise InvalidParams(
            words,
            error_type="error-action-not-allowed",
            detailed_error=missing_permission_words([permission]),
        )


def add_all_users(*, by: User, room: Room, active_only: bool = False) -> None:
    """channels.addAll / groups.addAll: every user (only the active ones with `active_only`)
    becomes a member of `room`; members stay as they are. Needs add-all-to-room, and at most
    ADD_ALL_USER_LIMIT users to add (Rocket.Chat's API_User_Limit). Raises MissingPermission,
    InvalidParams (error-user-limit-exceeded). Three queries and a batch insert."""
    check_permission(by, "add-all-to-room")
    users = User.objects.filter(is_active=True) if active_only else User.objects.all()
    if users.count() > settings.ADD_ALL_USER_LIMIT:
        raise InvalidParams(
            "User Limit Exceeded",
            error_type="error-user-limit-exceeded",
            detailed_error=f"At most ADD_ALL_USER_LIMIT ({settings.ADD_ALL_USER_LIMIT}) users.",
        )
    with transaction.atomic(durable=True):
        already = set(Subscription.objects.filter(room=room).values_list("user_id", flat=True))
        joining = {
            pk: name for pk, name in users.values_list("pk", "username") if pk not in already
        }
        Subscription.objects.bulk_create(
            [Subscription(room=room, user_id=pk, read_msgs=room.msgs) for pk in joining],
            ignore_conflicts=True,
        )
        forget_membership(room)
        if joining:
            notify.members_joined(room, joining)


def clean_history(
    *,
    by: User,
    room: Room,
    latest: datetime,
    oldest: datetime,
    inclusive: bool = False,
    usernames: list[str] | None = None,
    files_only: bool = False,
) -> int:
    """rooms.cleanHistory: deletes the messages of `room` between `oldest` and `latest`
    (exclusive unless `inclusive`), only those of `usernames` if given, and answers how many.
    Needs clean-channel-history in the room (MissingPermission). Under the room's row lock, as
    delete_message takes it, `msgs` goes down by exactly the number deleted and `lm` becomes the
    newest message left. `files_only` cleans only the files of messages: we store none, so
    nothing is deleted. Pinned messages do not exist yet: excludePinned has nothing to keep."""
    check_permission(by, "clean-channel-history", room)
    if files_only:
        return 0
    bounds = {"ts__gte" if inclusive else "ts__gt": oldest}
    bounds["ts__lte" if inclusive else "ts__lt"] = latest
    with transaction.atomic(durable=True):
        list(Room.objects.select_for_update().filter(pk=room.pk).values_list("pk"))
        doomed = Message.objects.filter(room=room, **bounds)
        if usernames:
            doomed = doomed.filter(author__username__in=usernames)
        _, deleted = doomed.delete()
        count = deleted.get(Message._meta.label, 0)
        if not count:
            return 0
        newest = Message.objects.filter(room=room).order_by("-ts").values("ts")[:1]
        Room.objects.filter(pk=room.pk).update(
            msgs=Greatest(F("msgs") - count, 0), lm=Subquery(newest), updated_at=now_ms()
        )
        room.refresh_from_db(fields=["msgs", "lm", "updated_at"])
        notify.history_cleaned(
            room, latest=latest, oldest=oldest, inclusive=inclusive, usernames=usernames or []
        )
        notify.room_changed(room)
    return count


# What deleting a room of each type takes.
DELETE_PERMISSIONS: dict[str, str] = {
    Room.Type.CHANNEL: "delete-c",
    Room.Type.GROUP: "delete-p",
    Room.Type.DIRECT: "delete-d",
}


def delete_room(*, by: User, room: Room) -> None:
    """Deletes `room` with its memberships and messages (channels.delete, dm.delete): delete-c,
    delete-p or delete-d, by its type."""
    check_permission(by, DELETE_PERMISSIONS[room.t], room)
    with transaction.atomic(durable=True):
        members = list(Subscription.objects.filter(room=room).values_list("user_id", flat=True))
        room_id = room.pk
        room.delete()
        record_removals(room_id, members)
        room.pk = room_id  # delete() clears it; the notice still names the room
        notify.members_left(room, members, room_gone=True)


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
    taken = set(pks_by_lowercase(Room, "name", names))
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
    found = users_by_username(list(wanted))
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


# --- messages ------------------------------------------------------------------------------------


NUL_TEXT = "Null characters are not allowed."
INVALID_HREF = "Invalid href value provided"  # Rocket.Chat's words

# Links a client renders as href (Rocket.Chat's validFullURLParam and, for the avatar,
# validPartialURLParam): http(s) only, so never javascript: or data:.
FULL_URL = re.compile(r"https?://\S+", re.IGNORECASE)
URL_OR_PATH = re.compile(r"(?:https?://|/)\S*", re.IGNORECASE)

# What an attachment may carry (Rocket.Chat's validateAttachment): each key's JSON types; "url"
# means a string FULL_URL accepts. Other keys are stored as given.
ATTACHMENT_KEYS: dict[str, tuple[type, ...] | str] = {
    "color": (str,),
    "text": (str,),
    "ts": (str, int, float),
    "thumb_url": "url",
    "button_alignment": (str,),
    "actions": (list,),
    "message_link": "url",
    "collapsed": (bool,),
    "author_name": (str,),
    "author_link": "url",
    "author_icon": "url",
    "title": (str,),
    "title_link": "url",
    "title_link_download": (bool,),
    "image_dimensions": (dict,),
    "image_url": "url",
    "image_preview": (str,),
    "image_type": (str,),
    "image_size": (int, float),
    "audio_url": "url",
    "audio_type": (str,),
    "audio_size": (int, float),
    "video_url": "url",
    "video_type": (str,),
    "video_size": (int, float),
    "fields": (list,),
}
ACTION_KEYS: dict[str, tuple[type, ...] | str] = {
    "type": (str,),
    "text": (str,),
    "url": "url",
    "image_url": "url",
    "is_webview": (bool,),
    "webview_height_ratio": (str,),
    "msg": (str,),
    "msg_in_chat_window": (bool,),
}
FIELD_KEYS: dict[str, tuple[type, ...] | str] = {
    "short": (bool,),
    "title": (str,),
    "value": (str, int, float, bool),
}


def check_message_text(text: str, *, allow_empty: bool = False) -> str:
    """The text of a message, or InvalidParams / MessageTooLong saying what is wrong. It may be
    empty only where something else carries the message (`allow_empty`: attachments)."""
    if not text.strip() and not allow_empty:
        raise InvalidParams("The message is empty.")
    longest = message_max_length()
    if len(text) > longest:
        raise MessageTooLong(f"Message size exceeds the allowed {longest} characters.")
    if "\x00" in text:
        raise InvalidParams(NUL_TEXT)
    return text


def check_message_extras(
    *, alias: str, emoji: str, avatar: str, attachments: list[Any], message_id: str | None
) -> None:
    """What chat.postMessage and chat.sendMessage may add to a message, checked as Rocket.Chat's
    validateMessage does: the avatar and every link of an attachment an http(s) URL, each
    attachment's keys of the right JSON type, its text within MESSAGE_MAX_LENGTH; and a client's
    own message id of 1 to 32 letters and digits. Raises InvalidParams or MessageTooLong."""
    for name, value in (("alias", alias), ("emoji", emoji), ("avatar", avatar)):
        limit = int(getattr(Message._meta.get_field(name), "max_length", 0))
        if len(value) > limit:
            raise InvalidParams(f"{name}: at most {limit} characters.")
    if avatar and not URL_OR_PATH.fullmatch(avatar):
        raise InvalidParams(INVALID_HREF, detailed_error="avatar")
    for index, attachment in enumerate(attachments):
        where = f"attachments[{index}]"
        check_json_keys(attachment, ATTACHMENT_KEYS, where)
        text = attachment.get("text")
        if text is not None and len(text) > message_max_length():
            raise MessageTooLong(
                f"{where}.text: exceeds the allowed {message_max_length()} characters."
            )
        for number, action in enumerate(attachment.get("actions") or []):
            check_json_keys(action, ACTION_KEYS, f"{where}.actions[{number}]")
        for number, field in enumerate(attachment.get("fields") or []):
            check_json_keys(field, FIELD_KEYS, f"{where}.fields[{number}]")
            if not field.get("title") or field.get("value") in (None, ""):
                raise InvalidParams(
                    "Invalid attachment field, title and value is required",  # Rocket.Chat's
                    detailed_error=f"{where}.fields[{number}]",
                )
    if contains_nul([alias, emoji, avatar, attachments]):
        raise InvalidParams(NUL_TEXT)
    if message_id is not None and not MESSAGE_ID_SHAPE.fullmatch(message_id):
        raise InvalidParams("The message _id must be 1 to 32 letters or digits.")


def check_json_keys(value: Any, kinds: dict[str, tuple[type, ...] | str], where: str) -> None:
    """`value` is an object whose keys named in `kinds` hold what they should (null: absent)."""
    if not isinstance(value, dict):
        raise InvalidParams(f"{where}: must be an object.")
    for key, kind in kinds.items():
        item = value.get(key)
        if item is None:
            continue
        if isinstance(kind, str):  # "url"
            if not isinstance(item, str) or not FULL_URL.fullmatch(item):
                raise InvalidParams(INVALID_HREF, detailed_error=f"{where}.{key}")
        elif not isinstance(item, kind):
            names = " or ".join(t.__name__ for t in kind)
            raise InvalidParams(f"{where}.{key}: must be of type {names}.")


def contains_nul(value: Any) -> bool:
    """Whether any string in a JSON value (keys included) holds a NUL character, which
    PostgreSQL cannot store. Iterative, so no nesting depth can exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def send_message(
    *,
    user: User,
    room: Room,
    text: str,
    alias: str = "",
    emoji: str = "",
    avatar: str = "",
    attachments: list[Any] | None = None,
    groupable: bool | None = None,
    message_id: str | None = None,
) -> Message:
    """Stores a message by `user` in `room` (access already checked) and counts it.

    The extras are Rocket.Chat's (chat.postMessage, chat.sendMessage): an alias shown instead of
    the author's name, an emoji or avatar URL for the author, attachments (with which the text
    may be empty), whether clients may group it, and a client-chosen id (MessageIdTaken if used).

    The room's row lock orders concurrent senders: each message gets a time later than the
    room's last one (the next millisecond if the clock has not moved on), and the message, `msgs`
    and `lm` are written in one transaction, so nothing is lost or double-counted.
    """
    attachments = attachments or []
    check_message_text(text, allow_empty=bool(attachments))
    check_message_extras(
        alias=alias, emoji=emoji, avatar=avatar, attachments=attachments, message_id=message_id
    )
    if alias or avatar:
        # Posting under another name or face is for bots and apps, as in Rocket.Chat.
        check_permission(user, "message-impersonate", room)
    if message_id is not None and Message.objects.filter(pk=message_id).exists():
        raise MessageIdTaken()
    fields: dict[str, Any] = {"alias": alias, "emoji": emoji, "avatar": avatar}
    fields |= {"attachments": attachments, "groupable": groupable}
    if message_id is None and connection.vendor == "postgresql":
        # One statement, committed on its own in autocommit: an atomic block would only add a
        # BEGIN and a COMMIT round trip, about 70 us of CPU a send in-process. durable=True
        # still refuses, as for every outermost service, a caller's open transaction.
        with transaction.atomic(durable=True) if connection.in_atomic_block else nullcontext():
            message = insert_counted_message(user=user, room=room, text=text, fields=fields)
            count_mentions(message, room)
            notify.message_saved(message)
            notify.mentioned(message, room)
        return message
    if message_id is not None:
        fields["id"] = message_id
    with transaction.atomic(durable=True):
        last = Room.objects.select_for_update().values_list("lm", flat=True).get(pk=room.pk)
        ts = now_ms()
        if last is not None and ts <= last:
            ts = last + ONE_MS
        # A client-chosen id may race another sender's: a savepoint keeps that failure from
        # spoiling the transaction. Our own ids never collide, and need no extra round trips.
        guard = transaction.atomic() if message_id is not None else nullcontext()
        try:
            with guard:
                message = Message.objects.create(room=room, author=user, msg=text, ts=ts, **fields)
        except IntegrityError:
            if message_id is not None and Message.objects.filter(pk=message_id).exists():
                raise MessageIdTaken() from None
            raise
        Room.objects.filter(pk=room.pk).update(msgs=F("msgs") + 1, lm=ts, updated_at=ts)
        # The author has read the room up to their own message, as in Rocket.Chat.
        Subscription.objects.filter(room=room, user=user).update(
            read_msgs=Subquery(Room.objects.filter(pk=room.pk).values("msgs")[:1]),
            ls=ts,
            updated_at=ts,
        )
        count_mentions(message, room)
        notify.message_saved(message)
        notify.mentioned(message, room)
    return message


# The class of the transaction-level advisory locks on which senders to one room queue (the
# first key of pg_advisory_xact_lock's pair; the second is the room id's hash). "send" in ASCII.
SEND_QUEUE_LOCK = 0x73656E64

# insert_counted_message's statement, prepared (planned once per connection). GREATEST skips
# NULL: a room's first message takes "now". `read` marks the room read for its author, up to
# their own message, as Rocket.Chat does on a send: one row (never the other members'), and no
# indexed column, so a HOT update, in the same round trip. `queued` is evaluated before the
# room's row is updated (the UPDATE joins it), so senders to one room wait their turn on its
# advisory lock, in order, and then find the row free. Without it they all wait on the row,
# and each commit wakes every waiter to find the row taken again: with 16 senders to one room
# that cost PostgreSQL 560-630 us of CPU a message against 370-400 with the queue (pgbench,
# docs/performance.md, item 11). The row lock still orders the writes; the queue only lines
# the senders up. Hash collisions between rooms only make two rooms share a queue.
INSERT_COUNTED_MESSAGE = prepared_statement("""
WITH queued AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(%(queue)s, hashtext(%(room)s))
), bumped AS (
    UPDATE rooms_room
       SET msgs = msgs + 1,
           lm = GREATEST(%(now)s, lm + interval '1 millisecond'),
           updated_at = GREATEST(%(now)s, lm + interval '1 millisecond')
      FROM queued
     WHERE id = %(room)s
 RETURNING lm, msgs
), read AS (
    UPDATE rooms_subscription
       SET read_msgs = bumped.msgs, ls = bumped.lm, updated_at = bumped.lm
      FROM bumped
     WHERE room_id = %(room)s AND user_id = %(author)s
)
INSERT INTO rooms_message
       (id, room_id, author_id, msg, alias, emoji, avatar, attachments, groupable, ts, updated_at)
SELECT %(id)s, %(room)s, %(author)s, %(msg)s, %(alias)s, %(emoji)s, %(avatar)s,
       %(attachments)s::jsonb, %(groupable)s, bumped.lm, bumped.lm
  FROM bumped
RETURNING ts
""")


def insert_counted_message(*, user: User, room: Room, text: str, fields: dict[str, Any]) -> Message:
    """send_message's write on PostgreSQL, in one statement and one round trip: it waits its
    turn in the room's send queue (an advisory lock), the room's UPDATE takes its row lock,
    counts the message and moves `lm` on to the message's time (now, or the millisecond after
    the room's last message, as send_message's rule says), and the INSERT takes that time; the
    statement commits or fails as a whole, and both locks go with its transaction. The queue
    comes before the row, so a caller must not hold the room's row lock (none does: a send is
    its request's only write). For our own ids only, which never collide (a client's id may be
    taken: send_message checks it the long way)."""
    message = Message(room=room, author=user, msg=text, **fields)
    parameters: dict[str, Any] = {
        "queue": SEND_QUEUE_LOCK,
        "now": now_ms(),
        "room": room.pk,
        "id": message.pk,
        "author": user.pk,
        "msg": text,
        "alias": message.alias,
        "emoji": message.emoji,
        "avatar": message.avatar,
        "attachments": json.dumps(message.attachments),
        "groupable": message.groupable,
    }
    with connection.cursor() as cursor:
        cursor.execute(INSERT_COUNTED_MESSAGE, parameters)
        row = cursor.fetchone()
    if row is None:
        raise RoomNotFound()  # deleted since its access was checked
    message.ts = message.updated_at = row[0]
    return message


def edit_message(*, user: User, message: Message, text: str) -> Message:
    """Replaces the text of `message` (fetched with its room), marked as edited by `user`.

    Rocket.Chat's rule: holders of edit-message (held in the message's room: its owners and
    moderators by default), or the author while Message_AllowEditing is on; and, as for a new
    message, only someone who may post in the room (access_room with for_write). The same text
    again changes nothing. Raises MessageEditingNotAllowed, access_room's and
    check_message_text's errors, or MessageNotFound when it was deleted meanwhile.
    """
    may_edit = has_permission(user, "edit-message", message.room) or (
        message_editing_allowed() and message.author_id == user.pk
    )
    if not may_edit:
        raise MessageEditingNotAllowed(detailed_error=missing_permission_words(["edit-message"]))
    access_room(user, message.room_id, for_write=True)
    if text == message.msg:
        return message
    check_message_text(text, allow_empty=bool(message.attachments))
    now = now_ms()
    with transaction.atomic(durable=True):
        changed = Message.objects.filter(pk=message.pk).update(
            msg=text, edited_at=now, edited_by=user, updated_at=now
        )
        if not changed:
            raise MessageNotFound()
        message.msg, message.edited_at, message.edited_by, message.updated_at = text, now, user, now
        notify.message_saved(message)
    return message


def check_can_delete(user: User, message: Message) -> None:
    """Rocket.Chat's canDeleteMessage: holders of force-delete-message always; others only while
    Message_AllowDeleting is on, with delete-message, or delete-own-message for their own, and
    in a read-only room only with post-readonly. Every permission is the room's (room roles count).
    Raises MessageActionNotAllowed, or DeletingInReadOnlyRoom."""
    room = message.room
    if has_permission(user, "force-delete-message", room):
        return
    may_delete = message_deleting_allowed() and (
        has_permission(user, "delete-message", room)
        or (message.author_id == user.pk and has_permission(user, "delete-own-message", room))
    )
    if not may_delete:
        enough = ["force-delete-message"]
        if message_deleting_allowed():
            own = ["delete-own-message"] if message.author_id == user.pk else []
            enough = ["delete-message", *own, *enough]
        raise MessageActionNotAllowed(detailed_error=missing_permission_words(enough, any_of=True))
    if room.read_only and not has_permission(user, "post-readonly", room):
        raise DeletingInReadOnlyRoom(detailed_error=missing_permission_words(["post-readonly"]))


def delete_message(*, user: User, message: Message, as_author: bool = False) -> None:
    """Deletes `message` (fetched with its room) and uncounts it, if check_can_delete lets `user`.

    `as_author` (chat.delete's asUser) checks the deletion as the author's own instead, which
    takes force-delete-message for someone else's message (DeletingAsAuthorNotAllowed) and an
    author who still exists (MessageAuthorGone). Under the room's row lock, as send_message
    takes it, the room's `msgs` goes down by exactly the one message deleted and `lm` becomes
    the time of the newest one left; a message deleted meanwhile raises MessageNotFound.
    """
    actor = user
    if as_author and message.author_id != user.pk:
        if not has_permission(user, "force-delete-message", message.room):
            raise DeletingAsAuthorNotAllowed()
        if message.author is None:
            raise MessageAuthorGone()
        actor = message.author
    check_can_delete(actor, message)
    room_id = message.room_id
    with transaction.atomic(durable=True):
        list(Room.objects.select_for_update().filter(pk=room_id).values_list("pk"))
        _, deleted = Message.objects.filter(pk=message.pk).delete()
        if not deleted.get(Message._meta.label):
            raise MessageNotFound()  # a racing request deleted it first, and counted that
        newest = Message.objects.filter(room_id=room_id).order_by("-ts").values("ts")[:1]
        # Greatest: a count already wrong (rows written around the services) never goes below 0.
        Room.objects.filter(pk=room_id).update(
            msgs=Greatest(F("msgs") - 1, 0), lm=Subquery(newest), updated_at=now_ms()
        )
        notify.message_removed(room_id=room_id, message_id=message.pk)


# --- a member's own state: read marks, mentions, favourites, hiding -------------------------------


def record_removals(room_id: str, user_ids: list[str]) -> None:
    """Remembers that `user_ids` stopped being members of the room, for the `remove` lists of
    subscriptions.get and rooms.get with `updatedSince`. One insert, inside the caller's
    transaction."""
    now = now_ms()
    RemovedSubscription.objects.bulk_create(
        [RemovedSubscription(user_id=uid, room_id=room_id, removed_at=now) for uid in user_ids]
    )


def count_mentions(message: Message, room: Room) -> None:
    """Counts a new message's mentions on the subscriptions of the members it mentions, as
    Rocket.Chat's updateUsersSubscriptions: named users (`@name`) get a user mention; failing
    any, `@all` and `@here` give every other member a group mention. Nothing for a message
    without '@' (no statement at all: the send stays as cheap as ever), one UPDATE otherwise;
    the author's own row never."""
    names = notify.mentions_in(message.msg)
    if not names:
        return
    others = Subscription.objects.filter(room=room).exclude(user_id=message.author_id)
    named = names - set(notify.EVERYONE)
    if named:
        mentioned = others.filter(
            user__in=User.objects.alias(lower=Lower("username")).filter(lower__in=named)
        )
        mentioned.update(user_mentions=F("user_mentions") + 1, updated_at=message.ts)
    elif names & set(notify.EVERYONE):
        others.update(group_mentions=F("group_mentions") + 1, updated_at=message.ts)


def own_subscription(user: User, room: Room, *, words: str = NotSubscribed.message) -> Subscription:
    """`user`'s subscription to `room`, with the room's counters. Raises NotSubscribed."""
    subscription = membership_of(user, room)
    if subscription is None:
        raise NotSubscribed(words)
    return subscription


def mark_read(*, user: User, room: Room) -> None:
    """subscriptions.read, readMessages: everything in `room` so far is read, its mention
    counts cleared. One UPDATE: the read mark takes the room's count in the same statement, so
    a message committed meanwhile is either counted read or stays unread, never lost. Raises
    NotSubscribed for a room `user` is not in."""
    now = now_ms()
    with transaction.atomic(durable=True):
        changed = Subscription.objects.filter(room=room, user=user).update(
            read_msgs=Subquery(Room.objects.filter(pk=room.pk).values("msgs")[:1]),
            ls=now,
            user_mentions=0,
            group_mentions=0,
            updated_at=now,
        )
        if not changed:
            raise NotSubscribed()
        notify.subscription_changed(user=user, room_id=room.pk)


def mark_unread_from(*, user: User, message: Message) -> None:
    """subscriptions.unread with firstUnreadMessage: `message` (which `user` may read) and
    every later one are unread again, as Rocket.Chat's unreadMessages (ls moves back to it). A
    message already unread changes nothing. The read mark is the room's count less the messages
    from `message` on, counted by an index range of that room (a user's own action, rare, and
    as long as what they mark unread). Raises NotSubscribed."""
    subscription = own_subscription(user, message.room, words="Subscription not found")
    if message.ts >= subscription.ls:
        return  # Rocket.Chat: "Provided message is already marked as unread"
    later = Message.objects.filter(room_id=message.room_id, ts__gte=message.ts)
    with transaction.atomic(durable=True):
        # One statement: the room's count and the later messages from one snapshot.
        Subscription.objects.filter(pk=subscription.pk).update(
            read_msgs=Greatest(
                Subquery(Room.objects.filter(pk=message.room_id).values("msgs")[:1])
                - Subquery(later.order_by().values("room").annotate(n=Count("pk")).values("n")),
                0,
            ),
            ls=message.ts,
            updated_at=now_ms(),
        )
        notify.subscription_changed(user=user, room_id=message.room_id)


def mark_room_unread(*, user: User, room: Room) -> None:
    """subscriptions.unread with a roomId: the room's last message is unread again (Rocket.Chat
    marks from it). Raises InvalidParams without messages, NotSubscribed without membership."""
    last = Message.objects.filter(room=room).order_by("-ts").select_related("room").first()
    if last is None:
        raise InvalidParams(
            "There are no messages to mark unread", error_type="error-no-message-for-unread"
        )
    mark_unread_from(user=user, message=last)


def set_favorite(*, user: User, room: Room, favorite: bool) -> None:
    """rooms.favorite, toggleFavorite. Raises NotSubscribed (Rocket.Chat's words)."""
    change_own_state(user, room, {"f": favorite}, words="You must be part of a room to favorite it")


def hide_room(*, user: User, room: Room) -> None:
    """channels.close, groups.close, hideRoom: hidden from the sidebar, still a member, until
    opened again or a newer message arrives (rooms.serializers.subscription_state)."""
    change_own_state(user, room, {"closed_at": now_ms()})


def open_room(*, user: User, room: Room) -> None:
    """channels.open, groups.open, openRoom: shown in the sidebar again."""
    change_own_state(user, room, {"closed_at": None})


def change_own_state(user: User, room: Room, fields: dict[str, Any], *, words: str = "") -> None:
    """Sets `fields` (Subscription.STATE columns) on `user`'s subscription to `room`. One
    UPDATE. Raises NotSubscribed."""
    with transaction.atomic(durable=True):
        changed = Subscription.objects.filter(room=room, user=user).update(
            **fields, updated_at=now_ms()
        )
        if not changed:
            raise NotSubscribed(words or NotSubscribed.message)
        notify.subscription_changed(user=user, room_id=room.pk)
