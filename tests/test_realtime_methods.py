"""The realtime API's room, message and sync methods: the exact `result` frames a Rocket.Chat
client reads, their errors, and the events their writes publish to subscribed sockets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import User
from accounts.site_settings import public_settings
from accounts.tokens import issue_login_token
from chat_project.db.timestamps import epoch_ms, now_ms
from permissions.models import Permission
from rooms.models import Message, Room, Subscription
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, in_thread, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def meteor_error(error, reason, method=None):
    body = {"isClientSafe": True, "error": error, "reason": reason}
    if method:
        body["details"] = {"method": method}
    return body | {"message": f"{reason} [{error}]", "errorType": "Meteor.Error"}


def invalid_params(method, reason="Invalid parameters"):
    return meteor_error("error-invalid-params", reason, method)


ROOM_NOT_FOUND = meteor_error("error-room-not-found", "Room not found.")


def failed(answer, error):
    """Whether `answer` is the result frame carrying exactly `error`."""
    return answer == {"msg": "result", "id": answer["id"], "error": error}


def succeeded(answer, result):
    return answer == {"msg": "result", "id": answer["id"], "result": result}


def date(moment):
    return {"$date": epoch_ms(moment)}


def changed(collection, event_name, args):
    return {
        "msg": "changed",
        "collection": collection,
        "id": "id",
        "fields": {"eventName": event_name, "args": args},
    }


async def follow_user(ddp, uid):
    """Subscribes to the user's rooms-changed and subscriptions-changed."""
    await ddp.sub("stream-notify-user", f"{uid}/rooms-changed")
    await ddp.sub("stream-notify-user", f"{uid}/subscriptions-changed")


@pytest.fixture
def carol(db):
    """In no room."""
    return UserFactory(username="carol", name="Carol")


@pytest.fixture
def lobby(alice, bob):
    """A public channel: alice owns it, bob is a member."""
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL, creator=alice)
    SubscriptionFactory(room=room, user=alice, roles=["owner"])
    SubscriptionFactory(room=room, user=bob)
    return room


@pytest.fixture
def hideout(alice, bob):
    """A private group of alice (owner) and bob."""
    room = RoomFactory(name="hideout", t=Room.Type.GROUP, creator=alice)
    SubscriptionFactory(room=room, user=alice, roles=["owner"])
    SubscriptionFactory(room=room, user=bob, roles=["moderator"])
    return room


def session(user):
    """A DDPClient context whose socket is logged in as `user` (the token is made in a worker
    thread: the event loop's own may not touch the ORM)."""

    class LoggedIn(DDPClient):
        async def __aenter__(self):
            await super().__aenter__()
            await self.login_resume(await in_thread(lambda: issue_login_token(user=user)))
            return self

    return LoggedIn()


# --- every method ---------------------------------------------------------------------------

SIGNED_IN_ONLY = [
    ("updateMessage", [{"_id": "x", "rid": "GENERAL", "msg": "hi"}]),
    ("deleteMessage", [{"_id": "x"}]),
    ("loadHistory", ["GENERAL", None, 20, None]),
    ("joinRoom", ["GENERAL"]),
    ("leaveRoom", ["GENERAL"]),
    ("createChannel", ["new", []]),
    ("createPrivateGroup", ["new", []]),
    ("createDirectMessage", ["bob"]),
    ("getRoomRoles", ["GENERAL"]),
    ("getUsersOfRoom", ["GENERAL", True]),
    ("rooms/get", []),
    ("subscriptions/get", []),
    ("permissions/get", []),
]


def test_every_method_but_public_settings_needs_a_login():
    async def scenario():
        async with DDPClient() as ddp:
            return [await ddp.call(name, *params) for name, params in SIGNED_IN_ONLY]

    for (name, _), answer in zip(SIGNED_IN_ONLY, run(scenario()), strict=True):
        assert failed(answer, meteor_error("error-invalid-user", "Invalid user", name)), answer


