"""Each refusal, in each dialect's words: the whole 0.1 and v1 envelope (but its request id) and
the whole Meteor error a socket reads. The services raise one type per reason; these pin what
each dialect's table makes of it."""

from __future__ import annotations

import json

import pytest

from accounts.tokens import issue_login_token
from permissions.models import Role
from rooms.models import Room
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, in_thread, run

READ_ONLY_SEND = "You can't send messages because the room is readonly."
READ_ONLY_DELETE = "You can't delete messages because the room is readonly."
NO_POST_READONLY = 'Missing permission "post-readonly".'


def envelope(response):
    body = response.json()
    body.pop("request_id")
    return response.status_code, body


def error_body(status_code, status, message, error, error_type, detailed_error=""):
    return status_code, {
        "success": False,
        "status": status,
        "message": message,
        "error": error,
        "errorType": error_type,
        "detailed_error": detailed_error,
        "status_code": status_code,
    }


def meteor_error(error, reason, method):
    return {
        "isClientSafe": True,
        "error": error,
        "reason": reason,
        "details": {"method": method},
        "message": f"{reason} [{error}]",
        "errorType": "Meteor.Error",
    }


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


def call(user, method, *params):
    """The `error` of a realtime method's result frame, called by `user` on a fresh socket."""

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(await in_thread(lambda: issue_login_token(user=user)))
            return await ddp.call(method, *params)

    answer = run(scenario())
    assert "result" not in answer, answer
    return answer["error"]


# --- posting: the refusals of access_room(for_write=True) -------------------------------------


def posting_case(case):
    """(room, user) for a refusal to post: `outsider` (NotAMember), `read-only` (ReadOnlyRoom),
    `archived` (RoomArchived), `missing` (RoomNotFound)."""
    poster = UserFactory(username="poster")
    room = RoomFactory(name="lounge", read_only=case == "read-only", archived=case == "archived")
    if case != "outsider":
        SubscriptionFactory(room=room, user=poster)
    return ("nosuchroom" if case == "missing" else room.pk), poster


