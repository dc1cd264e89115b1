"""A room role given or taken in a private group is announced (stream-notify-logged
`roles-change`) to its members only; in a public channel, to every signed-in user, as Rocket.Chat
does. Both ways to change a room role: groups.addModerator & co., and roles.addUserToRole."""

from __future__ import annotations

import pytest

from accounts.tokens import issue_login_token
from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def room_of(kind: str, *members) -> Room:
    room = RoomFactory(name=f"the-{kind}", t=kind)
    for member in members:
        SubscriptionFactory(room=room, user=member)
    return room


def test_a_private_groups_role_changes_reach_its_members_only(api, alice, bob):
    boss = UserFactory(username="boss", roles=["admin", "user"])
    carol = UserFactory(username="carol")  # not in the group
    group = room_of(Room.Type.GROUP, boss, alice, bob)
    tokens = {user: issue_login_token(user=user) for user in (boss, bob, carol)}
    who = {"_id": alice.pk, "username": "alice", "name": "Alice"}

    async def scenario():
        async with DDPClient() as bobs, DDPClient() as carols:
            for ddp, user in ((bobs, bob), (carols, carol)):
                await ddp.login_resume(tokens[user])
                await ddp.sub("stream-notify-logged", "roles-change")
            heard = []
            for path, body in (
                ("/api/v1/groups.addModerator", {"roomId": group.pk, "userId": alice.pk}),
                ("/api/v1/groups.removeModerator", {"roomId": group.pk, "userId": alice.pk}),
                (
                    "/api/v1/roles.addUserToRole",
                    {"roleName": "leader", "username": "alice", "roomId": group.pk},
                ),
                (
                    "/api/v1/roles.removeUserFromRole",
                    {"roleName": "leader", "username": "alice", "roomId": group.pk},
                ),
            ):
                answer = await rest(api, "post", path, boss, tokens[boss], body)
                assert answer.status_code == 200, answer.json()
                heard.append(await bobs.changed("stream-notify-logged", "roles-change"))
            await carols.nothing_more(0.5)
            return heard

    heard = run(scenario())
    assert [frame["fields"]["args"] for frame in heard] == [
        [{"type": "added", "_id": "moderator", "u": who, "scope": group.pk}],
        [{"type": "removed", "_id": "moderator", "u": who, "scope": group.pk}],
        [{"type": "added", "_id": "leader", "u": who, "scope": group.pk}],
        [{"type": "removed", "_id": "leader", "u": who, "scope": group.pk}],
    ]


def test_a_public_channels_role_changes_reach_every_signed_in_user(api, alice, bob):
    boss = UserFactory(username="boss", roles=["admin", "user"])
    carol = UserFactory(username="carol")  # not in the channel
    channel = room_of(Room.Type.CHANNEL, boss, alice, bob)
    boss_token, carol_token = issue_login_token(user=boss), issue_login_token(user=carol)

    async def scenario():
        async with DDPClient() as carols:
            await carols.login_resume(carol_token)
            await carols.sub("stream-notify-logged", "roles-change")
            answer = await rest(
                api, "post", "/api/v1/channels.addModerator", boss, boss_token,
                {"roomId": channel.pk, "userId": alice.pk},
            )  # fmt: skip
            assert answer.status_code == 200, answer.json()
            return await carols.changed("stream-notify-logged", "roles-change")

    frame = run(scenario())
    assert frame == {
        "msg": "changed",
        "collection": "stream-notify-logged",
        "id": "id",
        "fields": {
            "eventName": "roles-change",
            "args": [
                {
                    "type": "added",
                    "_id": "moderator",
                    "u": {"_id": alice.pk, "username": "alice", "name": "Alice"},
                    "scope": channel.pk,
                }
            ],
        },
    }
