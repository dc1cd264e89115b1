"""Rocket.Chat v1's channels.* (public rooms) and groups.* (private groups): one set of views,
told which kind of room they serve. Every rule lives in rooms.services and rooms.access, shared
with the 0.1 API; these views look rooms up the v1 way, parse, call, and shape.

A private group is invisible to non-members: every groups.* lookup answers a non-member as if
the group did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import presence
from accounts.authentication import user_of
from accounts.models import User
from accounts.selectors import user_from_params
from accounts.serializers import user_brief
from chat_project.http import schema as api
from chat_project.http.errors import ApiError, MissingPermission, RoomNotFound
from chat_project.http.fields import json_from_form
from chat_project.http.v1 import (
    MAX_OFFSET,
    Flag,
    PageInput,
    Param,
    Text,
    Time,
    UserLookup,
    V1Input,
    V1View,
    forbidden,
    ok,
    paginated,
    v1_error,
    v1_failure,
)
from permissions.checks import check_permission, has_permission
from rooms.access import can_read_room, get_visible_room, unreadable_why
from rooms.models import Room, Subscription
from rooms.selectors import (
    channel_history,
    members_among,
    membership_of,
    mentions_of,
    messages_to_show,
    room_members,
    room_role_holders,
    with_member_counts,
)
from rooms.serializers import (
    member_json,
    message_json,
    room_counters,
    room_role_json,
    room_v1_json,
    subscription_state,
)
from rooms.services import (
    add_all_users,
    archive_room,
    create_room,
    delete_room,
    hide_room,
    invite_users,
    join_room,
    leave_room,
    open_room,
    remove_from_room,
    set_room_role,
    unarchive_room,
    update_room,
)


@dataclass(frozen=True)
class Kind:
    """What differs between channels.* and groups.*: the room type and Rocket.Chat's words."""

    t: str
    one: str  # the answer's key for a room: "channel" / "group"
    many: str  # ... for a list: "channels" / "groups"
    noun: str  # in error texts: "channel" / "group"
    archived_noun: str  # "channel" / "private group"


CHANNELS = Kind(Room.Type.CHANNEL, "channel", "channels", "channel", "channel")
GROUPS = Kind(Room.Type.GROUP, "group", "groups", "group", "private group")


class RoomInput(V1Input):
    roomId = Text("The room's id (or give roomName).")
    roomName = Text("The room's name.")

    class Meta:
        ref_name = "RoomLookup"


class RoomUserInput(RoomInput, UserLookup):
    class Meta:
        ref_name = "RoomUser"


class RoomView(V1View):
    kind: Kind = CHANNELS
    Input: ClassVar[type[V1Input]] = RoomInput

    def find_room(self, *, checked_archived: bool = True, counted: bool = True) -> Room:
        """The room named by `roomId` or `roomName`, of this view's kind and, for groups, one
        the caller is in (rooms.access.get_visible_room); Rocket.Chat's
        findChannelByIdOrName / findPrivateGroupByIdOrName, and their words for a miss. With
        `counted`, its `users_count` too; without, a room named by id comes from get_room (and
        so usually from the access cache)."""
        given = self.parse()
        room_id, room_name = given["roomId"], given["roomName"]
        if not room_id and not room_name:
            raise v1_error(
                'The parameter "roomId" or "roomName" is required',
                "error-roomid-param-not-provided",
            )
        try:
            room = get_visible_room(
                user_of(self.request),
                room_id,
                name=room_name,
                t=self.kind.t,
                joined_only=self.kind is GROUPS,
                counted=counted,
            )
        except RoomNotFound:
            # Rocket.Chat's words for a miss name the parameters and the kind of room.
            raise v1_error(
                'The required "roomId" or "roomName" param provided does not match any '
                + self.kind.noun,
                "error-room-not-found",
            ) from None
        if checked_archived and room.archived:
            raise v1_error(
                f"The {self.kind.archived_noun}, {room.name}, is archived", "error-room-archived"
            )
        return room

    def room_answer(self, room: Room) -> Response:
        """`{"channel": {...}}` (or "group"), freshly read so it shows what just changed."""
        fresh = with_member_counts(Room.objects.filter(pk=room.pk)).get()
        return ok({self.kind.one: room_v1_json(fresh)})


