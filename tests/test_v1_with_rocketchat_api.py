"""Today's reference client, unchanged, against a real `make run`: the `rocketchat-api` package
from PyPI drives a whole session the way a bot or script written for Rocket.Chat would."""

import pytest
from rocketchat_API.APIExceptions.RocketExceptions import RocketApiException
from rocketchat_API.rocketchat import RocketChat

from tests.servers import make_run, own_database

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "an admin passphrase"


@pytest.fixture
def server_url(tmp_path):
    with (
        own_database(tmp_path) as database_url,
        make_run(
            tmp_path,
            database_url,
            ADMIN_USERNAME="admin",
            ADMIN_EMAIL="admin@example.com",
            ADMIN_PASSWORD=ADMIN_PASSWORD,
            RATELIMIT_RATE="1000/s",
        ) as (port, _log),
    ):
        yield f"http://127.0.0.1:{port}"


def test_a_bot_session_with_the_rocketchat_api_client(server_url):
    admin = RocketChat("admin", ADMIN_PASSWORD, server_url=server_url)
    assert admin.info()["success"] is True

    # register anonymously, then log in as the new user
    registered = RocketChat(server_url=server_url).users_register(
        email="bob@example.com", name="Bob", password="a long passphrase of his", username="bob"
    )
    assert registered["success"] is True
    bob = RocketChat("bob", "a long passphrase of his", server_url=server_url)
    me = bob.me()
    assert (me["username"], me["name"], me["active"]) == ("bob", "Bob", True)
    admin_info = bob.users_info(username="admin")["user"]

    # a channel: create, invite, share ownership, talk, read, leave, delete
    rid = bob.channels_create("e2e-room")["channel"]["_id"]
    assert bob.channels_invite(rid, admin_info["_id"])["channel"]["usersCount"] == 2
    assert bob.channels_add_owner(rid, user_id=admin_info["_id"])["success"] is True
    posted = bob.chat_post_message("hello from a bot", room_id=rid)
    msg_id = posted["message"]["_id"]
    assert bob.chat_get_message(msg_id)["message"]["msg"] == "hello from a bot"
    assert bob.chat_update(rid, msg_id, "edited by the bot")["success"] is True
    # (the client pages through history and members itself, with offset and count)
    assert [m["msg"] for m in bob.channels_history(rid)] == ["edited by the bot"]
    assert sorted(m["username"] for m in bob.channels_members(room_id=rid)) == ["admin", "bob"]
    assert bob.chat_delete(rid, msg_id)["success"] is True
    assert list(bob.channels_history(rid)) == []
    assert bob.channels_leave(rid)["success"] is True
    assert admin.channels_delete(room_id=rid)["success"] is True

    # roles and permissions over HTTP
    roles = {role["_id"] for role in admin.roles_list()["roles"]}
    assert {"admin", "user", "bot", "owner"} <= roles
    listing = admin.permissions_list_all()
    assert "bulk-create-c" in {p["_id"] for p in listing["update"]}
    assert admin.roles_add_user_to_role("bot", "bob")["success"] is True
    with pytest.raises(RocketApiException):
        bob.roles_add_user_to_role("admin", "bob")  # bob may not hand out roles

    # and out
    assert bob.logout()["success"] is True
    with pytest.raises(RocketApiException):
        bob.me()


def test_direct_messages_subscriptions_settings_and_counters_with_the_client(server_url):
    admin = RocketChat("admin", ADMIN_PASSWORD, server_url=server_url)
    RocketChat(server_url=server_url).users_register(
        email="bob@example.com", name="Bob", password="a long passphrase of his", username="bob"
    )
    bob = RocketChat("bob", "a long passphrase of his", server_url=server_url)
    bob_id = bob.me()["_id"]
    admin_id = admin.me()["_id"]

    # a conversation of two: both creates find the same room, named by both ids
    rid = "".join(sorted([admin_id, bob_id]))
    created = bob.dm_create("admin")["room"]
    assert (created["rid"], created["t"], created["usernames"]) == (rid, "d", ["admin", "bob"])
    assert admin.call_api_post("im.create", username="bob")["room"]["rid"] == rid
    posted = bob.chat_post_message("hello admin", channel="@admin")
    assert posted["message"]["rid"] == rid
    history = admin.call_api_get("im.history", roomId=rid)
    assert [m["msg"] for m in history["messages"]] == ["hello admin"]
    assert [im["_id"] for im in admin.call_api_get("im.list")["ims"]] == [rid]
    # (the client pages through dm.* lists itself, with offset and count)
    assert [m["msg"] for m in bob.dm_history(rid)] == ["hello admin"]
    assert [im["_id"] for im in bob.dm_list()] == [rid]
    counters = admin.call_api_get("im.counters", roomId=rid)
    assert (counters["joined"], counters["unreads"], counters["msgs"]) == (True, 1, 1)
    assert bob.dm_counters(rid)["unreads"] == 0

    # the subscriptions name it after the other, and reading clears the unread count
    subs = {s["rid"]: s for s in admin.subscriptions_get()["update"]}
    assert (subs[rid]["name"], subs[rid]["fname"], subs[rid]["unread"]) == ("bob", "Bob", 1)
    assert admin.subscriptions_read(rid)["success"] is True
    assert admin.call_api_get("im.counters", roomId=rid)["unreads"] == 0

    # settings and a channel's counters, as a client's first screen reads them
    public = {s["_id"] for s in admin.settings_public()}
    assert {"Site_Name", "Message_MaxAllowedSize", "DirectMesssage_maxUsers"} <= public
    general = admin.channels_counters(room_name="general")
    assert general["joined"] is True and general["success"] is True
