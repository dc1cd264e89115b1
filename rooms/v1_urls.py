"""Routes under /api/v1/ for channels.* and groups.*: the same views for both kinds of room."""

import re

from django.urls import URLPattern, re_path

from rooms import v1_rooms_admin as rooms_admin
from rooms import v1_views as v
from rooms.v1_views import CHANNELS, GROUPS, Kind


def routes(prefix: str, kind: Kind) -> list[URLPattern]:
    def route(name: str, view: type[v.RoomView], **options: object) -> URLPattern:
        pattern = "^" + re.escape(f"{prefix}.{name}") + "/?$"
        return re_path(pattern, view.as_view(kind=kind, **options), name=f"{prefix}.{name}")

    return [
        route("list", v.ListView),
        route("info", v.InfoView),
        route("history", v.HistoryView),
        route("messages", v.MessagesView),
        route("members", v.MembersView),
        route("moderators", v.ModeratorsView),
        route("roles", v.RolesView),
        route("counters", v.CountersView),
        route("open", v.OpenView),
        route("close", v.CloseView),
        route("create", v.CreateView),
        route("leave", v.LeaveView),
        route("invite", v.InviteView),
        route("kick", v.KickView),
        route("delete", v.DeleteView),
        route("archive", v.ArchiveView),
        route("unarchive", v.UnarchiveView),
        route("rename", v.RenameView),
        route("setReadOnly", v.SetReadOnlyView),
        route("setTopic", v.SetTopicView),
        route("setDescription", v.SetDescriptionView),
        route("setAnnouncement", v.SetAnnouncementView),
        route("online", v.OnlineView),
        route("addAll", v.AddAllView),
        route("setType", v.SetTypeView),
        route("setCustomFields", v.SetCustomFieldsView),
        *[
            route(f"{verb}{title}", v.RoomRoleView, role=role, held=verb == "add")
            for role, title in (
                ("owner", "Owner"),
                ("moderator", "Moderator"),
                ("leader", "Leader"),
            )
            for verb in ("add", "remove")
        ],
    ]


urlpatterns: list[URLPattern] = [
    *routes("channels", CHANNELS),
    re_path(
        r"^channels\.list\.joined/?$",
        v.ListJoinedView.as_view(kind=CHANNELS),
        name="channels.list.joined",
    ),
    re_path(r"^channels\.join/?$", v.JoinView.as_view(kind=CHANNELS), name="channels.join"),
    re_path(
        r"^channels\.setDefault/?$",
        v.SetDefaultView.as_view(kind=CHANNELS),
        name="channels.setDefault",
    ),
    *routes("groups", GROUPS),
    re_path(
        r"^channels\.setJoinCode/?$",
        v.SetJoinCodeView.as_view(kind=CHANNELS),
        name="channels.setJoinCode",
    ),
    re_path(
        r"^channels\.getAllUserMentionsByChannel/?$",
        v.MentionsView.as_view(kind=CHANNELS),
        name="channels.getAllUserMentionsByChannel",
    ),
    re_path(r"^groups\.listAll/?$", v.ListAllView.as_view(kind=GROUPS), name="groups.listAll"),
    re_path(r"^rooms\.info/?$", rooms_admin.InfoView.as_view(), name="rooms.info"),
    re_path(
        r"^rooms\.adminRooms/?$", rooms_admin.AdminRoomsView.as_view(), name="rooms.adminRooms"
    ),
    re_path(
        r"^rooms\.cleanHistory/?$",
        rooms_admin.CleanHistoryView.as_view(),
        name="rooms.cleanHistory",
    ),
    re_path(
        r"^rooms\.nameExists/?$", rooms_admin.NameExistsView.as_view(), name="rooms.nameExists"
    ),
    re_path(
        r"^rooms\.autocomplete\.channelAndPrivate/?$",
        rooms_admin.AutocompleteChannelAndPrivateView.as_view(),
        name="rooms.autocomplete.channelAndPrivate",
    ),
]
