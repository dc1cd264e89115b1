"""Security scans across the API: stored secrets never leave the server, a private group is
invisible to non-members through every endpoint that takes a room, and clients cannot give
themselves roles, an active flag, ids or authorship."""

import json

import pytest
from rest_framework.response import Response

import accounts.v1_views
from accounts.models import User
from permissions.models import Permission
from rooms.models import Message, Room, Subscription
from tests.conftest import PASSWORD
from tests.factories import MessageFactory, RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- stored secrets (the scan itself lives in conftest.py and runs for every test) ---------------


def test_the_secret_scan_catches_a_password_hash_in_a_body(api, auth_headers, user, monkeypatch):
    monkeypatch.setattr(
        accounts.v1_views.MeView, "get", lambda self, request: Response({"p": user.password})
    )
    api.credentials(**auth_headers(user))

    with pytest.raises(AssertionError, match="stored secrets"):
        api.get("/api/v1/me")


def test_the_secret_scan_catches_a_token_digest_in_a_body(api, auth_headers, user, monkeypatch):
    monkeypatch.setattr(
        accounts.v1_views.MeView,
        "get",
        lambda self, request: Response({"d": request.auth.digest}),
    )
    api.credentials(**auth_headers(user))

    with pytest.raises(AssertionError, match="stored secrets"):
        api.get("/api/v1/me")


def test_no_answer_about_users_carries_their_hash_or_token_digests(api, auth_headers, admin):
    """The answers most likely to leak them, by an administrator who may see everything."""
    admin.roles.set(["admin", "user"])
    api.credentials(**auth_headers(admin))
    UserFactory(username="other")

    answers = [
        api.post("/api/v1/login", {"user": "admin", "password": PASSWORD}, format="json"),
        api.get("/api/v1/me"),
        api.get("/api/v1/users.list"),
        api.get("/api/v1/users.info", {"username": "other"}),
        api.post("/api/v1/users.createToken", {"username": "admin"}, format="json"),
        api.get("/api/publicRooms"),
        api.get("/api/v1/channels.members", {"roomId": "GENERAL"}),
    ]

    # The scan (conftest.py) has checked every body; here, that they were real answers.
    assert [r.status_code for r in answers] == [200] * len(answers)


# --- private groups are invisible to non-members --------------------------------------------------

MISSING_ROOM_ID = "Zz23456789ABCDEFG"
MISSING_ROOM_NAME = "nosuchgroup"
MISSING_MESSAGE_ID = "Mm23456789ABCDEFG"


@pytest.fixture
def hidden(db):
    """A private group with its owner, a message, and a name; and an outsider who is a plain
    user (no view-room-administration)."""
    owner = UserFactory(username="keeper")
    group = RoomFactory(name="hideout", t=Room.Type.GROUP, creator=owner, topic="plans")
    SubscriptionFactory(room=group, user=owner, roles=["owner"])
    message = MessageFactory(room=group, author=owner, msg="the secret plan")
    Room.objects.filter(pk=group.pk).update(msgs=1, lm=message.ts)
    return group, message