BAD_PARAMS = [
    ("updateMessage", []),
    ("updateMessage", ["not an object"]),
    ("updateMessage", [{"_id": "x", "rid": "GENERAL"}]),
    ("updateMessage", [{"_id": "x", "rid": "GENERAL", "msg": 5}]),
    ("deleteMessage", [{"_id": 5}]),
    ("loadHistory", [5]),
    ("loadHistory", ["GENERAL", "yesterday"]),
    ("loadHistory", ["GENERAL", None, "20"]),
    ("loadHistory", ["GENERAL", None, -1]),
    ("loadHistory", ["GENERAL", None, 20, {"$date": "x"}]),
    ("joinRoom", [None]),
    ("leaveRoom", [["GENERAL"]]),
    ("createChannel", [5, []]),
    ("createChannel", ["new", "bob"]),
    ("createChannel", ["new", [5]]),
    ("createChannel", ["new", [], "yes"]),
    ("createPrivateGroup", ["new", [], False, "fields"]),
    ("createDirectMessage", []),
    ("createDirectMessage", ["bob", 5]),
    ("getRoomRoles", [{}]),
    ("getUsersOfRoom", ["GENERAL", "all"]),
    ("getUsersOfRoom", ["GENERAL", True, {"limit": "5"}]),
    ("getUsersOfRoom", ["GENERAL", True, {"skip": -1}]),
    ("getUsersOfRoom", ["GENERAL", True, None, 7]),
    ("rooms/get", [{"$date": None}]),
    ("subscriptions/get", ["2020-01-01"]),
    ("permissions/get", [{"$date": 1, "extra": 2}]),
    ("public-settings/get", [True]),
]


def test_wrong_parameter_types_are_error_invalid_params_never_a_500(alice):
    async def scenario():
        async with session(alice) as ddp:
            answers = [await ddp.call(name, *params) for name, params in BAD_PARAMS]
            still_fine = await ddp.call("rooms/get")
            return answers, still_fine

    answers, still_fine = run(scenario())
    for (name, params), answer in zip(BAD_PARAMS, answers, strict=True):
        error = answer.get("error", {})
        assert error.get("error") == "error-invalid-params", (name, params, answer)
        assert error["details"] == {"method": name}
    assert failed(answers[2], invalid_params("updateMessage", "msg is required"))
    assert succeeded(still_fine, [])


# --- updateMessage and deleteMessage --------------------------------------------------------


def test_update_message_edits_it_and_the_room_sees_the_edit(alice, bob, lobby):
    message = MessageFactory(room=lobby, author=alice, msg="helo")

    async def scenario():
        async with session(alice) as alices, session(bob) as bobs:
            await bobs.sub("stream-room-messages", lobby.pk)
            answer = await alices.call(
                "updateMessage", {"_id": message.pk, "rid": lobby.pk, "msg": "hello"}
            )
            seen = await bobs.changed("stream-room-messages", lobby.pk)
            return answer, seen

    answer, seen = run(scenario())
    assert answer == {"msg": "result", "id": answer["id"]}  # no result, as Rocket.Chat's
    edited = Message.objects.get(pk=message.pk)
    assert edited.msg == "hello" and edited.edited_by_id == alice.pk
    assert seen == changed(
        "stream-room-messages",
        lobby.pk,
        [
            {
                "_id": message.pk,
                "rid": lobby.pk,
                "msg": "hello",
                "ts": date(message.ts),
                "u": {"_id": alice.pk, "username": "alice", "name": "Alice"},
                "_updatedAt": date(edited.updated_at),
                "editedAt": date(edited.edited_at),
                "editedBy": {"_id": alice.pk, "username": "alice"},
            }
        ],
    )


