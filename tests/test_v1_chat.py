"""v1 chat.*: postMessage, sendMessage, getMessage, update, delete. Rocket.Chat's shapes and
words, the shared posting rules, who may edit and delete, hidden private messages, exact counts."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from django.db import connection

from accounts.tokens import issue_login_token
from permissions.models import Permission
from rooms.models import Message, Room
from rooms.services import send_message
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

MESSAGE_KEYS = {"_id", "rid", "msg", "ts", "u", "_updatedAt"}
NOT_ALLOWED_TO_EDIT = (
    "Message editing not allowed [error-action-not-allowed]",
    "error-action-not-allowed",
)
NOT_ALLOWED_TO_DELETE = ("Not allowed [error-action-not-allowed]", "error-action-not-allowed")
READ_ONLY_SEND = "You can't send messages because the room is readonly."


@pytest.fixture
def owner():
    return UserFactory(username="owner")


@pytest.fixture
def lounge(owner):
    room = RoomFactory(name="lounge", creator=owner)
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    return room


@pytest.fixture
def member(lounge):
    user = UserFactory(username="sing", name="Sing")
    SubscriptionFactory(room=lounge, user=user)
    return user


@pytest.fixture
def secret(owner):
    """A private group the owner is in, and nobody else."""
    room = RoomFactory(name="secret", t=Room.Type.GROUP, creator=owner)
    SubscriptionFactory(room=room, user=owner, roles=["owner"])
    return room


def post(api, endpoint, body):
    return api.post(f"/api/v1/{endpoint}", json.dumps(body), content_type="application/json")


def get(api, endpoint, params):
    return api.get(f"/api/v1/{endpoint}", params)


def assert_v1_error(response, status, error, error_type):
    assert response.status_code == status, response.json()
    body = response.json()
    assert (body["success"], body["error"], body["errorType"]) == (False, error, error_type)


def say(api, room, text="hello"):
    """A message sent through chat.sendMessage, as its JSON."""
    response = post(api, "chat.sendMessage", {"message": {"rid": room.pk, "msg": text}})
    assert response.status_code == 200, response.json()
    return response.json()["message"]


def counts(room):
    room.refresh_from_db()
    return room.msgs, room.lm


def assert_nothing_written(room):
    assert not Message.objects.filter(room=room).exists()
    assert counts(room) == (0, None)


def as_ms(moment):
    return int(moment.timestamp() * 1000)


# --- chat.postMessage ----------------------------------------------------------------------------


def test_post_message_answers_rocket_chats_shape(as_user, member, lounge, impersonation):
    attachment = {"title": "Build", "text": "passed", "color": "#00ff00"}

    response = post(
        as_user(member),
        "chat.postMessage",
        {
            "roomId": lounge.pk,
            "text": "Deployed",
            "alias": "CI",
            "emoji": ":rocket:",
            "avatar": "https://ci.example.com/logo.png",
            "attachments": [attachment],
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ts", "channel", "message", "success"}
    assert (body["channel"], body["success"]) == (lounge.pk, True)
    message = body["message"]
    assert set(message) == MESSAGE_KEYS | {"alias", "emoji", "avatar", "groupable", "attachments"}
    stored = Message.objects.get()
    assert message["_id"] == stored.pk
    assert (message["rid"], message["msg"], message["u"]) == (
        lounge.pk,
        "Deployed",
        {"_id": member.pk, "username": "sing", "name": "Sing"},
    )
    assert (message["alias"], message["emoji"], message["avatar"]) == (
        "CI",
        ":rocket:",
        "https://ci.example.com/logo.png",
    )
    assert (message["groupable"], message["attachments"]) == (False, [attachment])
    # ts is a number, milliseconds since 1970, as JavaScript's Date.now(): the message's time.
    assert isinstance(body["ts"], int)
    assert body["ts"] == as_ms(stored.ts)
    assert (
        message["ts"]
        == stored.ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stored.ts.microsecond // 1000:03d}Z"
    )
    assert counts(lounge) == (1, stored.ts)


@pytest.mark.parametrize("channel", ["#lounge", "lounge", "#LOUNGE", "ROOM_ID", "#ROOM_ID"])
def test_post_message_finds_the_room_by_channel(as_user, member, lounge, channel):
    channel = channel.replace("ROOM_ID", lounge.pk)

    response = post(as_user(member), "chat.postMessage", {"channel": channel, "text": "hi"})

    assert response.status_code == 200
    assert response.json()["channel"] == channel
    assert response.json()["message"]["rid"] == lounge.pk


def test_post_message_with_attachments_needs_no_text(as_user, member, lounge):
    response = post(
        as_user(member),
        "chat.postMessage",
        {"roomId": lounge.pk, "attachments": [{"text": "only an attachment"}]},
    )

    assert response.status_code == 200
    assert response.json()["message"]["msg"] == ""


def test_post_message_takes_a_form_with_attachments_as_json(as_user, member, lounge):
    response = as_user(member).post(
        "/api/v1/chat.postMessage",
        {"channel": "#lounge", "text": "from a form", "attachments": '[{"title": "t"}]'},
    )

    assert response.status_code == 200
    assert response.json()["message"]["attachments"] == [{"title": "t"}]


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        (
            {},
            'The "roomId" or "channel" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"text": "hi"},
            'The "roomId" or "channel" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": ["a", "b"], "text": "hi"},
            'The "roomId" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": ""},
            "The message is empty. [invalid-params]",
            "invalid-params",
        ),
        ({"roomId": "ROOM"}, "The message is empty. [invalid-params]", "invalid-params"),
        (
            {"roomId": "ROOM", "text": "  \n "},
            "The message is empty. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": 5},
            'The "text" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "nul \x00"},
            "Null characters are not allowed. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "alias": "x\x00"},
            "Null characters are not allowed. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "alias": 5},
            'The "alias" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "alias": "a" * 251},
            "alias: at most 250 characters. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "avatar": "javascript:alert(1)"},
            "Invalid href value provided [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": {"title": "t"}},
            'The "attachments" parameter must be an array of objects [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": ["t"]},
            "attachments[0]: must be an object. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": [{"text": 5}]},
            "attachments[0].text: must be of type str. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": [{"image_url": "javascript:alert(1)"}]},
            "Invalid href value provided [invalid-params]",
            "invalid-params",
        ),
        (
            {
                "roomId": "ROOM",
                "text": "hi",
                "attachments": [{"actions": [{"url": "data:text/html,x"}]}],
            },
            "Invalid href value provided [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": [{"fields": [{"title": "t"}]}]},
            "Invalid attachment field, title and value is required [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": [{"fields": [{"a": {"b": ["\x00"]}}]}]},
            "Invalid attachment field, title and value is required [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "hi", "attachments": [{"x": {"y": ["deep \x00"]}}]},
            "Null characters are not allowed. [invalid-params]",
            "invalid-params",
        ),
    ],
)
def test_post_message_refuses_bad_input_and_writes_nothing(
    as_user, member, lounge, body, error, error_type
):
    if body.get("roomId") == "ROOM":
        body["roomId"] = lounge.pk
    api = as_user(member)

    response = post(api, "chat.postMessage", body)

    assert_v1_error(response, 400, error, error_type)
    assert_nothing_written(lounge)
    assert post(api, "chat.postMessage", {"roomId": lounge.pk, "text": "fine"}).status_code == 200


def test_post_message_over_the_limit_is_rocket_chats_bare_failure(as_user, member, lounge):
    api = as_user(member)

    too_long = post(api, "chat.postMessage", {"roomId": lounge.pk, "text": "x" * 5001})
    attachment_too_long = post(
        api,
        "chat.postMessage",
        {"roomId": lounge.pk, "text": "hi", "attachments": [{"text": "x" * 5001}]},
    )

    for response in (too_long, attachment_too_long):
        assert_v1_error(response, 400, "error-message-size-exceeded", "error-message-size-exceeded")
    assert too_long.json()["message"] == "Message size exceeds the allowed 5000 characters."
    assert_nothing_written(lounge)
    assert (
        post(api, "chat.postMessage", {"roomId": lounge.pk, "text": "x" * 5000}).status_code == 200
    )


@pytest.mark.parametrize("channel", ["#nowhere", "nowhere", "@nobody", "#secret", "secret"])
def test_post_message_to_a_room_one_cannot_see_is_an_invalid_channel(
    as_user, member, secret, channel
):
    response = post(as_user(member), "chat.postMessage", {"channel": channel, "text": "hi"})

    assert_v1_error(response, 400, "[invalid-channel]", "invalid-channel")
    assert not Message.objects.exists()


def test_post_message_keeps_the_shared_posting_rules(as_user, member, lounge, owner):
    outsider = UserFactory()
    archived = RoomFactory(name="attic", archived=True)
    SubscriptionFactory(room=archived, user=member)
    Room.objects.filter(pk=lounge.pk).update(read_only=True)

    not_member = post(as_user(outsider), "chat.postMessage", {"channel": "#lounge", "text": "hi"})
    read_only = post(as_user(member), "chat.postMessage", {"channel": "#lounge", "text": "hi"})
    in_archive = post(as_user(member), "chat.postMessage", {"channel": "#attic", "text": "hi"})

    assert_v1_error(not_member, 403, "error-not-allowed", "error-not-allowed")
    assert_v1_error(read_only, 403, READ_ONLY_SEND, "error-not-allowed")
    assert_v1_error(in_archive, 400, "room_is_archived", "error-room-archived")
    assert not Message.objects.exists()
    # The room's owner holds post-readonly.
    assert (
        post(as_user(owner), "chat.postMessage", {"channel": "#lounge", "text": "hi"}).status_code
        == 200
    )


# --- chat.sendMessage ----------------------------------------------------------------------------


def test_send_message_answers_the_plain_message(as_user, member, lounge):
    response = post(
        as_user(member), "chat.sendMessage", {"message": {"rid": lounge.pk, "msg": "hello"}}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "success"}
    assert set(body["message"]) == MESSAGE_KEYS
    stored = Message.objects.get()
    assert (body["message"]["_id"], body["message"]["msg"]) == (stored.pk, "hello")
    assert len(stored.pk) == 17
    assert counts(lounge) == (1, stored.ts)


def test_send_message_stores_the_extras(as_user, member, lounge, impersonation):
    response = post(
        as_user(member),
        "chat.sendMessage",
        {
            "message": {
                "rid": lounge.pk,
                "msg": "hi",
                "alias": "Bot",
                "groupable": True,
                "attachments": [{"title": "t", "fields": [{"title": "a", "value": 1}]}],
            }
        },
    )

    message = response.json()["message"]
    assert set(message) == MESSAGE_KEYS | {"alias", "groupable", "attachments"}
    assert (message["alias"], message["groupable"]) == ("Bot", True)
    assert message["attachments"] == [{"title": "t", "fields": [{"title": "a", "value": 1}]}]


def test_send_message_honours_a_client_id_once(as_user, member, lounge):
    api = as_user(member)
    body = {"message": {"_id": "MyOwnId42", "rid": lounge.pk, "msg": "hello"}}

    first = post(api, "chat.sendMessage", body)
    again = post(api, "chat.sendMessage", body)

    assert first.json()["message"]["_id"] == "MyOwnId42"
    assert_v1_error(
        again,
        400,
        "A message with this _id already exists. [error-duplicate-message-id]",
        "error-duplicate-message-id",
    )
    assert Message.objects.count() == 1
    assert counts(lounge)[0] == 1


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        ({}, 'The "message" parameter is required [error-invalid-params]', "error-invalid-params"),
        (
            {"message": "hello"},
            'The "message" parameter must be an object [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": ["hello"]},
            'The "message" parameter must be an object [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": {"msg": "hello"}},
            "The 'rid' property on the message object is missing.",
            "error-failure",
        ),
        (
            {"message": {"rid": 5, "msg": "hello"}},
            'The "message.rid" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": ""}},
            "The message is empty. [invalid-params]",
            "invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": ["hi"]}},
            'The "message.msg" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "_id": "has space"}},
            "The message _id must be 1 to 32 letters or digits. [invalid-params]",
            "invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "_id": "a" * 33}},
            "The message _id must be 1 to 32 letters or digits. [invalid-params]",
            "invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "_id": "abc\x00"}},
            "The message _id must be 1 to 32 letters or digits. [invalid-params]",
            "invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "_id": "abc\n"}},
            "The message _id must be 1 to 32 letters or digits. [invalid-params]",
            "invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "_id": 42}},
            'The "message._id" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "groupable": "yes"}},
            'The "message.groupable" parameter must be true or false [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "hi", "attachments": "no"}},
            'The "message.attachments" parameter must be an array of objects [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"message": {"rid": "ROOM", "msg": "x" * 5001}},
            "Message size exceeds Message_MaxAllowedSize [error-message-size-exceeded]",
            "error-message-size-exceeded",
        ),
    ],
)
def test_send_message_refuses_bad_input_and_writes_nothing(
    as_user, member, lounge, body, error, error_type
):
    if isinstance(body.get("message"), dict) and body["message"].get("rid") == "ROOM":
        body["message"]["rid"] = lounge.pk
    api = as_user(member)

    response = post(api, "chat.sendMessage", body)

    assert_v1_error(response, 400, error, error_type)
    assert_nothing_written(lounge)
    say(api, lounge)


def test_send_message_keeps_the_shared_posting_rules(as_user, member, lounge, secret):
    Room.objects.filter(pk=lounge.pk).update(read_only=True)
    api = as_user(member)

    def send(rid):
        return post(api, "chat.sendMessage", {"message": {"rid": rid, "msg": "hi"}})

    assert_v1_error(send("nowhere"), 400, "error-invalid-room", "error-room-not-found")
    assert_v1_error(send("bad id\x00"), 400, "error-invalid-room", "error-room-not-found")
    # A private group the sender is not in answers as a room that does not exist.
    assert_v1_error(send(secret.pk), 400, "error-invalid-room", "error-room-not-found")
    assert_v1_error(send(lounge.pk), 403, READ_ONLY_SEND, "error-not-allowed")
    assert not Message.objects.exists()


def test_send_message_takes_a_form(as_user, member, lounge):
    response = as_user(member).post(
        "/api/v1/chat.sendMessage", {"message": json.dumps({"rid": lounge.pk, "msg": "form"})}
    )

    assert response.status_code == 200
    assert response.json()["message"]["msg"] == "form"


# --- chat.getMessage -----------------------------------------------------------------------------


def test_get_message_answers_the_message(as_user, member, lounge):
    sent = say(as_user(member), lounge)

    response = get(as_user(member), "chat.getMessage", {"msgId": sent["_id"]})

    assert response.status_code == 200
    assert response.json() == {"message": sent, "success": True}


def test_get_message_for_a_public_channel_needs_no_membership(as_user, member, lounge):
    sent = say(as_user(member), lounge)

    reader = get(as_user(UserFactory()), "chat.getMessage", {"msgId": sent["_id"]})
    guest = get(as_user(UserFactory(roles=["guest"])), "chat.getMessage", {"msgId": sent["_id"]})

    assert reader.json()["message"] == sent
    assert_v1_error(
        guest, 400, f'No message found with the id of "{sent["_id"]}".', "error-failure"
    )


def test_get_message_never_shows_a_private_groups_message_to_an_outsider(as_user, owner, secret):
    sent = say(as_user(owner), secret, "for members only")
    outsider = as_user(UserFactory())

    hidden = get(outsider, "chat.getMessage", {"msgId": sent["_id"]})
    missing = get(outsider, "chat.getMessage", {"msgId": "NoSuchMessage1234"})

    assert_v1_error(
        hidden, 400, f'No message found with the id of "{sent["_id"]}".', "error-failure"
    )
    assert "for members only" not in hidden.content.decode()
    strip = ("request_id", "error", "message")
    assert {k: v for k, v in hidden.json().items() if k not in strip} == {
        k: v for k, v in missing.json().items() if k not in strip
    }
    assert get(as_user(owner), "chat.getMessage", {"msgId": sent["_id"]}).json()["message"] == sent


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, 'The "msgId" query parameter must be provided.'),
        ({"msgId": ""}, 'The "msgId" query parameter must be provided.'),
        ({"msgId": "nope"}, 'No message found with the id of "nope".'),
    ],
)
def test_get_message_bad_input(as_user, member, params, error):
    assert_v1_error(get(as_user(member), "chat.getMessage", params), 400, error, "error-failure")


def test_nul_characters_in_names_and_ids_are_refused_not_looked_up(as_user, member):
    api = as_user(member)

    for response in (
        get(api, "chat.getMessage", {"msgId": "x\x00"}),
        post(api, "chat.postMessage", {"channel": "#x\x00", "text": "hi"}),
    ):
        assert response.status_code == 400
        assert response.json()["errorType"] == "error-invalid-params"
    assert not Message.objects.exists()


@pytest.fixture
def impersonation():
    """Lets plain users post with an alias or avatar (the bot role's right by default)."""
    Permission.objects.get(pk="message-impersonate").roles.add("user")


def test_an_alias_or_avatar_takes_message_impersonate(as_user, member, lounge):
    api = as_user(member)

    for extra in ({"alias": "admin"}, {"avatar": "https://example.com/a.png"}):
        response = post(api, "chat.postMessage", {"roomId": lounge.pk, "text": "hi", **extra})
        assert_v1_error(
            response,
            403,
            "User does not have the permissions required for this action [error-unauthorized]",
            "error-unauthorized",
        )
    assert_nothing_written(lounge)


# --- chat.update ---------------------------------------------------------------------------------


def update(api, message, text, room_id=None):
    return post(
        api,
        "chat.update",
        {"roomId": room_id or message["rid"], "msgId": message["_id"], "text": text},
    )


def test_update_answers_the_edited_message(as_user, member, lounge):
    api = as_user(member)
    sent = say(api, lounge, "helo")

    response = update(api, sent, "hello")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "success"}
    edited = body["message"]
    assert set(edited) == MESSAGE_KEYS | {"editedAt", "editedBy"}
    assert (edited["_id"], edited["msg"], edited["ts"]) == (sent["_id"], "hello", sent["ts"])
    assert edited["editedBy"] == {"_id": member.pk, "username": "sing"}
    assert edited["editedAt"] == edited["_updatedAt"]
    assert edited["editedAt"] >= sent["_updatedAt"]
    assert get(api, "chat.getMessage", {"msgId": sent["_id"]}).json()["message"] == edited
    assert counts(lounge)[0] == 1