# (method, path, params): <rid>, <name> and <mid> stand for the room id, its name and a
# message id in it.
ROOM_PROBES = [
    ("post", "/api/rooms/<rid>/join", {}),
    ("post", "/api/rooms/<rid>/leave", {}),
    ("post", "/api/rooms/<rid>/send", {"msg": "hi"}),
    ("get", "/api/rooms/<rid>/messages", {}),
    ("post", "/api/room/<rid>/archive", {}),
    ("post", "/api/room/<rid>/unarchive", {}),
    *[
        (method, f"/api/v1/{kind}.{name}", {key: value} | extra)
        for kind in ("groups", "channels")
        for key, value in (("roomId", "<rid>"), ("roomName", "<name>"))
        for method, name, extra in [
            ("get", "info", {}),
            ("get", "history", {}),
            ("get", "messages", {}),
            ("get", "members", {}),
            ("get", "moderators", {}),
            ("get", "roles", {}),
            ("get", "counters", {}),
            ("post", "leave", {}),
            ("post", "invite", {"username": "sing"}),
            ("post", "kick", {"username": "keeper"}),
            ("post", "delete", {}),
            ("post", "archive", {}),
            ("post", "unarchive", {}),
            ("post", "rename", {"name": "renamed"}),
            ("post", "setTopic", {"topic": "mine"}),
            ("post", "setDescription", {"description": "mine"}),
            ("post", "setAnnouncement", {"announcement": "mine"}),
            ("post", "setReadOnly", {"readOnly": True}),
            ("post", "addOwner", {"username": "sing"}),
            ("post", "removeOwner", {"username": "keeper"}),
            ("post", "addModerator", {"username": "sing"}),
            ("post", "addLeader", {"username": "sing"}),
        ]
    ],
    ("post", "/api/v1/channels.join", {"roomId": "<rid>"}),
    ("post", "/api/v1/channels.join", {"roomName": "<name>"}),
    ("post", "/api/v1/channels.setDefault", {"roomId": "<rid>", "default": True}),
    ("post", "/api/v1/chat.postMessage", {"roomId": "<rid>", "text": "hi"}),
    ("post", "/api/v1/chat.postMessage", {"channel": "#<name>", "text": "hi"}),
    ("post", "/api/v1/chat.postMessage", {"channel": "<name>", "text": "hi"}),
    ("post", "/api/v1/chat.sendMessage", {"message": {"rid": "<rid>", "msg": "hi"}}),
    ("get", "/api/v1/chat.getMessage", {"msgId": "<mid>"}),
    ("post", "/api/v1/chat.update", {"roomId": "<rid>", "msgId": "<mid>", "text": "mine"}),
    ("post", "/api/v1/chat.delete", {"roomId": "<rid>", "msgId": "<mid>"}),
    (
        "post",
        "/api/v1/roles.addUserToRole",
        {"roleName": "owner", "username": "sing", "roomId": "<rid>"},
    ),
    ("get", "/api/v1/roles.getUsersInRole", {"role": "owner", "roomId": "<rid>"}),
]


def probe(api, method, path, params, *, rid, name, mid):
    def fill(text):
        return text.replace("<rid>", rid).replace("<name>", name).replace("<mid>", mid)

    path = fill(path)
    params = json.loads(fill(json.dumps(params)))
    response = api.get(path, params) if method == "get" else api.post(path, params, format="json")
    text = response.content.decode()
    for real, placeholder in ((rid, "<rid>"), (mid, "<mid>"), (name, "<name>")):
        text = text.replace(real, placeholder)
    body = json.loads(text)
    body.pop("request_id", None)
    return response.status_code, body


@pytest.mark.parametrize(("method", "path", "params"), ROOM_PROBES, ids=lambda v: str(v)[:60])
def test_a_hidden_private_group_answers_as_a_missing_one(
    api, auth_headers, user, hidden, method, path, params
):
    group, message = hidden
    api.credentials(**auth_headers(user))
    before = (
        list(Room.objects.filter(pk=group.pk).values()),
        sorted(Subscription.objects.filter(room=group).values_list("user_id", flat=True)),
        list(Message.objects.filter(room=group).values_list("pk", "msg")),
    )

    seen = probe(api, method, path, params, rid=group.pk, name=group.name, mid=message.pk)
    missing = probe(
        api,
        method,
        path,
        params,
        rid=MISSING_ROOM_ID,
        name=MISSING_ROOM_NAME,
        mid=MISSING_MESSAGE_ID,
    )

    assert seen == missing
    assert seen[0] in (400, 403, 404), seen  # refused for what was asked, not for who asked
    assert (
        list(Room.objects.filter(pk=group.pk).values()),
        sorted(Subscription.objects.filter(room=group).values_list("user_id", flat=True)),
        list(Message.objects.filter(room=group).values_list("pk", "msg")),
    ) == before