def test_update_message_refusals(api, alice, bob, carol, lobby, hideout):
    bobs_message = MessageFactory(room=lobby, author=bob, msg="bob's")
    secret = MessageFactory(room=hideout, author=alice, msg="secret")

    async def scenario():
        async with session(alice) as alices, session(carol) as carols:
            not_authors = await carols.call(
                "updateMessage", {"_id": bobs_message.pk, "rid": lobby.pk, "msg": "mine now"}
            )
            hidden = await carols.call(
                "updateMessage", {"_id": secret.pk, "rid": hideout.pk, "msg": "found it"}
            )
            missing = await alices.call(
                "updateMessage", {"_id": "nosuchmessage", "rid": lobby.pk, "msg": "x"}
            )
            elsewhere = await alices.call(
                "updateMessage", {"_id": secret.pk, "rid": lobby.pk, "msg": "moved"}
            )
            too_long = await alices.call(
                "updateMessage", {"_id": secret.pk, "rid": hideout.pk, "msg": "x" * 5001}
            )
            # alice owns the lobby: owners hold edit-message there.
            as_owner = await alices.call(
                "updateMessage", {"_id": bobs_message.pk, "rid": lobby.pk, "msg": "tidied"}
            )
            return not_authors, hidden, missing, elsewhere, too_long, as_owner

    not_authors, hidden, missing, elsewhere, too_long, as_owner = run(scenario())
    assert failed(
        not_authors,
        meteor_error("error-action-not-allowed", "Message editing not allowed", "updateMessage"),
    )
    not_found = meteor_error("error-message-not-found", "Message not found.", "updateMessage")
    assert failed(hidden, not_found)  # a private group's message, as if missing
    assert failed(missing, not_found)
    assert failed(
        elsewhere,
        invalid_params(
            "updateMessage", "The room id provided does not match where the message is from."
        ),
    )
    assert failed(
        too_long,
        meteor_error(
            "error-message-size-exceeded",
            "Message size exceeds the allowed 5000 characters.",
            "updateMessage",
        ),
    )
    assert as_owner == {"msg": "result", "id": as_owner["id"]}
    assert Message.objects.get(pk=bobs_message.pk).msg == "tidied"
    # chat.update answers the same outsider the same way, in its own words.
    token = issue_login_token(user=carol)
    rest = api.post(
        "/api/v1/chat.update",
        {"roomId": hideout.pk, "msgId": secret.pk, "text": "found it"},
        format="json",
        HTTP_X_AUTH_TOKEN=token,
        HTTP_X_USER_ID=carol.pk,
    )
    assert rest.status_code == 400
    assert rest.json()["error"] == f'No message found with the id of "{secret.pk}".'


def test_delete_message_removes_it_and_the_room_hears_of_it(alice, bob, lobby):
    message = MessageFactory(room=lobby, author=bob, msg="oops")

    async def scenario():
        async with session(alice) as alices, session(bob) as bobs:
            await alices.sub("stream-notify-room", f"{lobby.pk}/deleteMessage")
            answer = await bobs.call("deleteMessage", {"_id": message.pk})
            seen = await alices.changed("stream-notify-room", f"{lobby.pk}/deleteMessage")
            again = await bobs.call("deleteMessage", {"_id": message.pk})
            return answer, seen, again

    answer, seen, again = run(scenario())
    assert answer == {"msg": "result", "id": answer["id"]}
    assert not Message.objects.filter(pk=message.pk).exists()
    assert seen == changed("stream-notify-room", f"{lobby.pk}/deleteMessage", [{"_id": message.pk}])
    assert failed(
        again, meteor_error("error-message-not-found", "Message not found.", "deleteMessage")
    )


def test_delete_message_refusals(alice, bob, carol, lobby, hideout):
    alices_message = MessageFactory(room=lobby, author=alice, msg="alice's")
    secret = MessageFactory(room=hideout, author=alice, msg="secret")

    async def scenario():
        async with session(bob) as bobs, session(carol) as carols:
            not_hers = await carols.call("deleteMessage", {"_id": alices_message.pk})
            hidden = await carols.call("deleteMessage", {"_id": secret.pk})
            no_id = await bobs.call("deleteMessage", {})
            return not_hers, hidden, no_id

    not_hers, hidden, no_id = run(scenario())
    assert failed(
        not_hers, meteor_error("error-action-not-allowed", "Not allowed", "deleteMessage")
    )
    assert failed(
        hidden, meteor_error("error-message-not-found", "Message not found.", "deleteMessage")
    )
    assert failed(no_id, invalid_params("deleteMessage", "_id is required"))
    assert Message.objects.filter(pk__in=[alices_message.pk, secret.pk]).count() == 2


