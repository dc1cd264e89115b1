"""Room roles in use: owners, the last owner rule, read-only rooms, archiving, and the
permission matrix of the room endpoints (through a global role and through a room role)."""

import pytest

from permissions.models import Permission
from rooms.models import Message, Room, Subscription
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_last_owner_cannot_leave_while_others_remain(as_user):
    room, owner = RoomFactory(), UserFactory()
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    SubscriptionFactory(room=room)

    response = as_user(owner).post(f"/api/rooms/{room.pk}/leave")

    assert response.status_code == 400
    assert response.json()["errorType"] == "error-you-are-last-owner"
    assert (
        response.json()["message"]
        == "You are the last owner. Please set new owner before leaving the room."
    )
    assert Subscription.objects.filter(room=room, user=owner).exists()


def test_an_owner_may_leave_when_another_owner_stays(as_user):
    room, owner = RoomFactory(), UserFactory()
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    SubscriptionFactory(room=room, roles=["owner"])

    assert as_user(owner).post(f"/api/rooms/{room.pk}/leave").status_code == 200


def test_the_last_member_may_leave_even_as_owner(as_user):
    room, owner = RoomFactory(), UserFactory()
    SubscriptionFactory(room=room, user=owner, roles=["owner"])

    assert as_user(owner).post(f"/api/rooms/{room.pk}/leave").status_code == 200


@pytest.mark.parametrize(("kind", "permission"), [("c", "leave-c"), ("p", "leave-p")])
def test_leaving_needs_leave_c_or_leave_p(as_user, kind, permission):
    room, user = RoomFactory(t=kind), UserFactory()
    SubscriptionFactory(room=room, user=user)
    Permission.objects.get(pk=permission).roles.remove("user")

    response = as_user(user).post(f"/api/rooms/{room.pk}/leave")

    assert response.status_code == 403
    assert Subscription.objects.filter(room=room, user=user).exists()


def test_a_guest_cannot_read_or_join_public_channels_but_reads_their_own_rooms(as_user):
    guest = UserFactory(roles=["guest"])
    outside, inside = RoomFactory(), RoomFactory()
    SubscriptionFactory(room=inside, user=guest)
    api = as_user(guest)

    assert api.get(f"/api/rooms/{outside.pk}/messages").status_code == 403
    assert api.post(f"/api/rooms/{outside.pk}/join").status_code == 403
    assert api.get(f"/api/rooms/{inside.pk}/messages").status_code == 200


@pytest.mark.parametrize(
    ("global_roles", "room_roles", "allowed"),
    [
        (["user"], [], False),
        (["user"], ["owner"], True),
        (["user"], ["moderator"], False),
        (["admin"], [], True),
    ],
)
def test_read_only_rooms_take_messages_from_holders_of_post_readonly(
    as_user, global_roles, room_roles, allowed
):
    room, user = RoomFactory(read_only=True), UserFactory(roles=global_roles)
    SubscriptionFactory(room=room, user=user, roles=room_roles)

    response = as_user(user).post(f"/api/rooms/{room.pk}/send", {"msg": "hi"})

    assert response.status_code == (200 if allowed else 403)
    assert Message.objects.count() == (1 if allowed else 0)


def test_post_readonly_granted_to_a_global_role_works_too(as_user):
    room, user = RoomFactory(read_only=True), UserFactory(roles=["user"])
    SubscriptionFactory(room=room, user=user)
    Permission.objects.get(pk="post-readonly").roles.add("user")

    assert as_user(user).post(f"/api/rooms/{room.pk}/send", {"msg": "hi"}).status_code == 200


@pytest.mark.parametrize(
    ("global_roles", "room_roles", "allowed"),
    [(["user"], [], False), (["user"], ["owner"], True), (["admin"], [], True)],
)
def test_archive_needs_archive_room_globally_or_in_the_room(
    as_user, global_roles, room_roles, allowed
):
    room, user = RoomFactory(), UserFactory(roles=global_roles)
    SubscriptionFactory(room=room, user=user, roles=room_roles)

    response = as_user(user).post(f"/api/room/{room.pk}/archive")

    assert response.status_code == (200 if allowed else 403)
    assert Room.objects.get(pk=room.pk).archived is allowed


@pytest.mark.parametrize(
    ("global_roles", "room_roles", "allowed"), [(["user"], ["owner"], False), (["admin"], [], True)]
)
def test_unarchive_needs_unarchive_room(as_user, global_roles, room_roles, allowed):
    room, user = RoomFactory(archived=True), UserFactory(roles=global_roles)
    SubscriptionFactory(room=room, user=user, roles=room_roles)

    response = as_user(user).post(f"/api/room/{room.pk}/unarchive")

    assert response.status_code == (200 if allowed else 403)
    assert Room.objects.get(pk=room.pk).archived is not allowed


def test_an_archived_room_refuses_joins_and_messages_until_unarchived(as_user):
    admin = UserFactory(roles=["admin"])
    room = RoomFactory()
    SubscriptionFactory(room=room, user=admin)
    api = as_user(admin)

    assert api.post(f"/api/room/{room.pk}/archive").json() == {"status": "success"}
    assert api.post(f"/api/room/{room.pk}/archive").status_code == 200  # twice is fine
    assert (
        api.post(f"/api/rooms/{room.pk}/send", {"msg": "hi"}).json()["errorType"]
        == "error-room-archived"
    )
    outsider_api = as_user(UserFactory())
    assert (
        outsider_api.post(f"/api/rooms/{room.pk}/join").json()["errorType"] == "error-room-archived"
    )

    api = as_user(admin)
    assert api.post(f"/api/room/{room.pk}/unarchive").json() == {"status": "success"}
    assert api.post(f"/api/rooms/{room.pk}/send", {"msg": "hi"}).status_code == 200


def test_archiving_an_unknown_room_is_404(as_user):
    assert (
        as_user(UserFactory(roles=["admin"]))
        .post("/api/room/nosuchroom12345678/archive")
        .status_code
        == 404
    )