# --- the schema of the answers, for both kinds --------------------------------------------------
# channels.* answers a room under "channel" (a list under "channels"); groups.* under "group".

ROOM_ANSWER = api.v1_success(
    "RoomAnswer", {"channel": api.Room(required=False), "group": api.Room(required=False)}
)
DONE = api.V1_DONE
ROOM_PAGE = api.v1_success(
    "RoomPage",
    {
        "channels": api.Room(many=True, required=False),
        "groups": api.Room(many=True, required=False),
        "count": serializers.IntegerField(),
        "offset": serializers.IntegerField(),
        "total": serializers.IntegerField(),
    },
)


# --- reading -------------------------------------------------------------------------------------


class RoomPageInput(PageInput):
    sortable = {
        "name": "name",
        "msgs": "msgs",
        "ts": "ts",
        "_updatedAt": "updated_at",
        "usersCount": "users_count",
    }
    default_sort = ("name",)


@extend_schema(responses=ROOM_PAGE)
class ListView(RoomView):
    """channels.list: every public channel for holders of view-c-room, else the caller's own.
    groups.list: the caller's private groups."""

    Input = RoomPageInput

    def get(self, request: Request) -> Response:
        user = user_of(request)
        rooms: QuerySet[Room] = Room.objects.filter(t=self.kind.t)
        if self.kind is CHANNELS and not has_permission(user, "view-c-room"):
            if not has_permission(user, "view-joined-room"):
                raise MissingPermission("view-c-room", "view-joined-room", any_of=True)
            rooms = rooms.filter(subscriptions__user=user)
        elif self.kind is GROUPS:
            rooms = rooms.filter(subscriptions__user=user)
        page = self.parse()["page"]
        return paginated(self.kind.many, with_member_counts(rooms), page, room_v1_json)


@extend_schema(responses=ROOM_PAGE)
class ListJoinedView(RoomView):
    """channels.list.joined: the public channels the caller is in."""

    Input = RoomPageInput

    def get(self, request: Request) -> Response:
        rooms = Room.objects.filter(t=self.kind.t, subscriptions__user=user_of(request))
        page = self.parse()["page"]
        return paginated(self.kind.many, with_member_counts(rooms), page, room_v1_json)


@extend_schema(responses=ROOM_ANSWER)
class InfoView(RoomView):
    def get(self, request: Request) -> Response:
        return ok({self.kind.one: room_v1_json(self.find_room(checked_archived=False))})


@extend_schema(responses=api.v1_success("History", {"messages": api.Message(many=True)}))
class HistoryView(RoomView):
    """channels.history: `latest`, `oldest`, `inclusive`, `count` (default 20, at most 100),
    `offset`; newest first."""

    class Input(RoomInput):
        latest = Time("Only messages before this time.")
        oldest = Time("Only messages after this time.")
        count = serializers.IntegerField(
            help_text="How many (default 20, at most 100).", required=False, min_value=0
        )
        offset = serializers.IntegerField(
            help_text="How many to skip.", required=False, min_value=0, max_value=MAX_OFFSET
        )
        inclusive = Flag("Include messages at latest and oldest.")

    def get(self, request: Request) -> Response:
        given = self.parse()
        room = self.find_room(checked_archived=False, counted=False)
        if not can_read_room(user_of(request), room):
            raise forbidden(detailed_error=unreadable_why(room))
        return history_answer(room, given)