# --- loadHistory ----------------------------------------------------------------------------


def test_load_history_pages_back_newest_first(alice, bob, lobby):
    messages = [MessageFactory(room=lobby, author=alice) for _ in range(5)]

    async def scenario():
        async with session(bob) as ddp:
            newest = await ddp.call("loadHistory", lobby.pk, None, 2, None)
            older = await ddp.call("loadHistory", lobby.pk, date(messages[3].ts), 2)
            default = await ddp.call("loadHistory", lobby.pk)
            return newest, older, default

    newest, older, default = run(scenario())
    first = Message.objects.get(pk=messages[4].pk)
    assert newest["result"]["messages"][0] == {
        "_id": first.pk,
        "rid": lobby.pk,
        "msg": first.msg,
        "ts": date(first.ts),
        "u": {"_id": alice.pk, "username": "alice", "name": "Alice"},
        "_updatedAt": date(first.updated_at),
    }
    ids = {name: [m["_id"] for m in answer["result"]["messages"]] for name, answer in
           (("newest", newest), ("older", older), ("default", default))}  # fmt: skip
    assert ids == {
        "newest": [messages[4].pk, messages[3].pk],
        "older": [messages[2].pk, messages[1].pk],
        "default": [m.pk for m in reversed(messages)],
    }
    assert newest["result"]["unreadNotLoaded"] == 0 and "firstUnread" not in newest["result"]


def test_load_history_counts_the_unread_messages_not_loaded(alice, bob, lobby):
    messages = [MessageFactory(room=lobby, author=alice) for _ in range(6)]
    last_seen = messages[0].ts + timedelta(milliseconds=500)

    async def scenario():
        async with session(bob) as ddp:
            return await ddp.call("loadHistory", lobby.pk, None, 2, date(last_seen))

    answer = run(scenario())
    result = answer["result"]
    assert [m["_id"] for m in result["messages"]] == [messages[5].pk, messages[4].pk]
    # messages[1..3] are newer than last_seen and older than the page.
    assert result["unreadNotLoaded"] == 3
    assert result["firstUnread"]["_id"] == messages[1].pk
    assert set(result) == {"messages", "firstUnread", "unreadNotLoaded"}


def test_load_history_takes_at_most_100(alice, bob, lobby):
    for _ in range(101):
        MessageFactory(room=lobby, author=alice)

    async def scenario():
        async with session(bob) as ddp:
            return await ddp.call("loadHistory", lobby.pk, None, 1000, None)

    assert len(run(scenario())["result"]["messages"]) == 100


def test_load_history_of_a_private_group_is_for_its_members(alice, carol, hideout):
    MessageFactory(room=hideout, author=alice, msg="secret")

    async def scenario():
        async with session(carol) as carols, session(alice) as alices:
            hidden = await carols.call("loadHistory", hideout.pk, None, 20, None)
            unknown = await carols.call("loadHistory", "nosuchroom", None, 20, None)
            member = await alices.call("loadHistory", hideout.pk, None, 20, None)
            return hidden, unknown, member

    hidden, unknown, member = run(scenario())
    not_found = meteor_error("error-room-not-found", "Room not found.", "loadHistory")
    assert failed(hidden, not_found) and failed(unknown, not_found)
    assert [m["msg"] for m in member["result"]["messages"]] == ["secret"]


# --- joinRoom and leaveRoom -----------------------------------------------------------------


