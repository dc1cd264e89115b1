"""Rooms, who is in them, and what was said there."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.validators import validate_name
from chat_project.access_cache.declarations import NotWatched, Watched
from chat_project.db.ids import random_id

GENERAL_ROOM_ID = "GENERAL"


class Room(models.Model):
    """A channel ("c", public), a private group ("p") or a direct conversation ("d")."""

    class Type(models.TextChoices):
        CHANNEL = "c", "public channel"
        GROUP = "p", "private group"
        DIRECT = "d", "direct messages"

    # 17 random characters, "GENERAL", or (a direct room of two) their user ids side by side.
    id = models.CharField(primary_key=True, max_length=34, default=random_id, editable=False)
    t = models.CharField("type", max_length=1, choices=Type.choices, default=Type.CHANNEL)
    name = models.CharField(
        max_length=64, validators=[validate_name], help_text="Unique regardless of case."
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_rooms",
    )
    ts = models.DateTimeField("created", default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    msgs = models.PositiveIntegerField("messages", default=0, editable=False)
    lm = models.DateTimeField("last message", null=True, blank=True, editable=False)
    is_default = models.BooleanField(
        "default", default=False, help_text="Every new user joins the default rooms."
    )
    read_only = models.BooleanField(
        default=False, help_text="Only owners (and holders of post-readonly) may post."
    )
    archived = models.BooleanField(default=False)
    topic = models.CharField(max_length=250, blank=True)
    description = models.CharField(max_length=2000, blank=True)
    announcement = models.CharField(max_length=2000, blank=True)
    # channels.setCustomFields: any JSON object, stored as given (Rocket.Chat's customFields).
    custom_fields = models.JSONField(default=dict, blank=True)
    # channels.setJoinCode: joining then takes this code (or join-without-join-code). Never
    # shown: answers say only joinCodeRequired, as Rocket.Chat's do.
    join_code = models.CharField(max_length=250, blank=True)
    # A direct room's members, as a key: their ids sorted and hashed (rooms.direct). Unique, so
    # two creates of the same conversation at once find one room. Null for other rooms.
    members_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # A direct room has no name (its members' subscriptions name it): blank, and so
            # left out of the names that must be unique.
            models.UniqueConstraint(
                Lower("name"),
                condition=~models.Q(t="d"),
                name="rooms_room_name_ci_unique",
                violation_error_message="A room with this name already exists.",
            ),
        ]
        # No index may hold msgs, lm or updated_at: every message moves them on, and an update
        # that touches no indexed column is a HOT update (no new index entries, no bloat of the
        # room's index pages). An index on (t, -msgs) once made every send write six index
        # entries and left the room's row tens of thousands of dead versions deep.
        indexes = [models.Index(fields=["t", "name"], name="rooms_room_type_name")]

    # What every message moves on. The access cache keeps rooms without them (rooms.access).
    COUNTERS = frozenset({"msgs", "lm", "updated_at"})

    access_cache = Watched(
        "get_room keeps a room, all but its counters, with whether the caller is a member",
        # Moved by every send, never kept: a kept room loads them fresh when first read.
        harmless_columns=COUNTERS,
    )

    def __str__(self) -> str:
        return self.name

    def audience(self) -> list[str] | None:
        """Who may hear a broadcast about this room (a room role given or taken): None, every
        signed-in user, for a public channel (as Rocket.Chat); its members' ids for a private
        group, whose membership is nobody else's business (docs/security.md). One query for a
        private group, none for a channel."""
        if self.t == Room.Type.CHANNEL:
            return None
        return list(self.subscriptions.values_list("user_id", flat=True))

    def refresh_from_db(
        self, using: str | None = None, fields: Any = None, from_queryset: Any = None
    ) -> None:
        # A room kept without its counters loads all three at the first read of one of them
        # (one query, where Django's deferred loading would make three).
        if fields is not None:
            wanted = set(fields)
            if wanted & self.COUNTERS:
                fields = list(wanted | (self.COUNTERS & self.get_deferred_fields()))
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class Subscription(models.Model):
    """A user's membership of a room, with the roles they hold in it (owner, moderator...)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    ts = models.DateTimeField("joined", default=timezone.now, editable=False)
    # The user's own state in the room. Unread counts are counters, never a COUNT of messages:
    # the room counts its messages (Room.msgs) and a subscription remembers how many of them
    # it had read, so unread = room.msgs - read_msgs, and a message to a room of any size writes
    # no subscription but its author's (rooms.services.send_message) and the mentioned users'.
    read_msgs = models.PositiveIntegerField(
        "messages read", default=0, help_text="The room's message count when last read."
    )
    ls = models.DateTimeField("last seen", default=timezone.now)
    lr = models.DateTimeField("last reply", null=True, blank=True)
    user_mentions = models.PositiveIntegerField(default=0, help_text="@name since last read.")
    group_mentions = models.PositiveIntegerField(default=0, help_text="@all, @here since read.")
    # Hidden from the sidebar (channels.close, hideRoom) at this time, or open (null). As in
    # Rocket.Chat, a newer message reopens it: `open` is derived (rooms.serializers), so no send
    # writes the subscriptions of a room to reopen them.
    closed_at = models.DateTimeField("hidden since", null=True, blank=True)
    f = models.BooleanField("favourite", default=False)
    # Shown instead of the room's name: a direct conversation is named after the other member
    # (its creator sets these); channels and groups leave them blank and show the room's.
    # A group conversation names all the others, ", "-separated (Rocket.Chat's).
    name = models.CharField(max_length=1000, blank=True)
    fname = models.CharField(max_length=2000, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    roles = models.ManyToManyField(
        "permissions.Role",
        blank=True,
        related_name="subscriptions",
        limit_choices_to={"scope": "Subscriptions"},
        help_text="Roles held in this room only (owner, moderator, leader).",
    )

    # The user's own state, none of it authorisation: a read mark or a mention must not
    # replace the access cache's generation on every read and every mention.
    STATE = frozenset(
        {"read_msgs", "ls", "lr", "user_mentions", "group_mentions", "closed_at", "f"}
        | {"updated_at"}
    )

    access_cache = Watched(
        "get_room keeps whether the caller is a member of a room",
        harmless_columns=STATE,
        many_to_many={"roles": Watched("who holds which role in a room: authorisation")},
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_subscription_unique"),
        ]
        indexes = [models.Index(fields=["user"], name="rooms_subscription_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class RemovedSubscription(models.Model):
    """A record that a user stopped being a member of a room (left, was removed, or the room
    was deleted), so that subscriptions.get and rooms.get with `updatedSince` can list it under
    `remove` (Rocket.Chat keeps a trash collection for the same purpose). A later membership of
    the same room hides it (rooms.selectors.removed_since)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="removed_subscriptions"
    )
    # Not a foreign key: the room may be gone.
    room_id = models.CharField(max_length=34)
    removed_at = models.DateTimeField(default=timezone.now)

    access_cache = NotWatched("no kept answer reads it: only updatedSince lists do")

    class Meta:
        indexes = [
            models.Index(fields=["user", "removed_at"], name="rooms_removedsub_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} left {self.room_id}"


class Message(models.Model):
    # Ours are 17 random characters; chat.sendMessage may bring a client-chosen id.
    id = models.CharField(primary_key=True, max_length=32, default=random_id, editable=False)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # A message outlives its author's account.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="messages"
    )
    msg = models.TextField("text")
    ts = models.DateTimeField(editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # What chat.postMessage may add (Rocket.Chat's names): shown instead of the author's name,
    # an emoji or avatar URL for the author, and rich attachments, stored as given.
    alias = models.CharField(max_length=250, blank=True)
    emoji = models.CharField(max_length=100, blank=True)
    avatar = models.CharField(max_length=1000, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    groupable = models.BooleanField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    access_cache = NotWatched(
        "no message is kept: access_message and every page read them fresh, and a send, the "
        "hottest write, must not replace the generation"
    )

    class Meta:
        constraints = [
            # Within a room, times strictly increase (rooms.services.send_message sees to it), so
            # (room, ts) is a key: history pages by it without ever skipping or repeating, and
            # the index behind the constraint gives the newest N of any room by an index scan.
            models.UniqueConstraint(fields=["room", "ts"], name="rooms_message_room_ts_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.ts:%Y-%m-%d %H:%M:%S}: {self.msg[:40]}"