def test_update_with_the_same_text_changes_nothing(as_user, member, lounge):
    api = as_user(member)
    sent = say(api, lounge, "same")

    response = update(api, sent, "same")

    assert response.json()["message"] == sent


@pytest.mark.parametrize(
    ("editor", "allowed"),
    [
        ("author", True),
        ("other member", False),
        ("room moderator", True),
        ("room owner", True),
        ("moderator elsewhere", False),
        ("global admin", True),
    ],
)
def test_who_may_update_a_message(as_user, member, lounge, editor, allowed):
    sent = say(as_user(member), lounge, "original")
    if editor == "author":
        user = member
    else:
        user = UserFactory(roles=["admin", "user"] if editor == "global admin" else ["user"])
        room_roles = {"room moderator": ["moderator"], "room owner": ["owner"]}.get(editor)
        SubscriptionFactory(room=lounge, user=user, roles=room_roles)
        if editor == "moderator elsewhere":
            SubscriptionFactory(room=RoomFactory(), user=user, roles=["moderator"])

    response = update(as_user(user), sent, "changed")

    if allowed:
        assert response.status_code == 200
        assert response.json()["message"]["editedBy"]["_id"] == user.pk
        assert Message.objects.get().msg == "changed"
    else:
        assert_v1_error(response, 403, *NOT_ALLOWED_TO_EDIT)
        assert Message.objects.get().msg == "original"
        assert Message.objects.get().edited_at is None