def history_answer(room: Room, given: dict[str, Any]) -> Response:
    """channels.history's answer, and groups' and dm's: {messages}, newest first, between
    `latest` and `oldest`, at most 100 (20 unless `count` says)."""
    messages = channel_history(
        room,
        latest=given["latest"],
        oldest=given["oldest"],
        inclusive=bool(given["inclusive"]),
        offset=given.get("offset", 0),
        count=min(given.get("count") or 20, 100),
    )
    return ok({"messages": [message_json(m) for m in messages]})


@extend_schema(responses=api.v1_page("MessagePage", "messages", api.Message(many=True)))
class MessagesView(RoomView):
    """channels.messages: the room's messages, paginated with a total, newest first."""

    class Input(RoomInput, PageInput):
        sortable = {"ts": "ts"}
        default_sort = ("-ts",)

    def get(self, request: Request) -> Response:
        room = self.find_room(checked_archived=False)
        if not can_read_room(user_of(request), room):
            raise forbidden(detailed_error=unreadable_why(room))
        messages = messages_to_show().filter(room=room)
        return paginated("messages", messages, self.parse()["page"], message_json)


@extend_schema(
    responses=api.v1_page(
        "MemberPage",
        "members",
        api.shape("Member", {**api.UserBrief().get_fields(), "status": api.text()}, many=True),
    ),
)
class MembersView(RoomView):
    """channels.members: the room's members, paginated, by username."""

    class Input(RoomInput, PageInput):
        sortable = {"username": "username"}
        default_sort = ("username",)

    def get(self, request: Request) -> Response:
        room = self.find_room(checked_archived=False)
        if not can_read_room(user_of(request), room):
            raise forbidden(detailed_error=unreadable_why(room))
        return paginated("members", room_members(room), self.parse()["page"], member_json)


@extend_schema(
    responses=api.v1_success("Moderators", {"moderators": api.UserBrief(many=True)}),
)
class ModeratorsView(RoomView):
    def get(self, request: Request) -> Response:
        room = self.find_room()
        moderators = (
            room_members(room).filter(subscriptions__roles="moderator").order_by("username")
        )
        return ok({"moderators": [user_brief(user) for user in moderators]})


@extend_schema(
    responses=api.v1_success(
        "RoomRoles",
        {
            "roles": api.shape(
                "RoomRoleHolder",
                {
                    "rid": api.text(),
                    "u": api.UserBrief(),
                    "roles": serializers.ListField(child=api.text(blank=True)),
                },
                many=True,
            )
        },
    ),
)
class RolesView(RoomView):
    """channels.roles: the members who hold room roles, and which."""

    def get(self, request: Request) -> Response:
        room = self.find_room()
        return ok({"roles": [room_role_json(sub) for sub in room_role_holders(room)]})


COUNTERS = api.v1_success(
    "Counters",
    {
        "joined": api.flag(),
        "members": serializers.IntegerField(allow_null=True),
        "unreads": serializers.IntegerField(allow_null=True),
        "unreadsFrom": serializers.CharField(allow_null=True),
        "msgs": serializers.IntegerField(allow_null=True),
        "latest": serializers.CharField(allow_null=True),
        "userMentions": serializers.IntegerField(allow_null=True),
    },
)


def counters_subject(caller: User, given: dict[str, Any]) -> User:
    """Whose counts channels.counters, groups.counters and dm.counters give: the caller's, or
    with `userId` another user's, for holders of view-room-administration."""
    if not given["userId"]:
        return caller
    check_permission(caller, "view-room-administration")
    return user_from_params(given)


@extend_schema(responses=COUNTERS)
class CountersView(RoomView):
    """channels.counters: the caller's unread count and mentions in the room, and the room's
    own counts (rooms.serializers.room_counters); another user's (`userId`) needs
    view-room-administration."""

    class Input(RoomInput):
        userId = Text("Another user's (view-room-administration).")

    def get(self, request: Request) -> Response:
        caller, given = user_of(request), self.parse()
        subject = counters_subject(caller, given)
        room = self.find_room()
        subscription = membership_of(subject, room)
        visible = subscription is not None or has_permission(caller, "view-room-administration")
        return ok(room_counters(room, subscription, visible=visible))


