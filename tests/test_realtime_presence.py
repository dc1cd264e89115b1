"""Presence over the socket and over REST: a signed-in socket makes its user online, the last
one closing makes them offline, the status one chooses shows everywhere, and every change
reaches other users' sockets as Rocket.Chat's `user-status` and `stream-user-presence` events."""

from __future__ import annotations

import pytest

from accounts import presence
from accounts.tokens import issue_login_token
from tests.factories import UserFactory
from tests.realtime import DDPClient, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # roles kept

LOGGED = "stream-notify-logged"


@pytest.fixture(autouse=True)
def fresh_presence():
    presence.reset_local_store()
    yield
    presence.reset_local_store()


async def user_status(ddp):
    frame = await ddp.changed(LOGGED, "user-status")
    return frame["fields"]["args"]


def test_a_signed_in_socket_makes_its_user_online_and_the_last_one_closing_offline(api, alice, bob):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def presence_of_alice():
        answer = await rest(
            api, "get", "/api/v1/users.getPresence", bob, bob_token, {"userId": alice.pk}
        )
        assert answer.status_code == 200, answer.json()
        return answer.json()

    async def scenario():
        assert await presence_of_alice() == {"presence": "offline", "success": True}
        async with DDPClient() as watcher:
            await watcher.login_resume(bob_token)
            await watcher.sub(LOGGED, "user-status")
            await watcher.sub("stream-user-presence", alice.pk)

            first = DDPClient()
            await first.__aenter__()
            await first.login_resume(alice_token)
            assert await presence_of_alice() == {"presence": "online", "success": True}
            assert await user_status(watcher) == [[alice.pk, "alice", 1, "", "Alice", ["user"]]]
            frame = await watcher.changed("stream-user-presence", alice.pk)
            assert frame["fields"] == {"eventName": alice.pk, "args": [["alice", 1, ""]]}

            async with DDPClient() as second:  # a second socket changes nothing
                await second.login_resume(alice_token)
            await first.__aexit__(None, None, None)  # the last one closes
            assert await presence_of_alice() == {"presence": "offline", "success": True}
            assert await user_status(watcher) == [[alice.pk, "alice", 0, "", "Alice", ["user"]]]
            await watcher.changed("stream-user-presence", alice.pk)
            await watcher.nothing_more()

    run(scenario())


def test_set_user_status_away_and_busy_show_over_rest_and_in_user_objects(api, alice, bob):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as watcher, DDPClient() as ddp:
            await watcher.login_resume(bob_token)
            await watcher.sub(LOGGED, "user-status")
            await ddp.login_resume(alice_token)
            await user_status(watcher)  # online

            answer = await ddp.call("setUserStatus", "away", "lunch")
            assert "error" not in answer, answer
            assert await user_status(watcher) == [
                [alice.pk, "alice", 2, "lunch", "Alice", ["user"]]
            ]
            got = await rest(
                api, "get", "/api/v1/users.getPresence", bob, bob_token, {"username": "alice"}
            )
            assert got.json() == {"presence": "away", "success": True}
            own = (await rest(api, "get", "/api/v1/users.getPresence", alice, alice_token)).json()
            assert own["presence"] == "away" and own["connectionStatus"] == "online"

            await ddp.call("UserPresence:setDefaultStatus", "busy")
            assert (await user_status(watcher))[0][2] == 3
            info = await rest(
                api, "get", "/api/v1/users.info", bob, bob_token, {"userId": alice.pk}
            )
            assert info.json()["user"]["status"] == "busy"
            me = await rest(api, "get", "/api/v1/me", alice, alice_token)
            assert me.json()["status"] == "busy"

            listed = await rest(api, "get", "/api/v1/users.presence", bob, bob_token)
            assert listed.json() == {
                "users": [
                    {
                        "_id": alice.pk,
                        "username": "alice",
                        "name": "Alice",
                        "status": "busy",
                        "utcOffset": 0,
                        "statusText": "lunch",
                    },
                    {
                        "_id": bob.pk,
                        "username": "bob",
                        "name": "Bob",
                        "status": "online",
                        "utcOffset": 0,
                    },
                ],
                "full": True,
                "success": True,
            }
            some = await rest(
                api, "get", "/api/v1/users.presence", bob, bob_token, {"ids": f"{alice.pk},nobody"}
            )
            assert [user["_id"] for user in some.json()["users"]] == [alice.pk]
            assert some.json()["full"] is False

            bad = await ddp.call("setUserStatus", "sleeping", None)
            assert bad["error"]["error"] == "error-invalid-status"
            await ddp.call("UserPresence:setDefaultStatus", "online")
            assert (await user_status(watcher))[0][2:4] == [1, "lunch"]

            await ddp.call("UserPresence:away")  # the client went idle
            assert (await user_status(watcher))[0][2] == 2
            await ddp.call("UserPresence:online")
            assert (await user_status(watcher))[0][2] == 1

    run(scenario())