def test_authors_may_not_edit_when_editing_is_switched_off(
    as_user, member, lounge, owner, settings
):
    settings.MESSAGE_ALLOW_EDITING = False
    sent = say(as_user(member), lounge, "original")

    assert_v1_error(update(as_user(member), sent, "mine"), 403, *NOT_ALLOWED_TO_EDIT)
    assert update(as_user(owner), sent, "the owner's").status_code == 200


def test_update_keeps_the_shared_posting_rules(as_user, member, lounge, owner):
    sent = say(as_user(member), lounge, "original")
    Room.objects.filter(pk=lounge.pk).update(read_only=True)

    read_only = update(as_user(member), sent, "changed")
    assert_v1_error(read_only, 403, READ_ONLY_SEND, "error-not-allowed")

    Room.objects.filter(pk=lounge.pk).update(read_only=False)
    lounge.subscriptions.filter(user=member).delete()
    left = update(as_user(member), sent, "changed")
    assert_v1_error(left, 403, "error-not-allowed", "error-not-allowed")

    assert Message.objects.get().msg == "original"
    assert update(as_user(owner), sent, "by the owner").status_code == 200


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        (
            {"msgId": "MSG", "text": "x"},
            'The "roomId" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "text": "x"},
            'The "msgId" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "msgId": "MSG"},
            'The "text" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "msgId": "MSG", "text": 5},
            'The "text" parameter must be a string [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "msgId": "MSG", "text": ""},
            "The message is empty. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "ROOM", "msgId": "MSG", "text": "x" * 5001},
            "Message size exceeds the allowed 5000 characters. [error-message-size-exceeded]",
            "error-message-size-exceeded",
        ),
        (
            {"roomId": "ROOM", "msgId": "MSG", "text": "nul \x00"},
            "Null characters are not allowed. [invalid-params]",
            "invalid-params",
        ),
        (
            {"roomId": "GENERAL", "msgId": "MSG", "text": "x"},
            "The room id provided does not match where the message is from.",
            "error-failure",
        ),
        (
            {"roomId": "ROOM", "msgId": "nope", "text": "x"},
            'No message found with the id of "nope".',
            "error-failure",
        ),
    ],
)
def test_update_refuses_bad_input_and_changes_nothing(
    as_user, member, lounge, body, error, error_type
):
    api = as_user(member)
    sent = say(api, lounge, "original")
    body = {k: {"ROOM": lounge.pk, "MSG": sent["_id"]}.get(v, v) for k, v in body.items()}

    response = post(api, "chat.update", body)

    assert_v1_error(response, 400, error, error_type)
    assert get(api, "chat.getMessage", {"msgId": sent["_id"]}).json()["message"] == sent


