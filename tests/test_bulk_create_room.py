"""POST /api/bulk/createRoom: many rooms in one call, all or none, the caller as owner."""

import json

import pytest

import rooms.services
from permissions.models import Permission
from rooms.models import Room, Subscription
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator():
    return UserFactory(username="boss", roles=["admin", "user"])


@pytest.fixture
def boss_api(api, auth_headers, creator):
    api.credentials(**auth_headers(creator))
    UserFactory(username="alice")
    UserFactory(username="bob")
    return api


def create(api, rooms):
    return api.post(
        "/api/bulk/createRoom", json.dumps({"rooms": rooms}), content_type="application/json"
    )


def test_creates_public_channels_with_the_caller_as_owner_and_the_members_in(boss_api, creator):
    response = create(
        boss_api, [{"name": "one", "members": ["alice", "BOB"]}, {"name": "two", "members": []}]
    )

    assert response.status_code == 200
    ids = [item["rid"] for item in response.json()["ids"]]
    assert response.json() == {"status": "success", "ids": [{"rid": rid} for rid in ids]}
    one, two = (Room.objects.get(pk=rid) for rid in ids)
    assert (one.name, one.t, one.creator, two.name) == ("one", "c", creator, "two")
    assert set(one.subscriptions.values_list("user__username", flat=True)) == {
        "boss",
        "alice",
        "bob",
    }
    assert list(two.subscriptions.values_list("user__username", flat=True)) == ["boss"]
    owner = Subscription.objects.get(room=one, user=creator)
    assert list(owner.roles.values_list("name", flat=True)) == ["owner"]
    assert not Subscription.objects.get(room=one, user__username="alice").roles.exists()


def test_created_rooms_appear_in_public_rooms(boss_api):
    create(boss_api, [{"name": "fresh", "members": ["alice"]}])

    rooms = {r["name"]: r for r in boss_api.get("/api/publicRooms").json()["rooms"]}
    assert rooms["fresh"]["usernames"] == ["alice", "boss"]
    assert rooms["fresh"]["u"]["username"] == "boss"


def assert_refused(response, message, error_type="invalid-params"):
    assert response.status_code == 400
    body = response.json()
    assert (body["message"], body["errorType"], body["status"]) == (message, error_type, "fail")
    assert not Room.objects.filter(name__in=["ok", "ok2"]).exists()


@pytest.mark.parametrize(
    ("bad", "message", "error_type"),
    [
        (
            {"name": "bad name"},
            "record #1 is invalid: name: May contain only characters matching [0-9a-zA-Z_.-]+.",
            "error-invalid-room-name",
        ),
        (
            {"name": ""},
            "record #1 is invalid: name: a non-empty string is required.",
            "invalid-params",
        ),
        (
            {"members": ["alice"]},
            "record #1 is invalid: name: a non-empty string is required.",
            "invalid-params",
        ),
        (
            {"name": "x", "members": "alice"},
            "record #1 is invalid: members: a list of usernames is required.",
            "invalid-params",
        ),
        (
            {"name": "x", "members": ["nobody"]},
            "record #1 is invalid: members: user 'nobody' does not exist.",
            "error-invalid-user",
        ),
        (
            {"name": "x", "private": "yes"},
            "record #1 is invalid: private: true or false is required.",
            "invalid-params",
        ),
        (
            {"name": "OK"},
            "record #1 is invalid: name: repeats record #0.",
            "error-duplicate-channel-name",
        ),
        (
            {"name": "General"},
            "record #1 is invalid: name: a room named 'general' already exists.",
            "error-duplicate-channel-name",
        ),
        (
            ["ok2"],
            "record #1 is invalid: expected an object with name and members.",
            "invalid-params",
        ),
    ],
)
def test_one_bad_record_refuses_the_whole_batch(boss_api, bad, message, error_type):
    assert_refused(create(boss_api, [{"name": "ok"}, bad, {"name": "ok2"}]), message, error_type)


def test_the_batch_must_be_a_list_of_at_most_bulk_max(boss_api, settings):
    settings.BULK_MAX = 1

    assert_refused(
        create(boss_api, [{"name": "ok"}, {"name": "ok2"}]), "At most 1 records per batch, not 2."
    )
    assert_refused(create(boss_api, "ok"), "rooms must be a list of {name, members} records.")


def test_private_rooms_need_create_p(boss_api, creator):
    Permission.objects.get(pk="create-p").roles.clear()

    refused = create(boss_api, [{"name": "ok"}, {"name": "hidden", "private": True}])
    assert refused.status_code == 403
    assert not Room.objects.filter(name__in=["ok", "hidden"]).exists()

    Permission.objects.get(pk="create-p").roles.add("admin")
    assert create(boss_api, [{"name": "hidden", "private": True}]).status_code == 200
    assert Room.objects.get(name="hidden").t == "p"


def test_a_failure_halfway_through_the_writes_leaves_nothing(boss_api, monkeypatch):
    real_bulk_create = Subscription.objects.bulk_create

    def fail(*args, **kwargs):
        real_bulk_create(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(rooms.services.Subscription.objects, "bulk_create", fail)
    boss_api.raise_request_exception = False

    response = create(boss_api, [{"name": "ok", "members": ["alice"]}])

    assert response.status_code == 500
    assert not Room.objects.filter(name="ok").exists()
    assert (
        not Subscription.objects.filter(user__username="alice").exclude(room_id="GENERAL").exists()
    )


@pytest.mark.parametrize(
    ("revoked", "role"), [("bulk-create-c", "admin"), ("create-c", "admin"), ("create-c", "user")]
)
def test_it_needs_bulk_create_c_and_create_c(api, auth_headers, revoked, role):
    user = UserFactory(roles=["admin"] if role == "admin" else ["user"])
    if role == "user":
        Permission.objects.get(pk="bulk-create-c").roles.add("user")
    Permission.objects.get(pk=revoked).roles.remove(role)
    api.credentials(**auth_headers(user))

    response = create(api, [{"name": "ok"}])

    assert response.status_code == 403
    assert response.json()["message"] == "You do not have permission to do this"
    assert not Room.objects.filter(name="ok").exists()


def test_the_name_check_ignores_case_of_existing_rooms(boss_api):
    RoomFactory(name="Lobby")

    assert_refused(
        create(boss_api, [{"name": "lobby"}]),
        "record #0 is invalid: name: a room named 'lobby' already exists.",
        "error-duplicate-channel-name",
    )