@extend_schema(responses=DONE)
class OpenView(RoomView):
    """channels.open / groups.open: the room shows in the caller's sidebar again."""

    def post(self, request: Request) -> Response:
        user, room = user_of(request), self.find_room(checked_archived=False)
        shown = own_subscription_shown(user, room, self.kind)
        if shown:
            raise v1_failure(
                f"The {self.kind.archived_noun}, {room.name}, is already open "
                + ("to" if self.kind is CHANNELS else "for")
                + " the sender"
            )
        open_room(user=user, room=room)
        return ok()


@extend_schema(responses=DONE)
class CloseView(RoomView):
    """channels.close / groups.close: hidden from the caller's sidebar, still a member, until
    opened again or a new message arrives (as Rocket.Chat)."""

    def post(self, request: Request) -> Response:
        user, room = user_of(request), self.find_room(checked_archived=False)
        if not own_subscription_shown(user, room, self.kind):
            raise v1_failure(
                f"The {self.kind.archived_noun}, {room.name}, is already closed to the sender"
            )
        hide_room(user=user, room=room)
        return ok()


def own_subscription_shown(user: Any, room: Room, kind: Kind) -> bool:
    """Whether the caller's subscription to `room` is open; Rocket.Chat's words when there is
    none."""
    subscription = Subscription.objects.select_related("room").filter(room=room, user=user).first()
    if subscription is None:
        raise v1_failure(f'The user/callee is not in the {kind.noun} "{room.name}".')
    return bool(subscription_state(subscription)["open"])


# --- membership ----------------------------------------------------------------------------------


@extend_schema_field(
    serializers.ListField(child=serializers.CharField(allow_blank=True), allow_null=True)
)
class Usernames(Param):
    """channels.create's `members`: usernames (one, in a form, as a plain string)."""

    def to_internal_value(self, data: Any) -> list[str]:
        members = [data] if isinstance(data, str) else data or []
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            self.fail("invalid")
        return members


@extend_schema(responses=ROOM_ANSWER)
class CreateView(RoomView):
    """channels.create / groups.create: `name`, `members` (usernames), `readOnly`."""

    class Input(V1Input):
        name = Text(required=True, missing=lambda _: v1_failure('Param "name" is required'))
        members = Usernames(
            refused=lambda _: v1_failure('Param "members" must be an array if provided')
        )
        readOnly = Flag()

        class Meta:
            ref_name = "RoomCreate"

    def post(self, request: Request) -> Response:
        given = self.parse()
        room = create_room(
            creator=user_of(request),
            name=given["name"],
            private=self.kind is GROUPS,
            members=given["members"] or [],
            read_only=bool(given["readOnly"]),
        )
        return self.room_answer(room)


@extend_schema(responses=ROOM_ANSWER)
class JoinView(RoomView):
    """channels.join: `joinCode`, for a channel that has one (channels.setJoinCode)."""

    class Input(RoomInput):
        joinCode = Text("The channel's join code, if it has one.")

        class Meta:
            ref_name = "RoomJoin"

    def post(self, request: Request) -> Response:
        room = self.find_room()
        join_room(user=user_of(request), room=room, join_code=self.parse()["joinCode"])
        return self.room_answer(room)


@extend_schema(responses=ROOM_ANSWER)
class LeaveView(RoomView):
    def post(self, request: Request) -> Response:
        room = self.find_room()
        leave_room(user=user_of(request), room=room)
        return self.room_answer(room)


@extend_schema(responses=ROOM_ANSWER)
class InviteView(RoomView):
    Input = RoomUserInput

    def post(self, request: Request) -> Response:
        room = self.find_room()
        invite_users(by=user_of(request), room=room, users=[user_from_params(self.parse())])
        return self.room_answer(room)