def test_update_of_a_private_groups_message_by_an_outsider_answers_as_missing(
    as_user, owner, secret
):
    sent = say(as_user(owner), secret, "for members only")

    response = update(as_user(UserFactory()), sent, "defaced")

    assert_v1_error(
        response, 400, f'No message found with the id of "{sent["_id"]}".', "error-failure"
    )
    assert Message.objects.get().msg == "for members only"


# --- chat.delete ---------------------------------------------------------------------------------


def delete(api, message, **extra):
    return post(api, "chat.delete", {"roomId": message["rid"], "msgId": message["_id"], **extra})


def test_delete_answers_what_was_deleted(as_user, member, lounge):
    api = as_user(member)
    sent = say(api, lounge)
    before = as_ms(datetime.now(UTC))

    response = delete(api, sent)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"_id", "ts", "message", "success"}
    assert body["_id"] == sent["_id"]
    assert body["message"] == {"_id": sent["_id"], "rid": lounge.pk, "u": sent["u"]}
    # Rocket.Chat answers the time of deletion as a string of milliseconds.
    assert isinstance(body["ts"], str)
    assert before <= int(body["ts"]) <= as_ms(datetime.now(UTC))
    assert not Message.objects.exists()
    assert counts(lounge) == (0, None)


def test_deletes_keep_the_room_counts_exact(as_user, member, lounge):
    api = as_user(member)
    first, second, third = say(api, lounge, "1"), say(api, lounge, "2"), say(api, lounge, "3")
    times = {m.pk: m.ts for m in Message.objects.all()}

    assert delete(api, third).status_code == 200
    assert counts(lounge) == (2, times[second["_id"]])
    assert delete(api, first).status_code == 200
    assert counts(lounge) == (1, times[second["_id"]])

    again = delete(api, first)
    assert_v1_error(
        again, 400, f'No message found with the id of "{first["_id"]}".', "error-failure"
    )
    assert counts(lounge) == (1, times[second["_id"]])

    fourth = say(api, lounge, "4")
    assert counts(lounge)[0] == 2
    assert Message.objects.get(pk=fourth["_id"]).ts > times[second["_id"]]
    history = api.get(f"/api/rooms/{lounge.pk}/messages").json()["messages"]
    assert [m["msg"] for m in history] == ["4", "2"]


