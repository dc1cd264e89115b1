"""Reads of rooms and messages. Each function fixes its query count, whatever the data size."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from accounts.models import User
from chat_project.db.postgresql.statements import prepared_statement
from chat_project.db.timestamps import changed_after
from rooms.models import Message, RemovedSubscription, Room, Subscription


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


# Plain slotted dataclasses, not frozen ones: a frozen one takes seven times as long to build
# (each field set through object.__setattr__), and a page builds a hundred.
@dataclass(slots=True)
class Person:
    """A message's author or editor, as a page of messages shows them."""

    pk: str
    username: str
    name: str


@dataclass(slots=True)
class ShownMessage:
    """A message of a page, with what rooms.serializers.message_json reads under the same names
    as on a Message: a page of 50 built from plain rows costs a fraction of 50 model instances
    with their authors (and the page is most of what a history request does)."""

    pk: str
    room_id: str
    msg: str
    ts: datetime
    updated_at: datetime
    alias: str
    emoji: str
    avatar: str
    attachments: list[Any]
    groupable: bool | None
    edited_at: datetime | None
    author: Person | None
    edited_by: Person | None

    @property
    def author_id(self) -> str | None:
        return self.author.pk if self.author else None


# The columns a ShownMessage is built from, in its fields' order.
SHOWN_COLUMNS = (
    *("id", "room_id", "msg", "ts", "updated_at", "alias", "emoji", "avatar", "attachments"),
    *("groupable", "edited_at"),
    *(f"author__{name}" for name in PERSON_FIELDS),
    *(f"edited_by__{name}" for name in PERSON_FIELDS),
)
_ATTACHMENTS = SHOWN_COLUMNS.index("attachments")