POSTING = {
    "outsider": (
        error_body(
            403, "fail", "You must join the room to post in it.",
            "You must join the room to post in it.", "error-not-allowed",
        ),
        error_body(
            403, "fail", "You must join the room to post in it.", "error-not-allowed",
            "error-not-allowed",
        ),
        ("error-not-allowed", "You must join the room to post in it."),
    ),
    "read-only": (
        error_body(
            403, "fail", "This room is read-only.", "This room is read-only.", "error-not-allowed",
            NO_POST_READONLY,
        ),
        error_body(
            403, "fail", "This room is read-only.", READ_ONLY_SEND, "error-not-allowed",
            NO_POST_READONLY,
        ),
        ("error-not-allowed", "This room is read-only."),
    ),
    "archived": (
        error_body(400, "fail", "Room is archived.", "Room is archived.", "error-room-archived"),
        error_body(400, "fail", "Room is archived.", "room_is_archived", "error-room-archived"),
        ("error-room-archived", "Room is archived."),
    ),
    "missing": (
        error_body(404, "error", "Room not found.", "Room not found.", "error-room-not-found"),
        error_body(400, "error", "Room not found.", "error-invalid-room", "error-room-not-found"),
        ("error-room-not-found", "Room not found."),
    ),
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case", POSTING)
def test_posting_refusals_in_0_1_and_v1(as_user, case):
    rid, poster = posting_case(case)
    in_0_1, in_v1, _ = POSTING[case]

    assert envelope(post(as_user(poster), f"/api/rooms/{rid}/send", {"msg": "hi"})) == in_0_1
    sent = post(as_user(poster), "/api/v1/chat.sendMessage", {"message": {"rid": rid, "msg": "x"}})
    assert envelope(sent) == in_v1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("case", POSTING)
def test_posting_refusals_in_realtime(case):
    rid, poster = posting_case(case)
    error, reason = POSTING[case][2]

    answer = call(poster, "sendMessage", {"rid": rid, "msg": "hi"})

    assert answer == meteor_error(error, reason, "sendMessage")


# --- deleting in a read-only room (DeletingInReadOnlyRoom) ------------------------------------


def read_only_message():
    author = UserFactory(username="author")
    room = RoomFactory(name="lounge")
    SubscriptionFactory(room=room, user=author)
    message = MessageFactory(room=room, author=author)
    Room.objects.filter(pk=room.pk).update(read_only=True)
    return message, author


@pytest.mark.django_db
def test_deleting_in_a_read_only_room_in_v1(as_user):
    message, author = read_only_message()

    refused = post(
        as_user(author), "/api/v1/chat.delete", {"roomId": message.room_id, "msgId": message.pk}
    )

    assert envelope(refused) == error_body(
        403, "fail", READ_ONLY_DELETE, READ_ONLY_DELETE, "error-not-allowed", NO_POST_READONLY
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deleting_in_a_read_only_room_in_realtime():
    message, author = read_only_message()

    answer = call(author, "deleteMessage", {"_id": message.pk})

    assert answer == meteor_error("error-not-allowed", READ_ONLY_DELETE, "deleteMessage")


# --- joining what is not a public channel (NotJoinable) ---------------------------------------

NOT_JOINABLE = "Only public channels can be joined."


def group_member():
    member = UserFactory(username="member")
    group = RoomFactory(name="hideout", t=Room.Type.GROUP)
    SubscriptionFactory(room=group, user=member)
    return group, member


@pytest.mark.django_db
def test_joining_a_private_group_in_0_1(as_user):
    """(v1 has no groups.join.)"""
    group, member = group_member()

    in_0_1 = post(as_user(member), f"/api/rooms/{group.pk}/join", {})

    assert envelope(in_0_1) == error_body(
        403, "fail", NOT_JOINABLE, NOT_JOINABLE, "error-not-allowed"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_joining_a_private_group_in_realtime():
    group, member = group_member()

    answer = call(member, "joinRoom", group.pk)

    assert answer == meteor_error("error-not-allowed", NOT_JOINABLE, "joinRoom")


# --- roles and permissions: v1's words, our text as the detail --------------------------------


@pytest.fixture
def as_boss(as_user, db):
    return as_user(UserFactory(username="boss", roles=["admin", "user"]))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            "roles.create",
            {"name": "x", "scope": "Rooms"},
            error_body(
                400, "fail", "Invalid scope", "Invalid scope [error-invalid-scope]",
                "error-invalid-scope", "Invalid scope 'Rooms': use Users or Subscriptions.",
            ),
        ),
        (
            "roles.create",
            {"name": "admin"},
            error_body(
                400, "fail", "Role name already exists",
                "Role name already exists [error-duplicate-role-names-not-allowed]",
                "error-duplicate-role-names-not-allowed", "Role 'admin' already exists.",
            ),
        ),
        (
            "roles.delete",
            {"roleId": "owner"},
            error_body(
                400, "fail", "Cannot delete a protected role",
                "Cannot delete a protected role [error-role-protected]", "error-role-protected",
                "Role 'owner' is built in and cannot be deleted.",
            ),
        ),
        (
            "roles.delete",
            {"roleId": "held"},
            error_body(
                400, "fail", "Cannot delete role because it's in use",
                "Cannot delete role because it's in use [error-role-in-use]", "error-role-in-use",
                "Role 'held' is still held: take it from its holders first.",
            ),
        ),
        (
            "roles.removeUserFromRole",
            {"roleId": "bot", "username": "nobody"},
            error_body(
                400, "fail", "There is no user with this username",
                "There is no user with this username [error-invalid-user]", "error-invalid-user",
                "User 'nobody' does not exist.",
            ),
        ),
        (
            "permissions.update",
            {"permissions": [{"_id": "no-such-thing", "roles": []}]},
            error_body(
                400, "fail", "Invalid permission", "Invalid permission",
                "error-invalid-permission", "Permission 'no-such-thing' does not exist.",
            ),
        ),
        (
            "permissions.update",
            {"permissions": [{"_id": "create-c", "roles": ["nosuch"]}]},
            error_body(
                400, "fail", "Invalid role", "Invalid role", "error-invalid-role",
                "Role 'nosuch' does not exist.",
            ),
        ),
    ],
)  # fmt: skip
def test_role_and_permission_refusals_in_v1(as_boss, path, body, expected):
    Role.objects.create(name="held")
    UserFactory(roles=["user", "held"])

    assert envelope(post(as_boss, f"/api/v1/{path}", body)) == expected