def test_lists_never_show_a_hidden_private_group(api, auth_headers, user, hidden):
    group, _ = hidden
    api.credentials(**auth_headers(user))

    answers = [
        api.get("/api/publicRooms"),
        api.get("/api/joinedRooms"),
        api.get("/api/v1/channels.list"),
        api.get("/api/v1/channels.list.joined"),
        api.get("/api/v1/groups.list"),
    ]

    for response in answers:
        assert response.status_code == 200
        assert group.pk.encode() not in response.content
        assert b"hideout" not in response.content
        assert b"the secret plan" not in response.content


# --- clients cannot set their own roles, active flag, ids or authorship ---------------------------


def roles_of(user):
    return sorted(user.roles.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "data",
    [
        {"roles": ["admin"]},
        {"roles": ["user", "bot"]},
        {"active": False},
        {"name": "Sung", "roles": ["admin"]},
        {"name": "Sung", "active": False},
    ],
    ids=json.dumps,
)
def test_a_plain_user_cannot_change_their_own_roles_or_active_flag(api, auth_headers, user, data):
    api.credentials(**auth_headers(user))

    response = api.post("/api/v1/users.update", {"userId": user.pk, "data": data}, format="json")

    assert response.status_code == 403
    user.refresh_from_db()
    assert roles_of(user) == ["user"]
    assert user.is_active is True
    assert user.name == "Sing"  # nothing of a refused update is kept


@pytest.mark.parametrize(
    "extra",
    [
        {"_id": "ChosenId234567890"},
        {"id": "ChosenId234567890"},
        {"is_superuser": True},
        {"is_staff": True},
        {"superuser": True},
        {"type": "bot"},
        {"createdAt": "2000-01-01T00:00:00.000Z"},
        {"emails": [{"address": "boss@example.com", "verified": True}]},
        {"password_hash": "rc_argon2$x"},
    ],
    ids=json.dumps,
)
def test_users_update_ignores_fields_it_does_not_take(api, auth_headers, user, extra):
    api.credentials(**auth_headers(user))
    before = User.objects.filter(pk=user.pk).values().get()

    response = api.post(
        "/api/v1/users.update", {"userId": user.pk, "data": {"name": "Sung"} | extra}, format="json"
    )

    assert response.status_code == 200
    after = User.objects.filter(pk=user.pk).values().get()
    assert {k: v for k, v in after.items() if k not in ("name", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("name", "updated_at")
    }
    assert after["name"] == "Sung"
    assert roles_of(user) == ["user"]


def test_users_register_takes_no_roles_flags_or_id(api):
    response = api.post(
        "/api/v1/users.register",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "pass": PASSWORD,
            "name": "New",
            "roles": ["admin"],
            "active": False,
            "_id": "ChosenId234567890",
            "is_superuser": True,
            "is_staff": True,
        },
        format="json",
    )

    assert response.status_code == 200
    newbie = User.objects.get(username="newbie")
    assert newbie.pk != "ChosenId234567890"
    assert response.json()["user"]["_id"] == newbie.pk
    assert roles_of(newbie) == ["user"]
    assert (newbie.is_active, newbie.is_superuser, newbie.is_staff) == (True, False, False)


def test_users_create_and_bulk_register_are_refused_to_a_plain_user(api, auth_headers, user):
    api.credentials(**auth_headers(user))
    record = {"email": "n@example.com", "name": "newbie", "pass": PASSWORD, "roles": ["admin"]}

    created = api.post(
        "/api/v1/users.create",
        {"email": "n@example.com", "name": "N", "password": PASSWORD, "username": "newbie"}
        | {"roles": ["admin"]},
        format="json",
    )
    bulk = api.post("/api/bulk/register", {"users": [record]}, format="json")

    assert created.status_code == 403
    assert bulk.status_code == 403
    assert not User.objects.filter(username="newbie").exists()


