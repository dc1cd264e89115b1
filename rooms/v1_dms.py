"""Rocket.Chat v1's dm.* and their older names im.*: direct conversations. Every rule lives in
rooms.direct, rooms.services and rooms.access; these views parse, call and shape, in Rocket.Chat's
words (apps/meteor/app/api/server/v1/im.ts).

A direct room is its members' alone: anyone else (administrators too, but for dm.list.everyone
and dm.messages.others, which need view-room-administration) is answered as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import user_of
from accounts.models import User
from accounts.site_settings import direct_message_history_endpoint
from chat_project.http import schema as api
from chat_project.http.errors import RoomNotFound
from chat_project.http.v1 import (
    Flag,
    PageInput,
    Text,
    V1Input,
    V1View,
    forbidden,
    ok,
    paginated,
    v1_error,
    v1_failure,
)
from permissions.checks import check_permission
from rooms.access import get_visible_room
from rooms.direct import create_direct_room, members_key, set_direct_topic
from rooms.models import Room
from rooms.selectors import (
    all_direct_rooms,
    direct_rooms_of,
    membership_of,
    messages_to_show,
    room_members,
    with_direct_members,
)
from rooms.serializers import (
    direct_room_json,
    member_json,
    message_json,
    room_counters,
    subscription_state,
)
from rooms.services import delete_room, hide_room, open_room
from rooms.v1_views import COUNTERS, HistoryView, counters_subject, history_answer

NOT_A_DM = 'The required "roomId" param provided does not match any direct message'
ROOM_ID_REQUIRED = 'Query param "roomId" is required'


def direct_room(user: User, *, room_id: str | None, username: str | None = None) -> Room:
    """Rocket.Chat's findDirectMessageRoom: the caller's direct room by id, or by the other
    member's username (their conversation of two; one's own name, the conversation with
    oneself). Anything else, another's conversation included, is error-room-not-found."""
    if not room_id and not username:
        raise v1_error(
            'Query param "roomId" or "username" is required', "error-room-param-not-provided"
        )
    try:
        if not room_id:
            other = User.objects.by_username((username or "").removeprefix("@")).first()
            if other is None:
                raise RoomNotFound()
            key = members_key([user.pk, other.pk])
            found = Room.objects.filter(members_key=key).values_list("pk", flat=True).first()
            if found is None:
                raise RoomNotFound()
            room_id = found
        return get_visible_room(user, room_id, t=Room.Type.DIRECT, counted=True)
    except RoomNotFound:
        raise v1_error(NOT_A_DM, "error-room-not-found") from None


def member_room(user: User, room_id: str | None, *, words: str = ROOM_ID_REQUIRED) -> Room:
    """The direct room `room_id` for endpoints Rocket.Chat guards with canAccessRoom first
    (open, close, setTopic, counters): a room the caller is not in, or none, is a 403."""
    if not room_id:
        raise v1_error(words, "error-room-param-not-provided")
    try:
        return get_visible_room(user, room_id, t=Room.Type.DIRECT, counted=True)
    except RoomNotFound:
        raise forbidden(detailed_error="Only its members may use a direct conversation.") from None


def ims_page(rooms: Any, page: Any) -> Response:
    """{ims, offset, count, total}: a page of direct rooms with their members. Three queries."""
    total = rooms.count()
    found = list(rooms.order_by(*page.order_by)[page.offset : page.offset + page.count])
    ims = [direct_room_json(room) for room in with_direct_members(found)]
    return ok({"ims": ims, "offset": page.offset, "count": len(ims), "total": total})


# --- the schema of the answers ------------------------------------------------------------------

DIRECT_ROOM = api.DirectRoom()
IMS_PAGE = api.v1_page("DirectRoomPage", "ims", api.DirectRoom(many=True))


class DirectRoomPageInput(PageInput):
    sortable = {"ts": "ts", "_updatedAt": "updated_at", "msgs": "msgs", "lm": "lm"}
    default_sort = ("-updated_at",)

    class Meta:
        ref_name = "DirectRoomPage"


# --- creating and listing -------------------------------------------------------------------------


