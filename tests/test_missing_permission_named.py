"""A 403 for want of a permission names it in `detailed_error`; the words clients read
(`message`, `error`, `errorType`) stay Rocket.Chat's. Granted the permission, the same call works."""

import json

import pytest

from permissions.models import Permission
from rooms.models import Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

V1_FORBIDDEN = "User does not have the permissions required for this action"


def envelope(response):
    body = response.json()
    assert body.pop("request_id") == response["X-Request-Id"]
    return response.status_code, body


def refusal(status_code, message, error, error_type, detailed_error, status="error"):
    return status_code, {
        "success": False,
        "status": status,
        "message": message,
        "error": error,
        "errorType": error_type,
        "detailed_error": detailed_error,
        "status_code": status_code,
    }


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def grant(permission, role="user"):
    Permission.objects.get(pk=permission).roles.add(role)


def test_bulk_create_room_names_the_missing_permission_in_0_1(as_user):
    planner = UserFactory(username="planner", roles=["user"])  # holds create-c, not bulk-create-c
    body = {"rooms": [{"name": "plans"}]}

    refused = post(as_user(planner), "/api/bulk/createRoom", body)

    assert envelope(refused) == refusal(
        403,
        "You do not have permission to do this",
        "You do not have permission to do this",
        "error-not-allowed",
        'Missing permission "bulk-create-c".',
    )
    grant("bulk-create-c")
    assert post(as_user(planner), "/api/bulk/createRoom", body).status_code == 200


def test_every_missing_permission_is_named(as_user):
    guest = UserFactory(username="visitor", roles=["guest"])  # neither bulk-create-c nor create-c

    refused = post(as_user(guest), "/api/bulk/createRoom", {"rooms": [{"name": "plans"}]})

    assert envelope(refused)[1]["detailed_error"] == (
        'Missing permissions "bulk-create-c", "create-c".'
    )


def test_channels_create_names_the_missing_permission_in_v1(as_user):
    guest = UserFactory(username="visitor", roles=["guest"])

    refused = post(as_user(guest), "/api/v1/channels.create", {"name": "plans"})

    assert envelope(refused) == refusal(
        403,
        V1_FORBIDDEN,
        f"{V1_FORBIDDEN} [error-unauthorized]",
        "error-unauthorized",
        'Missing permission "create-c".',
    )
    grant("create-c", "guest")
    assert post(as_user(guest), "/api/v1/channels.create", {"name": "plans"}).status_code == 200


def test_a_permission_class_names_what_is_missing_in_v1(as_user):
    plain = UserFactory(username="plain", roles=["user"])
    body = {
        "email": "new@example.com",
        "name": "New",
        "password": "pw-0123456789",
        "username": "new",
    }

    refused = post(as_user(plain), "/api/v1/users.create", body)

    assert envelope(refused) == refusal(
        403,
        V1_FORBIDDEN,
        f"{V1_FORBIDDEN} [error-unauthorized]",
        "error-unauthorized",
        'Missing permission "create-user".',
    )


def test_archiving_names_the_room_permission(as_user):
    member = UserFactory(username="member")
    room = RoomFactory(name="lounge")
    SubscriptionFactory(room=room, user=member)

    refused = as_user(member).post(f"/api/room/{room.pk}/archive")

    assert envelope(refused) == refusal(
        403,
        "You do not have permission to do this",
        "You do not have permission to do this",
        "error-not-allowed",
        'Missing permission "archive-room".',
    )
    Subscription.objects.get(room=room, user=member).roles.add("owner")
    assert as_user(member).post(f"/api/room/{room.pk}/archive").status_code == 200


def test_deleting_anothers_message_names_the_permissions_that_would_do(as_user):
    author, member = UserFactory(username="author"), UserFactory(username="member")
    room = RoomFactory(name="lounge")
    SubscriptionFactory(room=room, user=author)
    SubscriptionFactory(room=room, user=member)
    message = MessageFactory(room=room, author=author)

    refused = post(as_user(member), "/api/v1/chat.delete", {"roomId": room.pk, "msgId": message.pk})

    assert envelope(refused) == refusal(
        403,
        "Not allowed",
        "Not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
        'Missing permission: one of "delete-message", "force-delete-message".',
    )


def test_reading_a_channel_without_view_c_room_says_so(as_user):
    guest = UserFactory(username="visitor", roles=["guest"])  # view-joined-room only
    room = RoomFactory(name="lounge")

    refused = as_user(guest).get(f"/api/rooms/{room.pk}/messages")

    assert envelope(refused) == refusal(
        403,
        "Cannot access room.",
        "Cannot access room.",
        "error-not-allowed",
        'Missing permission "view-c-room". Members may read without it.',
        status="fail",
    )