@extend_schema(responses=ROOM_ANSWER)
class KickView(RoomView):
    Input = RoomUserInput

    def post(self, request: Request) -> Response:
        room = self.find_room()
        remove_from_room(by=user_of(request), room=room, user=user_from_params(self.parse()))
        return self.room_answer(room)


@extend_schema(responses=DONE)
class RoomRoleView(RoomView):
    """addOwner/removeOwner, addModerator/removeModerator, addLeader/removeLeader."""

    Input = RoomUserInput
    role = "owner"
    held = True

    def post(self, request: Request) -> Response:
        room = self.find_room()
        user = user_from_params(self.parse())
        set_room_role(by=user_of(request), room=room, user=user, role=self.role, held=self.held)
        return ok()


@extend_schema(responses=DONE)
class DeleteView(RoomView):
    def post(self, request: Request) -> Response:
        delete_room(by=user_of(request), room=self.find_room(checked_archived=False))
        return ok()


@extend_schema(responses=DONE)
class ArchiveView(RoomView):
    def post(self, request: Request) -> Response:
        archive_room(user=user_of(request), room=self.find_room())
        return ok()


@extend_schema(responses=DONE)
class UnarchiveView(RoomView):
    def post(self, request: Request) -> Response:
        room = self.find_room(checked_archived=False)
        if not room.archived:
            raise v1_failure(f"The {self.kind.archived_noun}, {room.name}, is not archived")
        unarchive_room(user=user_of(request), room=room)
        return ok()


# --- settings ------------------------------------------------------------------------------------


def body_param_required(name: str) -> ApiError:
    return v1_failure(f'The bodyParam "{name}" is required')


@extend_schema(responses=ROOM_ANSWER)
class RenameView(RoomView):
    class Input(RoomInput):
        name = Text(required=True, missing=body_param_required)

        class Meta:
            ref_name = "RoomRename"

    def post(self, request: Request) -> Response:
        name = self.parse()["name"]
        if not name.strip():
            raise body_param_required("name")
        room = self.find_room()
        if room.name == name:
            raise v1_failure(
                f"The {self.kind.noun} name is the same as what it would be renamed to."
            )
        update_room(by=user_of(request), room=room, name=name)
        return self.room_answer(room)


def text_setting(help_text: str) -> Text:
    return Text(
        help_text,
        blank=True,
        refused=lambda name: v1_failure(f'The bodyParam "{name}" must be a string without NUL'),
    )


@extend_schema(
    responses=api.v1_success(
        "RoomTextSet",
        {
            "topic": api.text("setTopic's."),
            "description": api.text("setDescription's."),
            "announcement": api.text("setAnnouncement's."),
        },
    ),
)
class TextSettingView(RoomView):
    """setTopic, setDescription, setAnnouncement: answer the new text under its own key."""

    param: str  # the text's name, as the subclass's Input declares it

    def post(self, request: Request) -> Response:
        # Rocket.Chat tells an absent text (refused) from a null one (which clears it).
        if self.param not in self.params():
            raise body_param_required(self.param)
        value = self.parse()[self.param] or ""
        room = self.find_room()
        if getattr(room, self.param) == value and self.param != "announcement":
            raise v1_failure(
                f"The {self.kind.noun} {self.param} is the same as what it would be changed to."
            )
        update_room(by=user_of(request), room=room, **{self.param: value})
        return ok({self.param: value})


class SetTopicView(TextSettingView):
    """channels.setTopic / groups.setTopic {topic}: answers `{"topic": ...}`."""

    param = "topic"

    class Input(RoomInput):
        topic = text_setting("The new topic.")

        class Meta:
            ref_name = "RoomTopic"


class SetDescriptionView(TextSettingView):
    """setDescription {description}: answers `{"description": ...}`."""

    param = "description"

    class Input(RoomInput):
        description = text_setting("The new description.")

        class Meta:
            ref_name = "RoomDescription"