@extend_schema(
    responses=api.v1_success(
        "DirectRoomCreated",
        {
            "room": api.shape(
                "CreatedDirectRoom",
                {
                    "_id": api.text(),
                    "rid": api.text(),
                    "t": api.text(),
                    "usernames": serializers.ListField(child=api.text()),
                },
            )
        },
    )
)
class CreateView(V1View):
    """POST dm.create {username} or {usernames: "a,b,c"} (a group conversation), excludeSelf?:
    the conversation, made if needed. Answers {room: {_id, rid, t, usernames}}."""

    class Input(V1Input):
        username = Text("The other member's username.")
        usernames = Text('Several, comma-separated: "a,b,c".')
        excludeSelf = Flag("Leave the caller out (an administrator making others' room).")

        class Meta:
            ref_name = "DirectRoomCreate"

    def post(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        if given["username"]:
            names = [given["username"]]
        elif given["usernames"]:
            names = given["usernames"].split(",")
        else:
            raise v1_failure("must have required property 'username'", "error-invalid-params")
        room, members = create_direct_room(
            creator=user, usernames=names, exclude_self=bool(given["excludeSelf"])
        )
        usernames = [member.username for member in members]
        return ok({"room": {"t": room.t, "rid": room.pk, "usernames": usernames, "_id": room.pk}})


@extend_schema(responses=IMS_PAGE)
class ListView(V1View):
    """GET dm.list: the caller's direct conversations, paginated (newest activity first)."""

    Input = DirectRoomPageInput

    def get(self, request: Request) -> Response:
        return ims_page(direct_rooms_of(user_of(request)), self.parse()["page"])


@extend_schema(responses=IMS_PAGE)
class ListEveryoneView(V1View):
    """GET dm.list.everyone: every direct conversation (view-room-administration)."""

    Input = DirectRoomPageInput

    def get(self, request: Request) -> Response:
        check_permission(user_of(request), "view-room-administration")
        return ims_page(all_direct_rooms(), self.parse()["page"])


# --- reading --------------------------------------------------------------------------------------


class DirectLookup(V1Input):
    roomId = Text("The conversation's id (or give username).")
    username = Text("The other member's username.")

    class Meta:
        ref_name = "DirectLookup"


@extend_schema(responses=api.v1_success("DirectHistory", {"messages": api.Message(many=True)}))
class DirectHistoryView(V1View):
    """GET dm.history?roomId=: channels.history's paging (latest, oldest, inclusive, count,
    offset), newest first."""

    Input = HistoryView.Input

    def get(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        if not given["roomId"]:
            raise v1_error(ROOM_ID_REQUIRED, "error-room-param-not-provided")
        return history_answer(direct_room(user, room_id=given["roomId"]), given)


class DirectPageInput(DirectLookup, PageInput):
    sortable = {"ts": "ts"}
    default_sort = ("-ts",)

    class Meta:
        ref_name = "DirectMessagesPage"


@extend_schema(responses=api.v1_page("DirectMessages", "messages", api.Message(many=True)))
class DirectMessagesView(V1View):
    """GET dm.messages?roomId= (or username=): the conversation's messages, paginated."""

    Input = DirectPageInput

    def get(self, request: Request) -> Response:
        given = self.parse()
        room = direct_room(user_of(request), room_id=given["roomId"], username=given["username"])
        messages = messages_to_show().filter(room=room)
        return paginated("messages", messages, given["page"], message_json)


class DirectMembersInput(DirectLookup, PageInput):
    sortable = {"username": "username"}
    default_sort = ("username",)

    class Meta:
        ref_name = "DirectMembersPage"


@extend_schema(
    responses=api.v1_page(
        "DirectMembers",
        "members",
        api.shape(
            "DirectMember", {**api.UserBrief().get_fields(), "status": api.text()}, many=True
        ),
    )
)
class DirectMembersView(V1View):
    """GET dm.members?roomId= (or username=): the conversation's members, by username."""

    Input = DirectMembersInput

    def get(self, request: Request) -> Response:
        given = self.parse()
        room = direct_room(user_of(request), room_id=given["roomId"], username=given["username"])
        return paginated("members", room_members(room), given["page"], member_json)


@extend_schema(responses=COUNTERS)
class DirectCountersView(V1View):
    """GET dm.counters?roomId=: the caller's unread count and mentions, and the room's counts
    (rooms.serializers.room_counters, as channels.counters); another member's (`userId`)
    needs view-room-administration."""

    class Input(V1Input):
        roomId = Text("The conversation's id.")
        userId = Text("Another member's (view-room-administration).")

        class Meta:
            ref_name = "DirectCounters"

    def get(self, request: Request) -> Response:
        given = self.parse()
        subject = counters_subject(user_of(request), given)
        room = member_room(subject, given["roomId"])
        subscription = membership_of(subject, room)
        return ok(room_counters(room, subscription, visible=subscription is not None))


# --- the caller's own state, and the room's -------------------------------------------------------


class RoomIdBody(V1Input):
    roomId = Text("The conversation's id.")

    class Meta:
        ref_name = "DirectRoomId"


@extend_schema(responses=api.V1_DONE)
class DirectOpenView(V1View):
    """POST dm.open {roomId}: the conversation shows in the caller's sidebar again."""

    Input = RoomIdBody

    def post(self, request: Request) -> Response:
        user = user_of(request)
        room = member_room(user, self.parse()["roomId"], words='Body param "roomId" is required')
        subscription = membership_of(user, room)
        if subscription is not None and not subscription_state(subscription)["open"]:
            open_room(user=user, room=room)
        return ok()


@extend_schema(responses=api.V1_DONE)
class DirectCloseView(V1View):
    """POST dm.close {roomId}: hidden from the caller's sidebar until opened or a new message."""

    Input = RoomIdBody

    def post(self, request: Request) -> Response:
        user = user_of(request)
        room = member_room(user, self.parse()["roomId"], words='Body param "roomId" is required')
        subscription = membership_of(user, room)
        if subscription is None:
            raise v1_failure("The user is not subscribed to the room")
        if not subscription_state(subscription)["open"]:
            raise v1_failure("The direct message room, is already closed to the sender")
        hide_room(user=user, room=room)
        return ok()


@extend_schema(responses=api.v1_success("DirectTopic", {"topic": api.text(required=False)}))
class DirectSetTopicView(V1View):
    """POST dm.setTopic {roomId, topic}: any member may; answers {topic} as given."""

    class Input(V1Input):
        roomId = Text("The conversation's id.")
        topic = Text("The new topic (null or absent clears it).", blank=True)

        class Meta:
            ref_name = "DirectTopic"

    def post(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        room = member_room(user, given["roomId"], words='Body param "roomId" is required')
        set_direct_topic(room=room, topic=given["topic"] or "")
        answer: dict[str, Any] = {}
        if given["topic"] is not None:
            answer["topic"] = given["topic"]
        return ok(answer)


@extend_schema(responses=api.V1_DONE)
class DirectDeleteView(V1View):
    """POST dm.delete {roomId} or {username}: the conversation and its messages, for holders
    of delete-d (administrators) among its members."""

    Input = DirectLookup

    def post(self, request: Request) -> Response:
        given, user = self.parse(), user_of(request)
        room = direct_room(user, room_id=given["roomId"], username=given["username"])
        delete_room(by=user, room=room)
        return ok()


# --- an administrator's reading -------------------------------------------------------------------


class OthersInput(PageInput):
    roomId = Text("The conversation's id.")
    sortable = {"ts": "ts"}
    default_sort = ("-ts",)

    class Meta:
        ref_name = "DirectOthers"


@extend_schema(responses=api.v1_page("DirectOthersMessages", "messages", api.Message(many=True)))
class MessagesOthersView(V1View):
    """GET dm.messages.others?roomId=: any conversation's messages, for holders of
    view-room-administration, while API_Enable_Direct_Message_History_EndPoint is on (it is
    off unless an administrator turns it on, as in Rocket.Chat)."""

    Input = OthersInput

    def get(self, request: Request) -> Response:
        check_permission(user_of(request), "view-room-administration")
        if not direct_message_history_endpoint():
            raise v1_error(
                "This endpoint is disabled",
                "error-endpoint-disabled",
                detailed_error="API_Enable_Direct_Message_History_EndPoint is off.",
            )
        given = self.parse()
        room_id = given["roomId"]
        if not room_id:
            raise v1_error('The parameter "roomId" is required', "error-roomid-param-not-provided")
        room = Room.objects.filter(pk=room_id, t=Room.Type.DIRECT).first()
        if room is None:
            raise v1_error(
                f"No direct message room found by the id of: {room_id}", "error-room-not-found"
            )
        messages = messages_to_show().filter(room=room)
        return paginated("messages", messages, given["page"], message_json)