def test_a_count_already_wrong_never_goes_below_zero(as_user, owner, lounge):
    message = MessageFactory(room=lounge, author=owner)  # written around the services: msgs is 0

    response = delete(as_user(owner), {"_id": message.pk, "rid": lounge.pk})

    assert response.status_code == 200
    assert counts(lounge)[0] == 0


@pytest.mark.parametrize(
    ("deleter", "allowed"),
    [
        ("author", True),
        ("other member", False),
        ("guest author", False),
        ("room moderator", True),  # delete-message
        ("room owner", True),  # force-delete-message
        ("owner elsewhere", False),
        ("global admin", True),
    ],
)
def test_who_may_delete_a_message(as_user, member, lounge, deleter, allowed):
    author = member
    if deleter == "guest author":
        author = UserFactory(roles=["guest"])
        SubscriptionFactory(room=lounge, user=author)
    sent = say(as_user(author), lounge)
    if deleter in ("author", "guest author"):
        user = author
    else:
        user = UserFactory(roles=["admin", "user"] if deleter == "global admin" else ["user"])
        room_roles = {"room moderator": ["moderator"], "room owner": ["owner"]}.get(deleter)
        SubscriptionFactory(room=lounge, user=user, roles=room_roles)
        if deleter == "owner elsewhere":
            SubscriptionFactory(room=RoomFactory(), user=user, roles=["owner"])

    response = delete(as_user(user), sent)

    if allowed:
        assert response.status_code == 200
        assert counts(lounge) == (0, None)
    else:
        assert_v1_error(response, 403, *NOT_ALLOWED_TO_DELETE)
        assert Message.objects.filter(pk=sent["_id"]).exists()
        assert counts(lounge)[0] == 1