def test_join_room_answers_true_and_tells_the_user(alice, carol, lobby):
    async def scenario():
        async with session(carol) as ddp:
            await follow_user(ddp, carol.pk)
            joined = await ddp.call("joinRoom", lobby.pk)
            room_event = await ddp.changed("stream-notify-user", f"{carol.pk}/rooms-changed")
            sub_event = await ddp.changed("stream-notify-user", f"{carol.pk}/subscriptions-changed")
            twice = await ddp.call("joinRoom", lobby.pk)
            return joined, room_event, sub_event, twice

    joined, room_event, sub_event, twice = run(scenario())
    assert succeeded(joined, True) and succeeded(twice, True)
    assert Subscription.objects.filter(room=lobby, user=carol).count() == 1
    assert room_event["fields"]["args"][0] == "inserted"
    assert room_event["fields"]["args"][1]["_id"] == lobby.pk
    room = Room.objects.get(pk=lobby.pk)
    assert sub_event["fields"]["args"] == [
        "inserted",
        {
            "_id": f"{lobby.pk}{carol.pk}",
            "rid": lobby.pk,
            "u": {"_id": carol.pk, "username": "carol"},
            "name": "lobby",
            "fname": "lobby",
            "t": "c",
            "ts": date(room.updated_at),
            "ls": date(room.updated_at),
            "unread": 0,
            "userMentions": 0,
            "groupMentions": 0,
            "alert": False,
            "open": True,
            "f": False,
            "roles": [],
            "archived": False,
            "_updatedAt": date(room.updated_at),
        },
    ]


def test_join_room_refusals(carol, hideout):
    archived = RoomFactory(name="attic", t=Room.Type.CHANNEL, archived=True)

    async def scenario():
        async with session(carol) as ddp:
            group = await ddp.call("joinRoom", hideout.pk)
            unknown = await ddp.call("joinRoom", "nosuchroom")
            closed = await ddp.call("joinRoom", archived.pk)
            return group, unknown, closed

    group, unknown, closed = run(scenario())
    not_found = meteor_error("error-room-not-found", "Room not found.", "joinRoom")
    assert failed(group, not_found) and failed(unknown, not_found)  # no existence leaks
    assert failed(closed, meteor_error("error-room-archived", "Room is archived.", "joinRoom"))
    assert not Subscription.objects.filter(user=carol).exists()


def test_leave_room_answers_nothing_and_the_last_owner_stays(alice, bob, carol, lobby, hideout):
    async def scenario():
        async with session(alice) as alices, session(bob) as bobs, session(carol) as carols:
            last_owner = await alices.call("leaveRoom", lobby.pk)
            left = await bobs.call("leaveRoom", lobby.pk)
            not_in = await bobs.call("leaveRoom", lobby.pk)
            hidden = await carols.call("leaveRoom", hideout.pk)
            return last_owner, left, not_in, hidden

    last_owner, left, not_in, hidden = run(scenario())
    assert failed(
        last_owner,
        meteor_error(
            "error-you-are-last-owner",
            "You are the last owner. Please set new owner before leaving the room.",
            "leaveRoom",
        ),
    )
    assert left == {"msg": "result", "id": left["id"]}  # Rocket.Chat's leaveRoom returns nothing
    assert failed(not_in, meteor_error("error-user-not-in-room", "You are not in this room", "leaveRoom"))  # fmt: skip
    assert failed(hidden, meteor_error("error-room-not-found", "Room not found.", "leaveRoom"))
    assert list(Subscription.objects.filter(room=lobby).values_list("user_id", flat=True)) == [
        alice.pk
    ]


# --- createChannel and createPrivateGroup ---------------------------------------------------


