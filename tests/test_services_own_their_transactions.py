"""The outermost services of rooms and permissions (what views, realtime methods and commands
call) own their transaction, `transaction.atomic(durable=True)` as accounts' do: their writes
and events are committed when they return. Called inside a caller's transaction, they refuse
with Django's RuntimeError instead of quietly joining it; on their own, they run."""

from types import SimpleNamespace

import pytest
from django.db import transaction

from permissions import services as permissions
from permissions.models import Permission, Role
from rooms import services as rooms
from rooms.models import Message, Room
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

NESTED = "A durable atomic block cannot be nested within another atomic block."


@pytest.fixture
def world(db):
    """An admin owning a channel with bob in it and a message of theirs, carol outside it, and
    two roles of an administrator's: `helper` nobody holds, `aide` bob holds, with create-c."""
    boss = UserFactory(username="boss", roles=["admin", "user"])
    bob, carol = UserFactory(username="bob"), UserFactory(username="carol")
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL, creator=boss)
    SubscriptionFactory(room=room, user=boss, roles=["owner"])
    SubscriptionFactory(room=room, user=bob)
    helper, aide = Role.objects.create(name="helper"), Role.objects.create(name="aide")
    bob.roles.add(aide)
    create_c = Permission.objects.get(pk="create-c")
    create_c.roles.add(aide)
    return SimpleNamespace(
        boss=boss,
        bob=bob,
        carol=carol,
        room=room,
        message=MessageFactory(room=room, author=boss),
        helper=helper,
        aide=aide,
        create_c=create_c,
    )


OUTERMOST = {
    "join_room": lambda w: rooms.join_room(user=w.carol, room=w.room),
    "leave_room": lambda w: rooms.leave_room(user=w.bob, room=w.room),
    "archive_room": lambda w: rooms.archive_room(user=w.boss, room=w.room),
    "unarchive_room": lambda w: rooms.unarchive_room(user=w.boss, room=w.room),
    "create_room": lambda w: rooms.create_room(creator=w.boss, name="fresh", members=["bob"]),
    "create_rooms": lambda w: rooms.create_rooms(
        creator=w.boss, records=[{"name": "fresh", "members": ["bob"]}]
    ),
    "invite_users": lambda w: rooms.invite_users(by=w.boss, room=w.room, users=[w.carol]),
    "remove_from_room": lambda w: rooms.remove_from_room(by=w.boss, room=w.room, user=w.bob),
    "set_room_role": lambda w: rooms.set_room_role(
        by=w.boss, room=w.room, user=w.bob, role="moderator", held=True
    ),
    "update_room": lambda w: rooms.update_room(by=w.boss, room=w.room, topic="new"),
    "delete_room": lambda w: rooms.delete_room(by=w.boss, room=w.room),
    "send_message": lambda w: rooms.send_message(user=w.boss, room=w.room, text="hi"),
    "send_message with an id": lambda w: rooms.send_message(
        user=w.boss, room=w.room, text="hi", message_id="mine"
    ),
    "edit_message": lambda w: rooms.edit_message(user=w.boss, message=w.message, text="new"),
    "delete_message": lambda w: rooms.delete_message(user=w.boss, message=w.message),
    "create_role": lambda w: permissions.create_role(name="fresh"),
    "delete_role": lambda w: permissions.delete_role(role=w.helper),
    "add_user_to_role": lambda w: permissions.add_user_to_role(user=w.carol, role=w.helper),
    "remove_user_from_role": lambda w: permissions.remove_user_from_role(user=w.bob, role=w.aide),
    "grant_permission": lambda w: permissions.grant_permission(
        permission=w.create_c, role=w.helper
    ),
    "revoke_permission": lambda w: permissions.revoke_permission(
        permission=w.create_c, role=w.aide
    ),
    "set_permission_roles": lambda w: permissions.set_permission_roles(
        changes=[("create-c", ["admin", "helper"])]
    ),
}


@pytest.mark.parametrize("call", OUTERMOST.values(), ids=OUTERMOST.keys())
def test_an_outermost_service_refuses_to_join_a_callers_transaction(world, call):
    with pytest.raises(RuntimeError, match=NESTED), transaction.atomic():
        call(world)

    call(world)  # on its own, it runs


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("message_id", [None, "mine"])
def test_a_send_commits_before_it_returns(message_id):
    """Without the test's own transaction around it: on PostgreSQL a send without a client's id
    is one statement in autocommit (no BEGIN, no COMMIT), and still refuses a caller's block."""
    boss = UserFactory(username="boss")
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=boss)

    with pytest.raises(RuntimeError, match=NESTED), transaction.atomic():
        rooms.send_message(user=boss, room=room, text="inside", message_id=message_id)
    sent = rooms.send_message(user=boss, room=room, text="alone", message_id=message_id)

    assert [m.msg for m in Message.objects.filter(room=room)] == ["alone"]
    assert sent.pk == (message_id or sent.pk)
    assert transaction.get_connection().in_atomic_block is False