def test_when_deleting_is_switched_off_only_force_delete_works(
    as_user, member, lounge, owner, settings
):
    settings.MESSAGE_ALLOW_DELETING = False
    moderator = UserFactory()
    SubscriptionFactory(room=lounge, user=moderator, roles=["moderator"])
    sent = say(as_user(member), lounge)

    assert_v1_error(delete(as_user(member), sent), 403, *NOT_ALLOWED_TO_DELETE)
    assert_v1_error(delete(as_user(moderator), sent), 403, *NOT_ALLOWED_TO_DELETE)
    assert delete(as_user(owner), sent).status_code == 200


def test_delete_as_the_author_takes_force_delete_message(as_user, member, lounge, owner):
    other = UserFactory()
    SubscriptionFactory(room=lounge, user=other)
    sent = say(as_user(member), lounge)

    refused = delete(as_user(other), sent, asUser=True)

    assert_v1_error(
        refused,
        403,
        'Unauthorized. You must have the permission "force-delete-message" to delete other\'s message as them.',
        "error-action-not-allowed",
    )
    assert counts(lounge)[0] == 1
    assert delete(as_user(owner), sent, asUser=True).status_code == 200
    mine = say(as_user(member), lounge)
    assert delete(as_user(member), mine, asUser="true").status_code == 200
    assert counts(lounge) == (0, None)