class SetAnnouncementView(TextSettingView):
    """setAnnouncement {announcement}: answers `{"announcement": ...}`; the same one again is
    no error."""

    param = "announcement"

    class Input(RoomInput):
        announcement = text_setting("The new announcement.")

        class Meta:
            ref_name = "RoomAnnouncement"


@extend_schema(responses=ROOM_ANSWER)
class SetReadOnlyView(RoomView):
    class Input(RoomInput):
        readOnly = Flag(required=True, missing=body_param_required)

        class Meta:
            ref_name = "RoomReadOnly"

    def post(self, request: Request) -> Response:
        read_only = self.parse()["readOnly"]
        room = self.find_room()
        if room.read_only == read_only:
            raise v1_failure(
                f"The {self.kind.noun} read only setting is the same as what it would be "
                "changed to."
            )
        update_room(by=user_of(request), room=room, read_only=read_only)
        return self.room_answer(room)


@extend_schema(responses=ROOM_ANSWER)
class SetDefaultView(RoomView):
    class Input(RoomInput):
        default = Flag(
            required=True,
            missing=lambda name: v1_failure(
                f'The bodyParam "{name}" is required', "error-channels-setdefault-is-same"
            ),
        )

        class Meta:
            ref_name = "RoomDefault"

    def post(self, request: Request) -> Response:
        default = self.parse()["default"]
        room = self.find_room()
        if room.is_default == default:
            raise v1_failure(
                "The channel default setting is the same as what it would be changed to.",
                "error-channels-setdefault-missing-default-param",
            )
        update_room(by=user_of(request), room=room, is_default=default)
        return self.room_answer(room)


# --- administration ------------------------------------------------------------------------------


@extend_schema(responses=ROOM_PAGE)
class ListAllView(RoomView):
    """groups.listAll (view-room-administration): every private group."""

    Input = RoomPageInput

    def get(self, request: Request) -> Response:
        check_permission(user_of(request), "view-room-administration")
        rooms = with_member_counts(Room.objects.filter(t=self.kind.t))
        return paginated(self.kind.many, rooms, self.parse()["page"], room_v1_json)


@extend_schema_field({"type": "string", "description": 'JSON such as {"_id": "..."}'})
class RoomQuery(Param):
    """channels.online's `query`: a JSON object naming the room by `_id` or `name`."""

    words = {**Param.words, "invalid": "Invalid query"}

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value = json_from_form(data)
        if not isinstance(value, dict) or not all(
            isinstance(value.get(key, ""), str) and "\x00" not in value.get(key, "")
            for key in ("_id", "name")
        ):
            self.fail("invalid")
        return {key: value[key] for key in ("_id", "name") if value.get(key)}