def shown(rows: Iterable[Sequence[Any]]) -> list[ShownMessage]:
    """Rows of SHOWN_COLUMNS as ShownMessages."""
    return [
        ShownMessage(
            pk=row[0],
            room_id=row[1],
            msg=row[2],
            ts=row[3],
            updated_at=row[4],
            alias=row[5],
            emoji=row[6],
            avatar=row[7],
            attachments=row[8],
            groupable=row[9],
            edited_at=row[10],
            author=Person(*row[11:14]) if row[11] is not None else None,
            edited_by=Person(*row[14:17]) if row[14] is not None else None,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PageShape:
    """What the SQL of a page of messages depends on (LIMIT and OFFSET are written into it)."""

    vendor: str
    before: bool  # has an upper bound on ts
    after: bool  # ... a lower one
    inclusive: bool
    ascending: bool
    offset: int
    count: int


# A page's SQL is built by the ORM once per shape and then reused: building and compiling the
# query was a fifth of a history request's time. None for a shape whose compiled parameters did
# not come out as page_rows supplies them (then the ORM builds that shape every time).
_page_statements: dict[PageShape, tuple[str, list[Any]] | None] = {}
_PAGE_STATEMENTS_MAX = 512
# Stand-ins the statement is compiled with, to check where each parameter lands.
_ROOM_MARK = "\x01room"
_BEFORE_MARK = datetime(2001, 1, 1, tzinfo=UTC)
_AFTER_MARK = datetime(2002, 2, 2, tzinfo=UTC)


def page_query(
    room_id: str, shape: PageShape, before: datetime | None, after: datetime | None
) -> QuerySet[Message, tuple[Any, ...]]:
    messages = Message.objects.filter(room_id=room_id)
    if before is not None:
        messages = messages.filter(**{"ts__lte" if shape.inclusive else "ts__lt": before})
    if after is not None:
        messages = messages.filter(**{"ts__gte" if shape.inclusive else "ts__gt": after})
    ordered = messages.order_by("ts" if shape.ascending else "-ts")
    return ordered[shape.offset : shape.offset + shape.count].values_list(*SHOWN_COLUMNS)


def page_parameters(room_id: str, before: datetime | None, after: datetime | None) -> list[Any]:
    ts = Message._meta.get_field("ts")
    bounds = [ts.get_db_prep_value(b, connection) for b in (before, after) if b is not None]
    return [room_id, *bounds]


def page_rows(
    room_id: str,
    *,
    before: datetime | None,
    after: datetime | None,
    inclusive: bool,
    ascending: bool,
    offset: int,
    count: int,
) -> list[Sequence[Any]]:
    """The SHOWN_COLUMNS of a room's messages between the bounds, in order. One query."""
    if count <= 0:
        return []
    shape = PageShape(
        vendor=connection.vendor,
        before=before is not None,
        after=after is not None,
        inclusive=inclusive,
        ascending=ascending,
        offset=offset,
        count=count,
    )
    try:
        statement = _page_statements[shape]
    except KeyError:
        statement = prepare_page(shape)
        if len(_page_statements) >= _PAGE_STATEMENTS_MAX:
            _page_statements.clear()
        _page_statements[shape] = statement
    if statement is None:
        return list(page_query(room_id, shape, before, after))
    sql, columns = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, page_parameters(room_id, before, after))
        rows: list[Sequence[Any]] = cursor.fetchall()
    # The conversions the ORM would apply (JSON, and SQLite's dates and booleans).
    ops = connection.ops
    converters = [
        (i, found, column)
        for i, column in enumerate(columns)
        if (found := ops.get_db_converters(column) + column.get_db_converters(connection))
    ]
    if not converters:
        return rows
    converted: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for i, functions, column in converters:
            if i == _ATTACHMENTS and values[i] == "[]":  # most messages: spare json.loads
                values[i] = []
                continue
            for convert in functions:
                values[i] = convert(values[i], column, connection)
        converted.append(values)
    return converted


def prepare_page(shape: PageShape) -> tuple[str, list[Any]] | None:
    """The SQL of pages of this shape and its columns; None unless its parameters come out
    exactly as page_parameters gives them (checked with stand-in values). On PostgreSQL it runs
    as a prepared statement: its joins cost more to plan than to run."""
    marks = (_BEFORE_MARK if shape.before else None, _AFTER_MARK if shape.after else None)
    compiler = page_query(_ROOM_MARK, shape, *marks).query.get_compiler(connection.alias)
    sql, compiled = compiler.as_sql()
    columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
    if list(compiled) != page_parameters(_ROOM_MARK, *marks):
        return None
    return prepared_statement(sql), columns


def room_history(
    room: Room, *, count: int, latest: datetime | None = None, oldest: datetime | None = None
) -> list[ShownMessage]:
    """Up to `count` messages of `room`, newest first. One query, an index range scan.

    `latest` and `oldest` are exclusive bounds. With `latest` (or neither) the page is the newest
    messages before it, for paging back; with `oldest` alone it is the first messages after it,
    for paging forward, so a client following either way never skips a message.
    """
    forward = oldest is not None and latest is None
    rows = page_rows(
        room.pk,
        before=latest,
        after=oldest,
        inclusive=False,
        ascending=forward,
        offset=0,
        count=count,
    )
    return shown(rows[::-1] if forward else rows)


def with_member_counts(rooms: QuerySet[Room]) -> QuerySet[Room]:
    """Rooms with their creator and `users_count` (their number of members), in one query.
    The count is a subquery, so that a filter on the rooms' memberships (the rooms a user is in)
    does not narrow what is counted."""
    members = (
        Subscription.objects.filter(room=OuterRef("pk"))
        .order_by()
        .values("room")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return rooms.select_related("creator").annotate(users_count=Coalesce(Subquery(members), 0))


def room_members(room: Room) -> QuerySet[User]:
    return User.objects.filter(subscriptions__room=room)


def members_matching(room: Room, text: str = "") -> QuerySet[User]:
    """The members of `room` whose username or name contains `text` (in any case), by
    username: getUsersOfRoom's filter."""
    members = room_members(room)
    if text:
        members = members.filter(Q(username__icontains=text) | Q(name__icontains=text))
    return members.order_by("username")


def rooms_of(user: User, *, updated_since: datetime | None = None) -> QuerySet[Room]:
    """The rooms `user` is a member of, by name, with their creator and member count, or those
    changed after `updated_since`. One query. (Membership is a subquery, so `users_count`
    counts every member, not only `user`.)"""
    rooms = Room.objects.filter(pk__in=Subscription.objects.filter(user=user).values("room_id"))
    if updated_since is not None:
        rooms = rooms.filter(updated_at__gte=changed_after(updated_since))
    return with_member_counts(rooms).order_by("name")


def subscriptions_of(user: User, *, updated_since: datetime | None = None) -> list[Subscription]:
    """`user`'s subscriptions, with their room and room roles, by room name; with
    `updated_since`, those whose own state or whose room (its counters included: a new message
    changes the unread count) changed after it. Two queries, however many rooms: the
    subscriptions with their rooms, then the roles of them all."""
    found = Subscription.objects.filter(user=user).select_related("room").order_by("room__name")
    if updated_since is not None:
        after = changed_after(updated_since)
        found = found.filter(Q(updated_at__gte=after) | Q(room__updated_at__gte=after))
    return with_role_names(user, list(found))


def membership_of(user: User, room: Room) -> Subscription | None:
    """`user`'s subscription to `room` with the room (its counters too: unread counts need
    them), or None. One query."""
    return Subscription.objects.select_related("room").filter(room=room, user=user).first()


def subscription_of(user: User, room_id: str) -> Subscription | None:
    """`user`'s subscription to the room with this id, with its room and roles, or None. Two
    queries (none for an id no room can have)."""
    if not ROOM_ID_SHAPE.fullmatch(room_id):
        return None
    found = list(Subscription.objects.filter(user=user, room_id=room_id).select_related("room"))
    return with_role_names(user, found)[0] if found else None


def with_role_names(user: User, subscriptions: list[Subscription]) -> list[Subscription]:
    """Gives each of `user`'s `subscriptions` its `role_names` (rooms.serializers.role_names), in
    one query for all of them, by the user's side of the roles table: Django's
    prefetch_related("roles") built a Role object per row and cost half of a 5,000-room
    subscriptions.get (bench/run.py)."""
    if not subscriptions:
        return subscriptions
    held: dict[int, list[str]] = defaultdict(list)
    rows = Subscription.roles.through.objects.filter(subscription__user=user)
    if len(subscriptions) == 1:
        rows = rows.filter(subscription_id=subscriptions[0].pk)
    for subscription_id, role in rows.values_list("subscription_id", "role_id"):
        held[subscription_id].append(role)
    for subscription in subscriptions:
        subscription.role_names = held.get(subscription.pk, [])  # type: ignore[attr-defined]
    return subscriptions


def removed_since(user: User, updated_since: datetime) -> list[tuple[str, datetime]]:
    """(room id, when) of the rooms `user` stopped being a member of after `updated_since` and
    has not joined again, latest removal first: the `remove` lists of subscriptions.get and
    rooms.get. One query."""
    again = Subscription.objects.filter(user=user, room_id=OuterRef("room_id"))
    removed = (
        RemovedSubscription.objects.filter(user=user, removed_at__gte=changed_after(updated_since))
        .exclude(Exists(again))
        .order_by("room_id", "-removed_at")
        .values_list("room_id", "removed_at")
    )
    latest: dict[str, datetime] = {}
    for room_id, when in removed:
        latest.setdefault(room_id, when)
    return list(latest.items())


def room_role_holders(room: Room) -> QuerySet[Subscription]:
    """The memberships of `room` that hold room roles, with their user and roles, by username.
    Two queries."""
    return (
        Subscription.objects.filter(room=room, roles__isnull=False)
        .distinct()
        .select_related("user")
        .prefetch_related("roles")
        .order_by("user__username")
    )


def channel_history(
    room: Room,
    *,
    latest: datetime | None,
    oldest: datetime | None,
    inclusive: bool,
    offset: int,
    count: int,
) -> list[ShownMessage]:
    """v1's channels.history: messages between `oldest` and `latest` (exclusive unless
    `inclusive`), newest first, `offset` of them skipped. One query."""
    rows = page_rows(
        room.pk,
        before=latest,
        after=oldest,
        inclusive=inclusive,
        ascending=False,
        offset=offset,
        count=count,
    )
    return shown(rows)


def unread_between(room: Room, *, after: datetime, before: datetime) -> tuple[Message | None, int]:
    """The first message of `room` later than `after` and earlier than `before`, and how many
    there are: loadHistory's unread messages not loaded. Two queries."""
    between = messages_to_show().filter(room=room, ts__gt=after, ts__lt=before)
    return between.order_by("ts").first(), between.count()


# Room ids are Meteor ids, "GENERAL", or two of them side by side (rooms.access checks the same).
ROOM_ID_SHAPE = re.compile(r"[0-9A-Za-z]{1,34}")
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


def room_by_id_or_name(value: str, rooms: QuerySet[Room] | None = None) -> Room | None:
    """Rocket.Chat's findOneByIdOrName: the room with this id, else the one with this name
    (regardless of case, as names are unique), from `rooms` (all by default). At most two
    queries."""
    if not value or len(value) > 64 or "\x00" in value:
        return None
    rooms = Room.objects.all() if rooms is None else rooms
    room = rooms.filter(pk=value).first()
    if room is None:
        room = room_by_name(value, rooms)
    return room


def room_by_name(value: str, rooms: QuerySet[Room]) -> Room | None:
    """The room of `rooms` with this name, regardless of case (names are unique). One query."""
    if not value or len(value) > 64 or "\x00" in value:
        return None
    return rooms.alias(lower=Lower("name")).filter(lower=value.lower()).first()


def member_room_ids(user: User) -> set[str]:
    """The ids of the rooms `user` is a member of (one query)."""
    return set(Subscription.objects.filter(user=user).values_list("room_id", flat=True))


def admin_rooms(*, text: str = "", types: Sequence[str] = ()) -> QuerySet[Room]:
    """rooms.adminRooms: every room whose name contains `text` (in any case), of one of `types`
    if any are given (Rocket.Chat's "discussions" and "teams" match no room of ours), with
    creator and member count. One query (and one for the total)."""
    rooms = Room.objects.all()
    if text:
        rooms = rooms.filter(name__icontains=text)
    if types:
        rooms = rooms.filter(t__in=list(types))
    return with_member_counts(rooms)


def rooms_named_like(user: User, text: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """rooms.autocomplete.channelAndPrivate: up to `limit` channels and private groups that
    `user` is a member of whose name contains `text` (in any case), by name, as
    {_id, fname, name, t}. One query."""
    rooms = Room.objects.filter(
        t__in=[Room.Type.CHANNEL, Room.Type.GROUP],
        pk__in=Subscription.objects.filter(user=user).values("room_id"),
    )
    if text:
        rooms = rooms.filter(name__icontains=text)
    return [
        {"_id": pk, "fname": name, "name": name, "t": t}
        for pk, name, t in rooms.order_by("name").values_list("pk", "name", "t")[:limit]
    ]


def members_among(room: Room, user_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(id, username) of those of `user_ids` who are members of `room`, by username. One
    query."""
    return list(
        User.objects.filter(subscriptions__room=room, pk__in=list(user_ids))
        .order_by("username")
        .values_list("pk", "username")
    )


def mentions_of(user: User, room: Room) -> QuerySet[Message]:
    """The messages of `room` that mention `user` by name (`@username`, as
    rooms.notify.mentions_in reads a message; not @all or @here), with author and editor."""
    name = re.escape(user.username)
    # A mention is "@name" not inside a word or another mention and not followed by more of a
    # name (a trailing "." ends a sentence, as mentions_in strips it).
    pattern = rf"(^|[^0-9A-Za-z_@])@{name}(\.?([^0-9A-Za-z_.-]|$))"
    return messages_to_show().filter(room=room, msg__iregex=pattern)


# --- direct rooms ---------------------------------------------------------------------------------


def by_display_name(users: Iterable[User]) -> list[User]:
    """Rocket.Chat's order of a direct room's members: by name (or username), any case."""
    return sorted(users, key=lambda u: ((u.name or u.username).lower(), u.username.lower()))


def direct_rooms_of(user: User) -> QuerySet[Room]:
    """dm.list: the direct rooms `user` is a member of, with their member counts."""
    mine = Subscription.objects.filter(user=user).values("room_id")
    return with_member_counts(Room.objects.filter(t=Room.Type.DIRECT, pk__in=mine))


def all_direct_rooms() -> QuerySet[Room]:
    """dm.list.everyone: every direct room, with its member count."""
    return with_member_counts(Room.objects.filter(t=Room.Type.DIRECT))


def with_direct_members(rooms: list[Room]) -> list[Room]:
    """`rooms` with `direct_members` (by display name), as direct_room_json shows them. One
    query, however many rooms."""
    members: dict[str, list[User]] = {room.pk: [] for room in rooms}
    if rooms:
        found = Subscription.objects.filter(room__in=list(members)).select_related("user")
        for subscription in found.only("room", "user", *(f"user__{f}" for f in PERSON_FIELDS)):
            members[subscription.room_id].append(subscription.user)
    for room in rooms:
        room.direct_members = by_display_name(members[room.pk])  # type: ignore[attr-defined]
    return rooms