def test_a_private_group_created_with_a_member_reaches_them_and_leaving_removes_it(alice, bob):
    async def scenario():
        async with session(alice) as alices, session(bob) as bobs:
            await follow_user(bobs, bob.pk)
            created = await alices.call("createPrivateGroup", "plans", ["bob"])
            room_added = await bobs.changed("stream-notify-user", f"{bob.pk}/rooms-changed")
            sub_added = await bobs.changed("stream-notify-user", f"{bob.pk}/subscriptions-changed")
            rid = created["result"]["rid"]
            fetched = await bobs.call("rooms/get")
            left = await bobs.call("leaveRoom", rid)
            room_removed = await bobs.changed("stream-notify-user", f"{bob.pk}/rooms-changed")
            sub_removed = await bobs.changed(
                "stream-notify-user", f"{bob.pk}/subscriptions-changed"
            )
            return created, room_added, sub_added, fetched, left, room_removed, sub_removed

    created, room_added, sub_added, fetched, left, room_removed, sub_removed = run(scenario())
    room = Room.objects.get(name="plans")
    assert succeeded(created, {"rid": room.pk, "name": "plans"})
    assert room.t == Room.Type.GROUP and room.creator_id == alice.pk
    inserted = room_added["fields"]["args"][1]
    assert room_added["fields"]["args"][0] == "inserted"
    # The room as rooms/get shows it.
    (listed,) = fetched["result"]
    assert listed == {
        "_id": room.pk,
        "name": "plans",
        "fname": "plans",
        "t": "p",
        "msgs": 0,
        "usersCount": 2,
        "ts": date(room.ts),
        "ro": False,
        "default": False,
        "sysMes": True,
        "archived": False,
        "topic": "",
        "description": "",
        "announcement": "",
        "_updatedAt": date(room.updated_at),
        "u": {"_id": alice.pk, "username": "alice"},
    }
    assert inserted == listed
    assert sub_added == changed(
        "stream-notify-user",
        f"{bob.pk}/subscriptions-changed",
        [
            "inserted",
            {
                "_id": f"{room.pk}{bob.pk}",
                "rid": room.pk,
                "u": {"_id": bob.pk, "username": "bob"},
                "name": "plans",
                "fname": "plans",
                "t": "p",
                "ts": date(room.updated_at),
                "ls": date(room.updated_at),
                "unread": 0,
                "userMentions": 0,
                "groupMentions": 0,
                "alert": False,
                "open": True,
                "f": False,
                "roles": [],
                "archived": False,
                "_updatedAt": date(room.updated_at),
            },
        ],
    )
    assert left == {"msg": "result", "id": left["id"]}
    assert room_removed == changed(
        "stream-notify-user", f"{bob.pk}/rooms-changed", ["removed", {"_id": room.pk}]
    )
    assert sub_removed == changed(
        "stream-notify-user",
        f"{bob.pk}/subscriptions-changed",
        ["removed", {"_id": f"{room.pk}{bob.pk}", "rid": room.pk}],
    )


def test_create_channel_answers_rid_and_name(alice, bob):
    async def scenario():
        async with session(alice) as ddp:
            created = await ddp.call("createChannel", "town-square", ["bob"], True)
            taken = await ddp.call("createChannel", "Town-Square", [])
            nobody = await ddp.call("createChannel", "empty", ["nobody"])
            bad_name = await ddp.call("createChannel", "no spaces", [])
            with_extras = await ddp.call(
                "createPrivateGroup", "quiet", [], False, {}, {"broadcast": False}
            )
            return created, taken, nobody, bad_name, with_extras

    created, taken, nobody, bad_name, with_extras = run(scenario())
    room = Room.objects.get(name="town-square")
    assert succeeded(created, {"rid": room.pk, "name": "town-square"})
    assert room.t == Room.Type.CHANNEL and room.read_only
    assert set(room.subscriptions.values_list("user__username", flat=True)) == {"alice", "bob"}
    assert Subscription.objects.get(room=room, user=alice).roles.get().pk == "owner"
    assert failed(
        taken,
        meteor_error(
            "error-duplicate-channel-name", "A channel with name 'Town-Square' exists", "createChannel"
        ),
    )  # fmt: skip
    assert failed(
        nobody, meteor_error("error-invalid-user", "User 'nobody' does not exist", "createChannel")
    )
    assert failed(
        bad_name,
        meteor_error(
            "error-invalid-room-name", "no spaces is not a valid room name", "createChannel"
        ),
    )
    quiet = Room.objects.get(name="quiet")
    assert succeeded(with_extras, {"rid": quiet.pk, "name": "quiet"})
    assert quiet.t == Room.Type.GROUP


def test_creating_takes_create_c_or_create_p(db):
    guest = UserFactory(username="guest", roles=["guest"])

    async def scenario():
        async with session(guest) as ddp:
            channel = await ddp.call("createChannel", "mine", [])
            group = await ddp.call("createPrivateGroup", "mine", [])
            return channel, group

    channel, group = run(scenario())
    forbidden = "You do not have permission to do this"
    assert failed(channel, meteor_error("error-not-allowed", forbidden, "createChannel"))
    assert failed(group, meteor_error("error-not-allowed", forbidden, "createPrivateGroup"))
    assert not Room.objects.filter(name="mine").exists()