@extend_schema(
    responses=api.v1_success(
        "OnlineMembers",
        {
            "online": api.shape(
                "OnlineMember", {"_id": api.text(), "username": api.text()}, many=True
            )
        },
    )
)
class OnlineView(RoomView):
    """channels.online / groups.online: the room's members who are not offline (presence),
    by `_id` or a `query` naming the room's `_id` or `name`."""

    class Input(V1Input):
        _id = Text("The room's id.")
        query = RoomQuery(help_text='JSON such as {"_id": "..."} or {"name": "..."}')

        class Meta:
            ref_name = "RoomOnline"

    def get(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        query = given["query"] or {}
        room_id, name = given["_id"] or query.get("_id"), query.get("name")
        if not room_id and not name:
            raise v1_failure("Invalid query")
        missing = "Channel does not exists" if self.kind is CHANNELS else "Group does not exists"
        try:
            room = get_visible_room(
                user, room_id, name=name, t=self.kind.t, joined_only=self.kind is GROUPS
            )
        except RoomNotFound:
            raise v1_failure(missing) from None
        if not can_read_room(user, room):
            raise v1_error("Not Allowed", "error-not-allowed")
        online = presence.not_offline()
        members = members_among(room, online) if online else []
        return ok({"online": [{"_id": pk, "username": name} for pk, name in members]})


@extend_schema(responses=ROOM_ANSWER)
class AddAllView(RoomView):
    """channels.addAll / groups.addAll (add-all-to-room): every user joins the room, or with
    `activeUsersOnly` every active one."""

    class Input(RoomInput):
        activeUsersOnly = Flag("Only active users.")

        class Meta:
            ref_name = "RoomAddAll"

    def post(self, request: Request) -> Response:
        room = self.find_room()
        active_only = bool(self.parse()["activeUsersOnly"])
        add_all_users(by=user_of(request), room=room, active_only=active_only)
        return self.room_answer(room)


@extend_schema(responses=ROOM_ANSWER)
class SetTypeView(RoomView):
    """channels.setType / groups.setType {type: "c" or "p"} (edit-room, and create-c or
    create-p for the kind of room it becomes)."""

    class Input(RoomInput):
        type = Text('"c" (public) or "p" (private).', required=True, missing=body_param_required)

        class Meta:
            ref_name = "RoomType"

    def post(self, request: Request) -> Response:
        t = self.parse()["type"]
        if not t.strip():
            raise body_param_required("type")
        room = self.find_room()
        if room.t == t:
            raise v1_failure(
                f"The {self.kind.archived_noun} type is the same as what it would be changed to."
            )
        update_room(by=user_of(request), room=room, t=t)
        fresh = with_member_counts(Room.objects.filter(pk=room.pk)).get()
        return ok({self.kind.one: room_v1_json(fresh)})


@extend_schema(responses=ROOM_ANSWER)
class SetJoinCodeView(RoomView):
    """channels.setJoinCode {joinCode} (edit-room): joining then takes the code."""

    class Input(RoomInput):
        joinCode = Text("The code.", required=True, missing=body_param_required)

        class Meta:
            ref_name = "RoomJoinCode"

    def post(self, request: Request) -> Response:
        code = self.parse()["joinCode"]
        if not code.strip():
            raise body_param_required("joinCode")
        room = self.find_room()
        update_room(by=user_of(request), room=room, join_code=code)
        return self.room_answer(room)


def custom_fields_refused(_: str) -> ApiError:
    return v1_failure('The bodyParam "customFields" is required with a type like object.')


@extend_schema_field({"type": "object", "additionalProperties": {}})
class CustomFields(Param):
    """setCustomFields' `customFields`: any JSON object (from a form, as JSON text)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = json_from_form(data)
        if not isinstance(value, dict):
            self.fail("invalid")
        return value


@extend_schema(responses=ROOM_ANSWER)
class SetCustomFieldsView(RoomView):
    """channels.setCustomFields / groups.setCustomFields {customFields: {...}} (edit-room):
    stored on the room as given, shown as its `customFields`."""

    class Input(RoomInput):
        customFields = CustomFields(
            required=True, missing=custom_fields_refused, refused=custom_fields_refused
        )

        class Meta:
            ref_name = "RoomCustomFields"

    def post(self, request: Request) -> Response:
        fields = self.parse()["customFields"]
        room = self.find_room()
        update_room(by=user_of(request), room=room, custom_fields=fields)
        return self.room_answer(room)


@extend_schema(responses=api.v1_page("MentionPage", "mentions", api.Message(many=True)))
class MentionsView(RoomView):
    """channels.getAllUserMentionsByChannel: the messages of a room that mention the caller
    (`@username`), oldest first, paginated."""

    class Input(PageInput):
        roomId = Text("The room's id.", required=True, ajv=True)
        sortable = {"ts": "ts"}
        default_sort = ("ts",)

        class Meta:
            ref_name = "RoomMentions"

    def get(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        try:
            room = get_visible_room(user, given["roomId"])
        except RoomNotFound:
            raise v1_error("Invalid room", "error-invalid-room") from None
        if not can_read_room(user, room):
            raise v1_error("Not allowed", "error-not-allowed")
        return paginated("mentions", mentions_of(user, room), given["page"], message_json)
