"""Reads for discovery: spotlight, directory and statistics. Each fixes its query count, whatever
the data size; none shows a room its viewer may not see (a private group they are not in)."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Lower

from accounts.models import User
from rooms.models import Room, Subscription
from rooms.selectors import with_member_counts

# When this process started (for statistics' process.uptime): the module is imported as the
# URLs load, at start-up.
STARTED = time.monotonic()

SPOTLIGHT_LIMIT = 10  # users and rooms, each


def visible_rooms(viewer: User) -> QuerySet[Room]:
    """The rooms `viewer` may see in lists: every public channel, and the private groups (and
    direct rooms) they are a member of. Never another's private group."""
    mine = Subscription.objects.filter(user=viewer).values("room_id")
    return Room.objects.filter(Q(t=Room.Type.CHANNEL) | Q(pk__in=mine))


def spotlight_users(viewer: User, text: str) -> list[User]:
    """Up to SPOTLIGHT_LIMIT active users whose username or name contains `text` (any case), by
    username, each with `outside`: whether they share no room with `viewer`. One query."""
    shared = Subscription.objects.filter(
        user=OuterRef("pk"),
        room_id__in=Subscription.objects.filter(user=viewer).values("room_id"),
    )
    users = User.objects.filter(is_active=True).annotate(shares_a_room=Exists(shared))
    if text:
        users = users.filter(Q(username__icontains=text) | Q(name__icontains=text))
    return list(users.only("id", "username", "name").order_by("username")[:SPOTLIGHT_LIMIT])


def spotlight_rooms(viewer: User, text: str) -> list[Room]:
    """Up to SPOTLIGHT_LIMIT rooms `viewer` may see whose name contains `text` (any case), by
    name. One query."""
    # A direct room has no name to match: spotlight finds its other member among the users.
    rooms = visible_rooms(viewer).filter(t__in=[Room.Type.CHANNEL, Room.Type.GROUP])
    if text:
        rooms = rooms.filter(name__icontains=text)
    return list(rooms.only("id", "name", "t").order_by("name")[:SPOTLIGHT_LIMIT])


def directory_rooms(viewer: User, text: str) -> QuerySet[Room]:
    """directory's channels: the rooms `viewer` may see of types c and p whose name contains
    `text`, with their member counts and `name_insensitive` to sort by."""
    rooms = visible_rooms(viewer).filter(t__in=[Room.Type.CHANNEL, Room.Type.GROUP])
    if text:
        rooms = rooms.filter(name__icontains=text)
    return with_member_counts(rooms).annotate(name_insensitive=Lower("name"))


def directory_users(text: str) -> QuerySet[User]:
    """directory's users: active users whose username or name contains `text`, with
    `name_insensitive` to sort by."""
    users = User.objects.filter(is_active=True)
    if text:
        users = users.filter(Q(username__icontains=text) | Q(name__icontains=text))
    return users.annotate(name_insensitive=Lower("name"))


@dataclass(frozen=True)
class Figures:
    """What the database says for statistics: users, rooms and messages by room type."""

    users: dict[str, Any]
    rooms: dict[str, int]
    messages: dict[str, int]
    last_login: datetime | None
    last_message: datetime | None


def statistics_figures() -> Figures:
    """Counts of users (total, active, active humans and bots), rooms and messages by room
    type, the last login and the last message's time. Two queries."""
    bot = Q(roles="bot")
    users = User.objects.aggregate(
        total=Count("pk", distinct=True),
        active=Count("pk", filter=Q(is_active=True), distinct=True),
        active_bots=Count("pk", filter=Q(is_active=True) & bot, distinct=True),
        last_login=Max("last_login"),
    )
    by_type = {
        row["t"]: row
        for row in Room.objects.order_by()
        .values("t")
        .annotate(rooms=Count("pk"), sent=Sum("msgs"), last=Max("lm"))
    }
    rooms = {t: int(by_type.get(t, {}).get("rooms", 0)) for t in Room.Type.values}
    messages = {t: int(by_type.get(t, {}).get("sent") or 0) for t in Room.Type.values}
    lasts = [row["last"] for row in by_type.values() if row["last"] is not None]
    return Figures(
        users=users,
        rooms=rooms,
        messages=messages,
        last_login=users["last_login"],
        last_message=max(lasts) if lasts else None,
    )


def process_figures() -> dict[str, Any]:
    """This process and its machine, under Rocket.Chat's statistics names (`process`, `os`);
    `process.rss` (its peak resident memory, bytes) is ours."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform != "darwin":
        rss *= 1024  # Linux counts kilobytes
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    free = os.sysconf("SC_AVPHYS_PAGES") * page_size
    return {
        "process": {
            "pid": os.getpid(),
            "uptime": round(time.monotonic() - STARTED, 3),
            "pythonVersion": platform.python_version(),
            "rss": rss,
        },
        "os": {
            "type": platform.system(),
            "platform": sys.platform,
            "arch": platform.machine(),
            "release": platform.release(),
            "uptime": system_uptime(),
            "loadavg": list(os.getloadavg()),
            "totalmem": pages * page_size,
            "freemem": free,
        },
    }


def system_uptime() -> float:
    """Seconds since the machine booted (Linux's /proc/uptime), else 0."""
    try:
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