# --- getRoomRoles and getUsersOfRoom --------------------------------------------------------


def test_get_room_roles_lists_the_members_holding_room_roles(api, alice, bob, carol, hideout):
    async def scenario():
        async with session(bob) as bobs, session(carol) as carols:
            roles = await bobs.call("getRoomRoles", hideout.pk)
            hidden = await carols.call("getRoomRoles", hideout.pk)
            return roles, hidden

    roles, hidden = run(scenario())
    expected = [
        {
            "rid": hideout.pk,
            "u": {"_id": alice.pk, "username": "alice", "name": "Alice"},
            "roles": ["owner"],
        },
        {
            "rid": hideout.pk,
            "u": {"_id": bob.pk, "username": "bob", "name": "Bob"},
            "roles": ["moderator"],
        },
    ]
    assert succeeded(roles, expected)
    assert failed(hidden, meteor_error("error-room-not-found", "Room not found.", "getRoomRoles"))
    # groups.roles shows the same list: one selector and one shape for both.
    rest = api.get(
        "/api/v1/groups.roles",
        {"roomId": hideout.pk},
        HTTP_X_AUTH_TOKEN=issue_login_token(user=bob),
        HTTP_X_USER_ID=bob.pk,
    )
    assert rest.json()["roles"] == expected


def test_get_users_of_room_pages_and_filters_the_members(alice, bob, carol, lobby, hideout):
    SubscriptionFactory(room=lobby, user=UserFactory(username="bobby", name="Roberta"))

    async def scenario():
        async with session(carol) as carols, session(bob) as bobs:
            everyone = await carols.call("getUsersOfRoom", lobby.pk, True)
            page = await carols.call("getUsersOfRoom", lobby.pk, True, {"limit": 1, "skip": 1})
            filtered = await carols.call("getUsersOfRoom", lobby.pk, True, None, "BOB")
            by_name = await carols.call("getUsersOfRoom", lobby.pk, True, {}, "robert")
            online = await carols.call("getUsersOfRoom", lobby.pk, False)
            hidden = await carols.call("getUsersOfRoom", hideout.pk, True)
            member = await bobs.call("getUsersOfRoom", hideout.pk, True)
            return everyone, page, filtered, by_name, online, hidden, member

    everyone, page, filtered, by_name, online, hidden, member = run(scenario())
    bobby = User.objects.get(username="bobby")

    def record(user):
        # Bob and Carol have sockets open: they are online.
        status = "online" if user.pk in (bob.pk, carol.pk) else "offline"
        return {"_id": user.pk, "username": user.username, "name": user.name, "status": status}

    assert succeeded(everyone, {"total": 3, "records": [record(alice), record(bob), record(bobby)]})
    assert succeeded(page, {"total": 3, "records": [record(bob)]})
    assert succeeded(filtered, {"total": 2, "records": [record(bob), record(bobby)]})
    assert succeeded(by_name, {"total": 1, "records": [record(bobby)]})
    # Without showAll, only the members who are not offline.
    assert succeeded(online, {"total": 1, "records": [record(bob)]})
    assert failed(hidden, meteor_error("error-room-not-found", "Room not found.", "getUsersOfRoom"))
    assert succeeded(member, {"total": 2, "records": [record(alice), record(bob)]})


# --- rooms/get, subscriptions/get, permissions/get, public-settings/get ---------------------