def test_users_set_status_over_rest_changes_what_sockets_see(api, alice, bob):
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)
    admin = UserFactory(username="admin", roles=["admin"])  # holds edit-other-user-info
    admin_token = issue_login_token(user=admin)

    async def scenario():
        async with DDPClient() as watcher, DDPClient() as ddp:
            await watcher.login_resume(bob_token)
            await watcher.sub(LOGGED, "user-status")
            await watcher.sub("stream-user-presence", alice.pk)
            await ddp.login_resume(alice_token)
            await user_status(watcher)
            await watcher.changed("stream-user-presence", alice.pk)

            done = await rest(
                api,
                "post",
                "/api/v1/users.setStatus",
                alice,
                alice_token,
                {"status": "busy", "message": "  in a meeting  "},
            )
            assert done.json() == {"success": True}
            assert await user_status(watcher) == [
                [alice.pk, "alice", 3, "in a meeting", "Alice", ["user"]]
            ]
            frame = await watcher.changed("stream-user-presence", alice.pk)
            assert frame["fields"]["args"] == [["alice", 3, "in a meeting"]]

            refused = await rest(
                api,
                "post",
                "/api/v1/users.setStatus",
                bob,
                bob_token,
                {"status": "away", "userId": alice.pk},
            )
            assert refused.status_code == 403
            invalid = await rest(
                api, "post", "/api/v1/users.setStatus", alice, alice_token, {"status": "gone"}
            )
            assert invalid.status_code == 400
            assert invalid.json()["errorType"] == "error-invalid-status"

            by_admin = await rest(
                api,
                "post",
                "/api/v1/users.setStatus",
                admin,
                admin_token,
                {"status": "offline", "username": "alice"},
            )
            assert by_admin.json() == {"success": True}
            assert (await user_status(watcher))[0][2] == 0  # invisible
            listed = await rest(api, "get", "/api/v1/users.list", bob, bob_token)
            statuses = {user["username"]: user["status"] for user in listed.json()["users"]}
            assert statuses == {"admin": "offline", "alice": "offline", "bob": "online"}

    run(scenario())


def test_sockets_of_a_process_that_died_stop_counting_after_the_ttl(settings, alice):
    """What the refresh task's sweep does when another process stops refreshing."""
    settings.PRESENCE_TTL_SECONDS = 3
    presence.connection_opened(alice.pk, "conn-of-a-dead-process")
    assert presence.statuses([alice.pk]) == {alice.pk: "online"}
    presence.store().update([("touch", alice.pk, ("conn-of-a-dead-process",))], 0)  # long ago
    presence.sweep()
    assert presence.statuses([alice.pk]) == {alice.pk: "offline"}


def test_one_subscription_may_watch_several_users_as_rocket_chats_web_client_does(alice, bob):
    carol = UserFactory(username="carol")
    alice_token, carol_token = issue_login_token(user=alice), issue_login_token(user=carol)

    async def scenario():
        async with DDPClient() as watcher:
            await watcher.login_resume(carol_token)
            sub_id = "watch"
            params = ["", {"added": [alice.pk, bob.pk, "nobody-at-all"], "removed": []}]
            await watcher.send(
                {"msg": "sub", "id": sub_id, "name": "stream-user-presence", "params": params}
            )
            first = [
                await watcher.changed("stream-user-presence", alice.pk),
                await watcher.changed("stream-user-presence", bob.pk),
            ]
            await watcher.wait_for(lambda f: f.get("msg") == "ready" and sub_id in f["subs"])
            async with DDPClient() as alices:
                await alices.login_resume(alice_token)
                online = await watcher.changed("stream-user-presence", alice.pk)
            bad = await watcher.sub("stream-user-presence", "", expect="nosub")
            return first, online, bad

    first, online, bad = run(scenario())
    assert [frame["fields"]["args"] for frame in first] == [[["alice", 0, ""]], [["bob", 0, ""]]]
    assert online["fields"]["args"] == [["alice", 1, ""]]
    assert bad["error"]["error"] == "error-invalid-params"