def test_users_create_by_an_admin_takes_no_id_or_superuser_flag(api, auth_headers, admin):
    admin.roles.set(["admin", "user"])
    api.credentials(**auth_headers(admin))

    response = api.post(
        "/api/v1/users.create",
        {
            "email": "n@example.com",
            "name": "N",
            "password": PASSWORD,
            "username": "newbie",
            "_id": "ChosenId234567890",
            "is_superuser": True,
            "is_staff": True,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    newbie = User.objects.get(username="newbie")
    assert newbie.pk != "ChosenId234567890"
    assert (newbie.is_superuser, newbie.is_staff) == (False, False)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/roles.addUserToRole", {"roleName": "admin", "username": "sing"}),
        ("/api/v1/roles.create", {"name": "mine"}),
        ("/api/v1/users.setActiveStatus", {"userId": "<me>", "activeStatus": False}),
        (
            "/api/v1/permissions.update",
            {"permissions": [{"_id": "delete-user", "roles": ["user"]}]},
        ),
    ],
)
def test_a_plain_user_cannot_grant_themselves_anything(api, auth_headers, user, path, body):
    api.credentials(**auth_headers(user))
    holders = sorted(Permission.roles.through.objects.values_list("permission_id", "role_id"))

    response = api.post(path, json.loads(json.dumps(body).replace("<me>", user.pk)), format="json")

    assert response.status_code == 403
    user.refresh_from_db()
    assert roles_of(user) == ["user"]
    assert user.is_active
    assert (
        sorted(Permission.roles.through.objects.values_list("permission_id", "role_id")) == holders
    )


IMPERSONATION = {
    "u": {"_id": "<boss>", "username": "boss", "name": "Boss"},
    "ts": {"$date": 0},
    "_updatedAt": "2000-01-01T00:00:00.000Z",
    "editedBy": {"_id": "<boss>"},
    "t": "uj",
    "author": "<boss>",
    "author_id": "<boss>",
}


@pytest.mark.parametrize("endpoint", ["0.1 send", "chat.postMessage", "chat.sendMessage"], ids=str)
def test_messages_are_always_the_callers_own_and_stamped_by_the_server(
    api, auth_headers, user, endpoint
):
    boss = UserFactory(username="boss", roles=["admin", "user"])
    room = RoomFactory(name="lobby")
    SubscriptionFactory(room=room, user=user)
    extra = json.loads(json.dumps(IMPERSONATION).replace("<boss>", boss.pk))
    api.credentials(**auth_headers(user))

    if endpoint == "0.1 send":
        response = api.post(f"/api/rooms/{room.pk}/send", {"msg": "mine"} | extra, format="json")
    elif endpoint == "chat.postMessage":
        response = api.post(
            "/api/v1/chat.postMessage", {"roomId": room.pk, "text": "mine"} | extra, format="json"
        )
    else:
        response = api.post(
            "/api/v1/chat.sendMessage",
            {"message": {"rid": room.pk, "msg": "mine"} | extra},
            format="json",
        )

    assert response.status_code == 200, response.json()
    message = Message.objects.get()
    assert message.author_id == user.pk
    assert message.edited_by_id is None
    assert message.ts.year >= 2025
    assert message.alias == ""


def test_posting_under_another_name_needs_message_impersonate(api, auth_headers, user):
    room = RoomFactory(name="lobby")
    SubscriptionFactory(room=room, user=user)
    api.credentials(**auth_headers(user))

    response = api.post(
        "/api/v1/chat.postMessage",
        {"roomId": room.pk, "text": "mine", "alias": "boss", "avatar": "https://x.example/a.png"},
        format="json",
    )

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_room_created_by_a_client_is_theirs_whatever_they_claim(api, auth_headers, user):
    boss = UserFactory(username="boss", roles=["admin", "user"])
    api.credentials(**auth_headers(user))

    response = api.post(
        "/api/v1/channels.create",
        {"name": "mine", "u": {"_id": boss.pk}, "creator": boss.pk, "_id": "ChosenId234567890"},
        format="json",
    )

    assert response.status_code == 200
    room = Room.objects.get(name="mine")
    assert room.creator_id == user.pk
    assert room.pk != "ChosenId234567890"
    assert not Subscription.objects.filter(room=room, user=boss).exists()
