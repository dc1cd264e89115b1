"""What the room services tell the realtime API, in Rocket.Chat's shapes (after commit)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models.functions import Lower

from chat_project.db.timestamps import epoch_ms
from chat_project.realtime import events
from chat_project.realtime.events import NOTIFY_ROOM, NOTIFY_USER, stream
from rooms.models import Message, Room, Subscription
from rooms.serializers import message_ddp_json, room_v1_json, subscription_ddp_json


def room_ddp_json(room: Room) -> dict[str, Any]:
    """room_v1_json with EJSON dates, as rooms-changed and rooms/get carry a room. Counts the
    members (one query) unless `users_count` is annotated already."""
    if not hasattr(room, "users_count"):
        room.users_count = Subscription.objects.filter(room=room).count()  # type: ignore[attr-defined]
    body = room_v1_json(room)
    body["ts"] = {"$date": epoch_ms(room.ts)}
    body["_updatedAt"] = {"$date": epoch_ms(room.updated_at)}
    if room.lm is not None:
        body["lm"] = {"$date": epoch_ms(room.lm)}
    return body


def direct_room_created(room: Room, subscriptions: list[Subscription]) -> None:
    """A new direct room (its members fetched with it, their subscriptions as written): each
    member's rooms-changed and subscriptions-changed say "inserted", as Rocket.Chat's
    createDirectRoom; hubs learn the memberships. No query."""
    body = room_ddp_json(room)
    batch: list[dict[str, Any]] = [
        {"ctl": "membership", "joined": [(s.user_id, room.pk) for s in subscriptions], "left": []}
    ]
    for subscription in subscriptions:
        uid = subscription.user_id
        subscription.role_names = []  # type: ignore[attr-defined]
        sub = subscription_ddp_json(subscription, subscription.user.username)
        batch.append(stream(NOTIFY_USER, f"{uid}/rooms-changed", ["inserted", body]))
        batch.append(stream(NOTIFY_USER, f"{uid}/subscriptions-changed", ["inserted", sub]))
    events.publish_many(batch)


def joined_subscription(room: Room, user_id: str, roles: list[str]) -> Subscription:
    """The subscription a member who has just joined `room` holds, as join_room and
    insert_rooms write it (nothing read yet before they joined), without reading it back."""
    subscription = Subscription(
        room=room,
        user_id=user_id,
        ts=room.updated_at,
        ls=room.updated_at,
        updated_at=room.updated_at,
        read_msgs=room.msgs,
    )
    subscription.role_names = roles  # type: ignore[attr-defined]
    return subscription


def subscription_changed(*, user: Any, room_id: str) -> None:
    """`user`'s own state in a room changed (read, favourite, hidden, opened): their
    subscriptions-changed says so with the whole subscription, as Rocket.Chat's. Two queries
    (the subscription with its room, its roles)."""
    subscription = (
        Subscription.objects.select_related("room")
        .prefetch_related("roles")
        .filter(room_id=room_id, user=user)
        .first()
    )
    if subscription is None:
        return
    body = subscription_ddp_json(subscription, user.username)
    events.notify_user(user.pk, "subscriptions-changed", ["updated", body])


def message_saved(message: Message) -> None:
    """A new or edited message (author and editor fetched with it, its room too)."""
    room = message.room
    events.message_changed(message_ddp_json(message), room_type=room.t, room_name=room.name)


def message_removed(*, room_id: str, message_id: str) -> None:
    events.message_deleted(room_id=room_id, message_id=message_id)


def members_joined(room: Room, users: dict[str, str], *, owner: str | None = None) -> None:
    """`users` ({user id: username}) became members of `room` (`owner` as its owner)."""
    body = room_ddp_json(room)
    batch: list[dict[str, Any]] = [
        {"ctl": "membership", "joined": [(uid, room.pk) for uid in users], "left": []}
    ]
    for uid, username in users.items():
        roles = ["owner"] if uid == owner else []
        sub = subscription_ddp_json(joined_subscription(room, uid, roles), username)
        batch.append(stream(NOTIFY_USER, f"{uid}/rooms-changed", ["inserted", body]))
        batch.append(stream(NOTIFY_USER, f"{uid}/subscriptions-changed", ["inserted", sub]))
    events.publish_many(batch)


def members_left(room: Room, user_ids: Iterable[str], *, room_gone: bool = False) -> None:
    """`user_ids` are no longer members of `room` (they left, were removed, or it was deleted)."""
    user_ids = list(user_ids)
    batch: list[dict[str, Any]] = [
        {"ctl": "membership", "joined": [], "left": [(uid, room.pk) for uid in user_ids]}
    ]
    if room_gone:
        batch.append({"ctl": "room-gone", "rid": room.pk})
    for uid in user_ids:
        gone = {"_id": room.pk}
        batch.append(stream(NOTIFY_USER, f"{uid}/rooms-changed", ["removed", gone]))
        batch.append(
            stream(
                NOTIFY_USER,
                f"{uid}/subscriptions-changed",
                ["removed", {"_id": f"{room.pk}{uid}", "rid": room.pk}],
            )
        )
    events.publish_many(batch)


def room_changed(room: Room) -> None:
    """The room's settings changed: each member's rooms-changed says so (one query: the
    members, whose number is the room's member count)."""
    member_ids = list(Subscription.objects.filter(room=room).values_list("user_id", flat=True))
    room.users_count = len(member_ids)  # type: ignore[attr-defined]
    body = room_ddp_json(room)
    events.publish_many(
        [stream(NOTIFY_USER, f"{uid}/rooms-changed", ["updated", body]) for uid in member_ids]
    )


def history_cleaned(
    room: Room, *, latest: Any, oldest: Any, inclusive: bool, usernames: list[str]
) -> None:
    """rooms.cleanHistory deleted messages: Rocket.Chat's `<rid>/deleteMessageBulk` on
    stream-notify-room, with the query that chose them (its `ts` bounds as EJSON dates), so
    that clients drop the same messages from what they show."""
    low, high = ("$gte", "$lte") if inclusive else ("$gt", "$lt")
    query = {
        "rid": room.pk,
        "excludePinned": False,
        "ignoreDiscussion": False,
        "ts": {low: {"$date": epoch_ms(oldest)}, high: {"$date": epoch_ms(latest)}},
        "users": usernames,
    }
    events.publish(stream(NOTIFY_ROOM, f"{room.pk}/deleteMessageBulk", [query]))


def room_closed_to_outsiders(room: Room) -> None:
    """`room` became private: the sockets of users who are not its members stop hearing it
    (one query: the members)."""
    members = list(Subscription.objects.filter(room=room).values_list("user_id", flat=True))
    events.room_closed(room_id=room.pk, members=members)


def room_role_changed(*, room: Room, user: Any, role: str, held: bool) -> None:
    events.role_changed(user=user, role=role, held=held, scope=room.pk, audience=room.audience())


EVERYONE = ("all", "here")


def mentions_in(text: str) -> set[str]:
    """The lowercased usernames a message mentions as `@name` (names as NAME_PATTERN allows)."""
    from django.conf import settings

    if "@" not in text:
        return set()
    pattern = re.compile(rf"(?<![\w@])@({settings.NAME_PATTERN})")
    return {name.lower().rstrip(".") for name in pattern.findall(text)}


def mentioned(message: Message, room: Room) -> None:
    """Rocket.Chat's desktop notification (`<uid>/notification` on stream-notify-user) for each
    member a new message mentions by name, or every member for @all and @here; never the
    author. One query, and only for messages that mention someone (or in a direct room,
    where every message notifies the others: direct_message_sent)."""
    if room.t == Room.Type.DIRECT:
        direct_message_sent(message, room)
        return
    names = mentions_in(message.msg)
    if not names:
        return
    members = Subscription.objects.filter(room=room).exclude(user_id=message.author_id)
    if not names & set(EVERYONE):
        members = members.annotate(lower=Lower("user__username")).filter(lower__in=names)
    recipients = list(members.values_list("user_id", flat=True))
    if not recipients:
        return
    author = message.author
    sender = {
        "_id": author.pk if author else None,
        "username": author.username if author else None,
        "name": author.name if author else None,
    }
    who = message.alias or (author.username if author else "")
    notification = {
        "title": f"#{room.name}",
        "text": f"{who}: {message.msg}",
        "payload": {
            "_id": message.pk,
            "rid": room.pk,
            "sender": sender,
            "type": room.t,
            "name": room.name,
            "message": {"msg": message.msg},
        },
    }
    events.publish_many(
        [stream(NOTIFY_USER, f"{uid}/notification", [notification]) for uid in recipients]
    )


def direct_message_sent(message: Message, room: Room) -> None:
    """A message in a direct room notifies its other members, as Rocket.Chat's
    notifyDesktopUser: in a conversation of two, titled with the sender's username and the bare
    text; in a group one, titled with what the recipient calls the room and "sender: text".
    One query (the other members' subscriptions)."""
    others = list(
        Subscription.objects.filter(room=room)
        .exclude(user_id=message.author_id)
        .values_list("user_id", "name")
    )
    if not others:
        return
    author = message.author
    username = author.username if author else ""
    sender = {
        "_id": author.pk if author else None,
        "username": author.username if author else None,
        "name": author.name if author else None,
    }
    payload = {
        "_id": message.pk,
        "rid": room.pk,
        "sender": sender,
        "type": room.t,
        "message": {"msg": message.msg},
    }
    group = len(others) > 1
    batch = []
    for uid, name in others:
        notification = {
            "title": name if group else username,
            "text": f"{username}: {message.msg}" if group else message.msg,
            "payload": payload,
        }
        batch.append(stream(NOTIFY_USER, f"{uid}/notification", [notification]))
    events.publish_many(batch)
