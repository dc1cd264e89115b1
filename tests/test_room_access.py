"""Who may read, join, leave and post where."""

import pytest

from rooms.models import Message, Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_error(response, status, message, error_type, state):
    assert response.status_code == status
    body = response.json()
    assert (body["message"], body["errorType"], body["status"], body["status_code"]) == (
        message,
        error_type,
        state,
        status,
    )


def test_a_member_reads_a_private_group(signed_in, user):
    group = RoomFactory(t="p")
    SubscriptionFactory(room=group, user=user)
    MessageFactory(room=group, msg="inside")

    response = signed_in.get(f"/api/rooms/{group.pk}/messages")

    assert [m["msg"] for m in response.json()["messages"]] == ["inside"]


def test_anyone_signed_in_reads_a_public_channel(signed_in):
    channel = RoomFactory(t="c")
    MessageFactory(room=channel, msg="public")

    response = signed_in.get(f"/api/rooms/{channel.pk}/messages")

    assert [m["msg"] for m in response.json()["messages"]] == ["public"]


def test_a_non_member_cannot_read_a_private_group(signed_in):
    """To a non-member a private group answers as a room that does not exist."""
    group = RoomFactory(t="p")
    MessageFactory(room=group, msg="secret")

    response = signed_in.get(f"/api/rooms/{group.pk}/messages")

    assert_error(response, 404, "Room not found.", "error-room-not-found", "error")
    assert b"secret" not in response.content


def test_reading_needs_a_login(api):
    assert api.get("/api/rooms/GENERAL/messages").status_code == 401


@pytest.mark.parametrize("action", ["join", "leave", "messages", "send"])
def test_an_unknown_room_is_404(signed_in, action):
    method = signed_in.get if action == "messages" else signed_in.post

    response = method(f"/api/rooms/NoSuchRoomAtAll1/{action}", {"msg": "hi"})

    assert_error(response, 404, "Room not found.", "error-room-not-found", "error")


@pytest.mark.parametrize(
    "room_id", ["%00", "r%C3%A9sum%C3%A9", "x" * 200, "a.b", "%27%20OR%201%3D1", "GENERAL%3B"]
)
def test_odd_room_ids_are_404_not_500(signed_in, room_id):
    response = signed_in.post(f"/api/rooms/{room_id}/send", {"msg": "hi"})

    assert response.status_code == 404
    assert response.json()["errorType"] == "error-room-not-found"
    assert not Message.objects.exists()


def test_a_private_group_cannot_be_joined(signed_in, user):
    """Not even seen: to a non-member a private group answers as a room that does not exist."""
    group = RoomFactory(t="p")

    response = signed_in.post(f"/api/rooms/{group.pk}/join")

    assert_error(response, 404, "Room not found.", "error-room-not-found", "error")
    assert not Subscription.objects.filter(room=group, user=user).exists()


def test_an_archived_channel_cannot_be_joined(signed_in, user):
    channel = RoomFactory(archived=True)

    response = signed_in.post(f"/api/rooms/{channel.pk}/join")

    assert_error(response, 400, "Room is archived.", "error-room-archived", "fail")


def test_leaving_a_room_you_are_not_in_is_400(signed_in):
    channel = RoomFactory()

    response = signed_in.post(
        f"/api/rooms/{channel.pk}/leave", "{}", content_type="application/x-www-form-urlencoded"
    )

    assert_error(response, 400, "You are not in this room", "error-user-not-in-room", "fail")


def test_leaving_leaves_other_members_in_place(signed_in, user):
    channel = RoomFactory()
    other = SubscriptionFactory(room=channel, user=UserFactory())
    SubscriptionFactory(room=channel, user=user)

    assert signed_in.post(f"/api/rooms/{channel.pk}/leave").status_code == 200

    assert list(Subscription.objects.filter(room=channel)) == [other]


def test_sending_needs_membership_even_in_a_public_channel(signed_in):
    channel = RoomFactory()

    response = signed_in.post(f"/api/rooms/{channel.pk}/send", {"msg": "hi"})

    assert_error(
        response, 403, "You must join the room to post in it.", "error-not-allowed", "fail"
    )
    assert not Message.objects.exists()
    # after joining, the same message goes through
    signed_in.post(f"/api/rooms/{channel.pk}/join")
    assert signed_in.post(f"/api/rooms/{channel.pk}/send", {"msg": "hi"}).status_code == 200


def test_a_read_only_room_takes_messages_from_owners_only(api, auth_headers, user):
    channel = RoomFactory(read_only=True)
    SubscriptionFactory(room=channel, user=user)
    owner = UserFactory()
    SubscriptionFactory(room=channel, user=owner, roles=["owner"])

    refused = api.post(f"/api/rooms/{channel.pk}/send", {"msg": "hi"}, **auth_headers(user))
    accepted = api.post(f"/api/rooms/{channel.pk}/send", {"msg": "hi"}, **auth_headers(owner))

    assert_error(refused, 403, "This room is read-only.", "error-not-allowed", "fail")
    assert accepted.status_code == 200
    assert Message.objects.count() == 1


def test_an_archived_room_takes_no_messages(signed_in, user):
    channel = RoomFactory(archived=True)
    SubscriptionFactory(room=channel, user=user)

    response = signed_in.post(f"/api/rooms/{channel.pk}/send", {"msg": "hi"})

    assert_error(response, 400, "Room is archived.", "error-room-archived", "fail")