def test_rooms_get_lists_the_users_rooms_and_what_changed_since(alice, bob, lobby, hideout):
    Room.objects.filter(pk=hideout.pk).update(updated_at=now_ms() - timedelta(days=1))
    since = now_ms() - timedelta(hours=1)

    async def scenario():
        async with session(bob) as ddp:
            everything = await ddp.call("rooms/get")
            changed_since = await ddp.call("rooms/get", date(since))
            return everything, changed_since

    everything, changed_since = run(scenario())
    rooms = {room["name"]: room for room in everything["result"]}
    assert list(rooms) == ["hideout", "lobby"]
    fresh = Room.objects.get(pk=lobby.pk)
    assert rooms["lobby"] == {
        "_id": fresh.pk,
        "name": "lobby",
        "fname": "lobby",
        "t": "c",
        "msgs": 0,
        "usersCount": 2,
        "ts": date(fresh.ts),
        "ro": False,
        "default": False,
        "sysMes": True,
        "archived": False,
        "topic": "",
        "description": "",
        "announcement": "",
        "_updatedAt": date(fresh.updated_at),
        "u": {"_id": alice.pk, "username": "alice"},
    }
    assert succeeded(changed_since, {"update": [rooms["lobby"]], "remove": []})


def test_subscriptions_get_lists_the_users_memberships(bob, lobby, hideout):
    Room.objects.filter(pk=hideout.pk).update(updated_at=now_ms() - timedelta(days=1))
    a_day_ago = now_ms() - timedelta(days=1)
    Subscription.objects.filter(room=hideout).update(
        ts=a_day_ago, ls=a_day_ago, updated_at=a_day_ago
    )
    since = now_ms() - timedelta(hours=1)

    async def scenario():
        async with session(bob) as ddp:
            everything = await ddp.call("subscriptions/get")
            changed_since = await ddp.call("subscriptions/get", date(since))
            return everything, changed_since

    everything, changed_since = run(scenario())
    subs = {s.room.name: s for s in Subscription.objects.filter(user=bob).select_related("room")}

    def expected(name, roles):
        sub = subs[name]
        return {
            "_id": f"{sub.room_id}{bob.pk}",
            "rid": sub.room_id,
            "u": {"_id": bob.pk, "username": "bob"},
            "name": name,
            "fname": name,
            "t": sub.room.t,
            "ts": date(sub.ts),
            "ls": date(sub.ls),
            "unread": 0,
            "userMentions": 0,
            "groupMentions": 0,
            "alert": False,
            "open": True,
            "f": False,
            "roles": roles,
            "archived": False,
            "_updatedAt": date(max(sub.updated_at, sub.room.updated_at)),
        }

    assert succeeded(everything, [expected("hideout", ["moderator"]), expected("lobby", [])])
    assert succeeded(changed_since, {"update": [expected("lobby", [])], "remove": []})


def test_permissions_get_lists_every_permission_with_its_roles(bob):
    create_c = Permission.objects.get(pk="create-c")
    later = create_c.updated_at + timedelta(days=1)

    async def scenario():
        async with session(bob) as ddp:
            return await ddp.call("permissions/get"), await ddp.call("permissions/get", date(later))

    everything, nothing_since = run(scenario())
    result = everything["result"]
    assert len(result) == Permission.objects.count()
    assert next(p for p in result if p["_id"] == "create-c") == {
        "_id": "create-c",
        "roles": sorted(create_c.roles.values_list("name", flat=True)),
        "_updatedAt": date(create_c.updated_at),
    }
    assert succeeded(nothing_since, {"update": [], "remove": []})


def test_public_settings_need_no_login_and_come_from_the_settings_store(settings):
    settings.MESSAGE_MAX_LENGTH = 1234
    settings.REGISTRATION_ENABLED = False
    settings.MESSAGE_ALLOW_DELETING = False

    async def scenario():
        async with DDPClient() as ddp:
            return await ddp.call("public-settings/get"), await ddp.call(
                "public-settings/get", {"$date": 0}
            )

    listed, since = run(scenario())
    expected = [{"_id": item["_id"], "value": item["value"]} for item in public_settings()]
    assert {"_id": "Accounts_RegistrationForm", "value": "Disabled"} in expected
    assert {"_id": "Message_AllowDeleting", "value": False} in expected
    assert {"_id": "Message_AllowEditing", "value": True} in expected
    assert {"_id": "Message_MaxAllowedSize", "value": 1234} in expected
    assert {"_id": "UTF8_Names_Validation", "value": settings.NAME_PATTERN} in expected
    assert succeeded(listed, expected)
    assert succeeded(since, {"update": expected, "remove": []})