def test_delete_as_an_author_who_is_gone(as_user, member, lounge, owner):
    sent = say(as_user(member), lounge)
    member.delete()

    response = delete(as_user(owner), sent, asUser=True)

    assert_v1_error(response, 400, "User not found", "error-invalid-user")
    assert counts(lounge)[0] == 1
    assert delete(as_user(owner), sent).status_code == 200


def test_delete_in_a_read_only_room(as_user, member, lounge, owner):
    sent = say(as_user(member), lounge)
    Room.objects.filter(pk=lounge.pk).update(read_only=True)

    refused = delete(as_user(member), sent)

    assert_v1_error(
        refused, 403, "You can't delete messages because the room is readonly.", "error-not-allowed"
    )
    assert delete(as_user(owner), sent).status_code == 200


def test_an_author_may_delete_after_leaving_a_private_group(as_user, owner, secret):
    author = UserFactory()
    SubscriptionFactory(room=secret, user=author)
    sent = say(as_user(author), secret)
    secret.subscriptions.filter(user=author).delete()

    assert delete(as_user(author), sent).status_code == 200
    assert counts(secret) == (0, None)


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        (
            {"msgId": "MSG"},
            'The "roomId" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM"},
            'The "msgId" parameter is required [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "ROOM", "msgId": "MSG", "asUser": "maybe"},
            'The "asUser" parameter must be true or false [error-invalid-params]',
            "error-invalid-params",
        ),
        (
            {"roomId": "GENERAL", "msgId": "MSG"},
            "The room id provided does not match where the message is from.",
            "error-failure",
        ),
        (
            {"roomId": "ROOM", "msgId": "nope"},
            'No message found with the id of "nope".',
            "error-failure",
        ),
    ],
)
def test_delete_refuses_bad_input_and_deletes_nothing(
    as_user, member, lounge, body, error, error_type
):
    api = as_user(member)
    sent = say(api, lounge)
    body = {k: {"ROOM": lounge.pk, "MSG": sent["_id"]}.get(v, v) for k, v in body.items()}

    assert_v1_error(post(api, "chat.delete", body), 400, error, error_type)
    assert counts(lounge)[0] == 1
    assert delete(api, sent).status_code == 200


