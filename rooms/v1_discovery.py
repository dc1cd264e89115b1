"""Rocket.Chat v1's discovery endpoints: spotlight, directory, statistics and statistics.list.
They list users and rooms; a room the caller may not see (another's private group) never
appears (rooms.discovery.visible_rooms)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import presence
from accounts.authentication import user_of
from accounts.models import User
from chat_project.db.timestamps import iso_ms
from chat_project.http import schema as api
from chat_project.http.v1 import (
    PageInput,
    Text,
    V1Input,
    V1View,
    ok,
    parse_input,
    v1_error,
)
from permissions.checks import check_permission, has_permission, requires
from rooms.discovery import (
    directory_rooms,
    directory_users,
    process_figures,
    spotlight_rooms,
    spotlight_users,
    statistics_figures,
)
from rooms.models import Room

# --- spotlight -----------------------------------------------------------------------------------

SPOTLIGHT_USER = api.shape(
    "SpotlightUser",
    {
        "_id": api.text(),
        "username": api.text(),
        "name": api.text(),
        "status": api.text(),
        "outside": api.flag(),
    },
    many=True,
)
SPOTLIGHT_ROOM = api.shape(
    "SpotlightRoom", {"_id": api.text(), "name": api.text(), "t": api.text()}, many=True
)


@extend_schema(
    responses=api.v1_success("Spotlight", {"users": SPOTLIGHT_USER, "rooms": SPOTLIGHT_ROOM})
)
class SpotlightView(V1View):
    """GET /api/v1/spotlight?query=…: up to 10 users (with view-d-room) and 10 rooms (with
    view-c-room: public channels, and one's own private groups) whose names contain the query;
    "@text" searches users only, "#text" rooms only. Users by username, rooms by name."""

    class Input(V1Input):
        query = Text("What the names contain; @ for users only, # for rooms only.", ajv=True)

    def get(self, request: Request) -> Response:
        viewer, query = user_of(request), (self.parse()["query"] or "").strip()
        users_too, rooms_too = not query.startswith("#"), not query.startswith("@")
        text = query.lstrip("@#").strip()
        users: list[dict[str, Any]] = []
        rooms: list[dict[str, Any]] = []
        if users_too and has_permission(viewer, "view-d-room"):
            found = spotlight_users(viewer, text)
            statuses = presence.statuses(user.pk for user in found)
            users = [
                {
                    "_id": user.pk,
                    "username": user.username,
                    "name": user.name,
                    "status": statuses[user.pk],
                    "outside": not user.shares_a_room,  # type: ignore[attr-defined]
                }
                for user in found
            ]
        if rooms_too and has_permission(viewer, "view-c-room"):
            rooms = [
                {"_id": room.pk, "name": room.name, "t": room.t}
                for room in spotlight_rooms(viewer, text)
            ]
        return ok({"users": users, "rooms": rooms})


# --- directory -----------------------------------------------------------------------------------


class DirectoryChannelsPage(PageInput):
    sortable = {
        "name": "name_insensitive",
        "usersCount": "users_count",
        "createdAt": "ts",
        "ts": "ts",
        "lastMessage": "lm",
    }
    default_sort = ("name_insensitive",)


class DirectoryUsersPage(PageInput):
    sortable = {
        "name": "name_insensitive",
        "username": "username",
        "createdAt": "created_at",
    }
    default_sort = ("username",)


class DirectoryInput(DirectoryChannelsPage):
    type = Text("users or channels (the default)")
    text = Text("What the names contain (any case).")

    # The schema's sort names: both kinds' (each kind's page refuses the other's).
    sortable = {**DirectoryChannelsPage.sortable, **DirectoryUsersPage.sortable}


DIRECTORY_ITEM = api.anything("A channel ({_id, name, fname, t, usersCount, ...}) or a user.")


@extend_schema(
    responses=api.v1_success(
        "Directory",
        {
            "result": serializers.ListField(child=DIRECTORY_ITEM),
            "count": serializers.IntegerField(),
            "offset": serializers.IntegerField(),
            "total": serializers.IntegerField(),
        },
    )
)
class DirectoryView(V1View):
    """GET /api/v1/directory?type=channels|users&text=&sort=&offset=&count=: channels (with
    view-c-room: public ones, and one's own private groups) or active users (with view-d-room),
    whose names contain `text`. Answers `{result, count, offset, total}`; a page costs the same
    few queries however many it holds."""

    Input = DirectoryInput

    def get(self, request: Request) -> Response:
        given, viewer = self.parse(), user_of(request)
        kind, text = (given["type"] or "channels").lower(), given["text"] or ""
        if kind == "users":
            check_permission(viewer, "view-d-room")
            page = parse_input(DirectoryUsersPage, self.params())["page"]
            users = directory_users(text)
            full = has_permission(viewer, "view-full-other-user-info")
            return self.page(users, page, lambda user: directory_user_json(user, full=full))
        if kind == "channels":
            check_permission(viewer, "view-c-room")
            page = parse_input(DirectoryChannelsPage, self.params())["page"]
            return self.page(directory_rooms(viewer, text), page, directory_room_json)
        raise v1_error('The "type" parameter must be users or channels', "error-invalid-params")

    @staticmethod
    def page(found: Any, page: Any, shape: Any) -> Response:
        page = replace(page, order_by=[*page.order_by, "pk"])  # a stable order for paging
        total = found.count()
        items = [
            shape(item) for item in found.order_by(*page.order_by)[page.offset :][: page.count]
        ]
        return ok({"result": items, "count": len(items), "offset": page.offset, "total": total})


def directory_room_json(room: Room) -> dict[str, Any]:
    """A channel as Rocket.Chat's directory lists it."""
    body: dict[str, Any] = {
        "_id": room.pk,
        "name": room.name,
        "fname": room.name,
        "t": room.t,
        "description": room.description,
        "topic": room.topic,
        "usersCount": getattr(room, "users_count", 0),
        "ts": iso_ms(room.ts),
        "archived": room.archived,
        "default": room.is_default,
        "featured": False,
    }
    if room.lm is not None:
        body["lm"] = iso_ms(room.lm)
    return body


def directory_user_json(user: User, *, full: bool) -> dict[str, Any]:
    """A user as Rocket.Chat's directory lists them; emails only for holders of
    view-full-other-user-info."""
    body: dict[str, Any] = {
        "_id": user.pk,
        "username": user.username,
        "name": user.name,
        "createdAt": iso_ms(user.created_at),
    }
    if full:
        body["emails"] = [{"address": user.email, "verified": False}]
    return body


# --- statistics ----------------------------------------------------------------------------------


def statistics_json() -> dict[str, Any]:
    """The server's figures under Rocket.Chat's statistics names (a useful subset of them)."""
    now = timezone.now()
    figures = statistics_figures()
    shown = presence.not_offline()
    by_status = {status: 0 for status in ("online", "away", "busy")}
    for status, _ in shown.values():
        by_status[status] = by_status.get(status, 0) + 1
    users, rooms, messages = figures.users, figures.rooms, figures.messages
    c, p, d = Room.Type.CHANNEL, Room.Type.GROUP, Room.Type.DIRECT
    body: dict[str, Any] = {
        "_id": f"{now:%Y%m%d%H%M%S}",
        "version": settings.VERSION,
        "totalUsers": users["total"],
        "activeUsers": users["active"],
        "activeHumanUsers": users["active"] - users["active_bots"],
        "activeBotUsers": users["active_bots"],
        "nonActiveUsers": users["total"] - users["active"],
        "onlineUsers": by_status["online"],
        "awayUsers": by_status["away"],
        "busyUsers": by_status["busy"],
        "offlineUsers": max(0, users["active"] - len(shown)),
        "totalRooms": sum(rooms.values()),
        "totalChannels": rooms[c],
        "totalPrivateGroups": rooms[p],
        "totalDirect": rooms[d],
        "totalMessages": sum(messages.values()),
        "totalChannelMessages": messages[c],
        "totalPrivateGroupMessages": messages[p],
        "totalDirectMessages": messages[d],
        **process_figures(),
        "createdAt": iso_ms(now),
        "_updatedAt": iso_ms(now),
    }
    if figures.last_login is not None:
        body["lastLogin"] = iso_ms(figures.last_login)
    if figures.last_message is not None:
        body["lastMessageSentAt"] = iso_ms(figures.last_message)
    return body


STATISTICS_FIELDS: dict[str, Any] = {
    "_id": api.text(),
    "version": api.text(),
    **{
        name: serializers.IntegerField()
        for name in (
            *("totalUsers", "activeUsers", "activeHumanUsers", "activeBotUsers"),
            *("nonActiveUsers", "onlineUsers", "awayUsers", "busyUsers", "offlineUsers"),
            *("totalRooms", "totalChannels", "totalPrivateGroups", "totalDirect"),
            *("totalMessages", "totalChannelMessages", "totalPrivateGroupMessages"),
            "totalDirectMessages",
        )
    },
    "process": api.anything("pid, uptime (seconds), pythonVersion, rss (bytes)"),
    "os": api.anything("type, platform, arch, release, uptime, loadavg, totalmem, freemem"),
    "lastLogin": api.text(),
    "lastMessageSentAt": api.text(),
    "createdAt": api.text(),
    "_updatedAt": api.text(),
}


@extend_schema(responses=api.v1_success("Statistics", STATISTICS_FIELDS))
class StatisticsView(V1View):
    """GET /api/v1/statistics (view-statistics): counts of users (total, active, online, away,
    busy, offline), rooms and messages by room type, and this process's figures (uptime,
    memory), under Rocket.Chat's names. Worked out afresh on each call (`refresh` changes
    nothing)."""

    permission_classes = [requires("view-statistics")]

    class Input(V1Input):
        refresh = Text("Accepted; the figures are always fresh.")

    def get(self, request: Request) -> Response:
        self.parse()
        return ok(statistics_json())


@extend_schema(
    responses=api.v1_page(
        "StatisticsList", "statistics", api.shape("StatisticsItem", STATISTICS_FIELDS, many=True)
    )
)
class StatisticsListView(V1View):
    """GET /api/v1/statistics.list (view-statistics): `{statistics, count, offset, total}`. No
    history of figures is kept: the list holds the current figures, once (none past offset 0)."""

    permission_classes = [requires("view-statistics")]
    Input = PageInput

    def get(self, request: Request) -> Response:
        page = self.parse()["page"]
        items = [statistics_json()] if page.offset == 0 else []
        return ok({"statistics": items, "count": len(items), "offset": page.offset, "total": 1})