def test_a_private_groups_message_cannot_be_deleted_by_an_outsider(as_user, owner, secret):
    sent = say(as_user(owner), secret)

    response = delete(as_user(UserFactory()), sent)

    assert_v1_error(
        response, 400, f'No message found with the id of "{sent["_id"]}".', "error-failure"
    )
    assert counts(secret)[0] == 1


# --- the 0.1 API sees the same messages ----------------------------------------------------------


def test_the_01_api_shows_plain_messages_unchanged_and_edits_once_made(as_user, member, lounge):
    api = as_user(member)
    plain = say(api, lounge, "plain")
    edited = update(api, say(api, lounge, "typo"), "fixed").json()["message"]

    history = api.get(f"/api/rooms/{lounge.pk}/messages").json()["messages"]

    assert history == [edited, plain]
    assert set(plain) == MESSAGE_KEYS


# --- many clients at once (PostgreSQL only: SQLite serialises every write) -----------------------


def call(url, headers, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers=headers | {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_deletes_and_sends_keep_the_count_exact(live_server):
    room = RoomFactory(name="busy")
    author = UserFactory(username="busybee")
    SubscriptionFactory(room=room, user=author)
    messages = [send_message(user=author, room=room, text=f"#{n}") for n in range(40)]
    headers = {"X-Auth-Token": issue_login_token(user=author), "X-User-Id": author.pk}

    def delete_one(message):
        body = {"roomId": room.pk, "msgId": message.pk}
        return call(f"{live_server.url}/api/v1/chat.delete", headers, body)[0]

    def send_one(n):
        body = {"message": {"rid": room.pk, "msg": f"new #{n}"}}
        return call(f"{live_server.url}/api/v1/chat.sendMessage", headers, body)[0]

    def send_with_one_id(_):
        body = {"message": {"_id": "OneIdForAll", "rid": room.pk, "msg": "mine"}}
        return call(f"{live_server.url}/api/v1/chat.sendMessage", headers, body)[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        deletes = [pool.submit(delete_one, m) for m in messages[:30] * 2]  # each one twice
        sends = [pool.submit(send_one, n) for n in range(20)]
        same_id = [pool.submit(send_with_one_id, n) for n in range(8)]

    assert sorted(f.result() for f in deletes) == [200] * 30 + [400] * 30
    assert [f.result() for f in sends] == [200] * 20
    assert sorted(f.result() for f in same_id) == [200] + [400] * 7
    room.refresh_from_db()
    stored = Message.objects.filter(room=room)
    assert stored.count() == room.msgs == 10 + 20 + 1
    assert room.lm == stored.latest("ts").ts
