"""v1 roles.* and permissions.*: Rocket.Chat's shapes and error words, access-permissions, and
changes that the next request honours (whichever of API, admin or command made them)."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from chat_project.db.timestamps import iso_ms
from permissions.models import Permission, Role
from rooms.models import Subscription
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

FORBIDDEN = "User does not have the permissions required for this action [error-unauthorized]"
ROLE_KEYS = {"_id", "name", "scope", "description", "protected", "mandatory2fa"}


@pytest.fixture
def boss(db):
    return UserFactory(username="boss", roles=["admin", "user"])


@pytest.fixture
def member(db):
    return UserFactory(username="sing", name="Sing", roles=["user"])


@pytest.fixture
def as_boss(api, auth_headers, boss):
    api.credentials(**auth_headers(boss))
    return api


@pytest.fixture
def as_member(api, auth_headers, member):
    api.credentials(**auth_headers(member))
    return api


def post(api, endpoint, body):
    path = endpoint if endpoint.startswith("/") else f"/api/v1/{endpoint}"
    return api.post(path, json.dumps(body), content_type="application/json")


def assert_error(response, status, error, error_type):
    body = response.json()
    assert response.status_code == status, body
    assert (body["success"], body["error"], body["errorType"]) == (False, error, error_type)


def queries_for(request):
    """Statements a request runs, once the token's first use is recorded; savepoints are the
    test's own transaction showing through."""
    request()
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200, response.json()
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


def role_names(user):
    return set(User.objects.get(pk=user.pk).roles.values_list("name", flat=True))


def holders(permission):
    return set(Permission.objects.get(pk=permission).roles.values_list("name", flat=True))


# --- roles.list, roles.sync ----------------------------------------------------------------------


def test_roles_list_shows_every_role_to_any_signed_in_user(as_member):
    response = as_member.get("/api/v1/roles.list")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"roles", "success"} and body["success"] is True
    assert all(set(role) == ROLE_KEYS for role in body["roles"])
    roles = {role["_id"]: role for role in body["roles"]}
    assert set(roles) == {"admin", "user", "bot", "guest", "owner", "moderator", "leader"}
    assert roles["owner"] == {
        "_id": "owner",
        "name": "owner",
        "scope": "Subscriptions",
        "description": "Owner of a room (its creator)",
        "protected": True,
        "mandatory2fa": False,
    }


def test_roles_list_needs_a_signed_in_user(api):
    response = api.get("/api/v1/roles.list")

    assert response.status_code == 401
    assert response.json()["message"] == "You must be logged in to do this."


def test_roles_list_costs_the_same_queries_for_1_or_11_roles(as_member):
    Role.objects.create(name="one")
    few = queries_for(lambda: as_member.get("/api/v1/roles.list"))
    for n in range(10):
        Role.objects.create(name=f"more{n}")

    assert queries_for(lambda: as_member.get("/api/v1/roles.list")) == few


def test_roles_sync_gives_the_roles_changed_since(as_member):
    mark = timezone.now() - timedelta(milliseconds=1)
    fresh = Role.objects.create(name="fresh", description="new")

    response = as_member.get("/api/v1/roles.sync", {"updatedSince": iso_ms(mark)})

    assert response.status_code == 200
    assert response.json() == {
        "roles": {
            "update": [
                {
                    "_id": "fresh",
                    "name": "fresh",
                    "scope": "Users",
                    "description": "new",
                    "protected": False,
                    "mandatory2fa": False,
                    "_updatedAt": iso_ms(fresh.updated_at),
                }
            ],
            "remove": [],
        },
        "success": True,
    }
    # The _updatedAt a client last saw brings nothing new.
    seen = response.json()["roles"]["update"][0]["_updatedAt"]
    assert as_member.get("/api/v1/roles.sync", {"updatedSince": seen}).json()["roles"] == {
        "update": [],
        "remove": [],
    }


def test_roles_sync_without_updated_since_is_empty_and_a_bad_date_is_an_error(as_member):
    assert as_member.get("/api/v1/roles.sync").json() == {
        "roles": {"update": [], "remove": []},
        "success": True,
    }

    assert_error(
        as_member.get("/api/v1/roles.sync", {"updatedSince": "yesterday"}),
        400,
        'The "updatedSince" query parameter must be a valid date. [error-updatedSince-param-invalid]',
        "error-updatedSince-param-invalid",
    )


# --- roles.create, roles.delete ------------------------------------------------------------------


def test_roles_create_makes_a_role(as_boss):
    response = post(
        as_boss, "roles.create", {"name": "helpdesk", "description": "Answers questions"}
    )

    assert response.status_code == 200
    role = Role.objects.get(name="helpdesk")
    assert response.json() == {
        "role": {
            "_id": "helpdesk",
            "name": "helpdesk",
            "scope": "Users",
            "description": "Answers questions",
            "protected": False,
            "mandatory2fa": False,
            "_updatedAt": iso_ms(role.updated_at),
        },
        "success": True,
    }
    listed = {r["_id"] for r in as_boss.get("/api/v1/roles.list").json()["roles"]}
    assert "helpdesk" in listed


def test_roles_create_takes_a_form_and_a_room_scope(as_boss):
    response = as_boss.post("/api/v1/roles.create", {"name": "greeter", "scope": "Subscriptions"})

    assert response.json()["role"]["scope"] == "Subscriptions"
    assert Role.objects.get(name="greeter").scope == "Subscriptions"


def test_roles_create_needs_access_permissions(as_member):
    assert_error(
        post(as_member, "roles.create", {"name": "mine"}), 403, FORBIDDEN, "error-unauthorized"
    )
    assert not Role.objects.filter(name="mine").exists()


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        ({"name": "admin"}, "Role name already exists", "error-duplicate-role-names-not-allowed"),
        ({"name": "x", "scope": "Rooms"}, "Invalid scope", "error-invalid-scope"),
        ({}, "The role properties are invalid.", "error-invalid-role-properties"),
        ({"name": 5}, "The role properties are invalid.", "error-invalid-role-properties"),
        ({"name": "bad name"}, "The role properties are invalid.", "error-invalid-role-properties"),
        (
            {"name": "x", "mandatory2fa": True},
            "The role properties are invalid.",
            "error-invalid-role-properties",
        ),
    ],
)
def test_roles_create_refusals(as_boss, body, error, error_type):
    response = post(as_boss, "roles.create", body)

    assert_error(response, 400, f"{error} [{error_type}]", error_type)
    assert Role.objects.count() == 7
    assert post(as_boss, "roles.create", {"name": "valid"}).status_code == 200


def test_roles_create_says_which_property_is_wrong(as_boss):
    response = post(as_boss, "roles.create", {"name": "bad name"})

    assert "name: May contain only" in response.json()["detailed_error"]


def test_roles_delete_deletes_a_role_nobody_holds(as_boss):
    Role.objects.create(name="temporary")
    Permission.objects.get(pk="create-c").roles.add("temporary")

    response = post(as_boss, "roles.delete", {"roleId": "temporary"})

    assert (response.status_code, response.json()) == (200, {"success": True})
    assert not Role.objects.filter(name="temporary").exists()
    assert holders("create-c") == {"admin", "user", "bot"}


@pytest.mark.parametrize(
    ("role", "error", "error_type"),
    [
        ("owner", "Cannot delete a protected role", "error-role-protected"),
        ("nosuchrole", "This role does not exist", "error-invalid-roleId"),
        ("held", "Cannot delete role because it's in use", "error-role-in-use"),
        ("held-in-a-room", "Cannot delete role because it's in use", "error-role-in-use"),
    ],
)
def test_roles_delete_refusals(as_boss, role, error, error_type):
    Role.objects.create(name="held")
    UserFactory(roles=["user", "held"])
    Role.objects.create(name="held-in-a-room", scope="Subscriptions")
    SubscriptionFactory(roles=["held-in-a-room"])

    assert_error(
        post(as_boss, "roles.delete", {"roleId": role}), 400, f"{error} [{error_type}]", error_type
    )
    assert Role.objects.count() == 9


def test_roles_delete_needs_a_role_id_and_access_permissions(as_member, auth_headers, boss):
    Role.objects.create(name="temporary")

    assert_error(
        post(as_member, "roles.delete", {"roleId": "temporary"}),
        403,
        FORBIDDEN,
        "error-unauthorized",
    )
    as_member.credentials(**auth_headers(boss))
    assert_error(
        post(as_member, "roles.delete", {}),
        400,
        'The "roleId" parameter is required [error-invalid-params]',
        "error-invalid-params",
    )
    assert post(as_member, "roles.delete", {"roleId": "temporary"}).status_code == 200


# --- roles.addUserToRole, roles.removeUserFromRole -----------------------------------------------


def test_add_user_to_role_gives_a_global_role(as_boss, member):
    response = post(as_boss, "roles.addUserToRole", {"roleId": "bot", "username": "sing"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"role", "success"}
    assert set(body["role"]) == ROLE_KEYS | {"_updatedAt"}
    assert body["role"]["_id"] == "bot"
    assert role_names(member) == {"user", "bot"}


def test_add_user_to_role_takes_role_name_and_user_id(as_boss, member):
    response = post(as_boss, "roles.addUserToRole", {"roleName": "guest", "userId": member.pk})

    assert response.json()["role"]["name"] == "guest"
    assert role_names(member) == {"user", "guest"}


def test_add_user_to_role_in_a_room_holds_it_in_that_room_only(as_boss, member):
    room, other = RoomFactory(), RoomFactory()
    SubscriptionFactory(room=room, user=member)
    SubscriptionFactory(room=other, user=member)

    response = post(
        as_boss,
        "roles.addUserToRole",
        {"roleId": "moderator", "username": "sing", "roomId": room.pk},
    )

    assert response.status_code == 200
    assert response.json()["role"]["scope"] == "Subscriptions"
    assert list(Subscription.objects.get(room=room, user=member).roles.all()) == [
        Role.objects.get(name="moderator")
    ]
    assert not Subscription.objects.get(room=other, user=member).roles.exists()
    assert role_names(member) == {"user"}


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        ({"roleId": "user", "username": "sing"}, "User already in role", None),
        ({"username": "sing"}, None, "error-invalid-role-properties"),
        ({"roleId": "nosuchrole", "username": "sing"}, None, "error-role-not-found"),
        (
            {"roleId": "bot", "username": "nobody"},
            'The required "userId" or "username" param provided does not match any users',
            "error-invalid-user",
        ),
        ({"roleId": "bot"}, 'The required "userId" or "username" param was not provided', None),
        (
            {"roleId": "owner", "username": "sing"},
            "Role 'owner' is held within rooms, not globally.",
            "error-invalid-role",
        ),
        (
            {"roleId": "bot", "username": "sing", "roomId": "ROOM"},
            "Role 'bot' is held globally, not within rooms.",
            "error-invalid-role",
        ),
        (
            {"roleId": "owner", "username": "sing", "roomId": "OTHER"},
            "User is not part of given room",
            "error-invalid-user",
        ),
        (
            {"roleId": "owner", "username": "sing", "roomId": "nosuchroom"},
            "Room not found.",
            "error-room-not-found",
        ),
    ],
)
def test_add_user_to_role_refusals(as_boss, member, body, error, error_type):
    room, other = RoomFactory(id="ROOM"), RoomFactory(id="OTHER")
    SubscriptionFactory(room=room, user=member)
    error_type = error_type or {
        "User already in role": "error-user-already-in-role",
        'The required "userId" or "username" param was not provided': (
            "error-user-param-not-provided"
        ),
    }.get(error)

    response = post(as_boss, "roles.addUserToRole", body)

    # Rocket.Chat answers a missing or unknown role with API.v1.failure('<type>', ...): the
    # type itself is the error text.
    assert_error(response, 400, f"{error} [{error_type}]" if error else error_type, error_type)
    assert role_names(member) == {"user"}
    assert not Subscription.objects.filter(user=member, roles__isnull=False).exists()
    assert other.subscriptions.count() == 0


def test_add_user_to_role_needs_access_permissions(as_member, member):
    assert_error(
        post(as_member, "roles.addUserToRole", {"roleId": "bot", "username": "sing"}),
        403,
        FORBIDDEN,
        "error-unauthorized",
    )
    assert role_names(member) == {"user"}


def test_giving_admin_also_needs_assign_admin_role(api, auth_headers, member):
    Role.objects.create(name="permissioners")
    Permission.objects.get(pk="access-permissions").roles.add("permissioners")
    api.credentials(**auth_headers(UserFactory(roles=["user", "permissioners"])))

    assert_error(
        post(api, "roles.addUserToRole", {"roleId": "admin", "username": "sing"}),
        403,
        "Assigning admin is not allowed [error-action-not-allowed]",
        "error-action-not-allowed",
    )
    assert (
        post(api, "roles.addUserToRole", {"roleId": "bot", "username": "sing"}).status_code == 200
    )
    Permission.objects.get(pk="assign-admin-role").roles.add("permissioners")
    assert (
        post(api, "roles.addUserToRole", {"roleId": "admin", "username": "sing"}).status_code == 200
    )
    assert role_names(member) == {"user", "bot", "admin"}


def test_remove_user_from_role_takes_a_global_role(as_boss, member):
    member.roles.add("bot")

    response = post(as_boss, "roles.removeUserFromRole", {"roleId": "bot", "username": "sing"})

    assert response.status_code == 200
    assert set(response.json()) == {"role", "success"}
    assert response.json()["role"]["_id"] == "bot"
    assert role_names(member) == {"user"}


@pytest.mark.parametrize("room_key", ["roomId", "scope"])
def test_remove_user_from_role_in_a_room(as_boss, member, room_key):
    room = RoomFactory()
    SubscriptionFactory(room=room, user=member, roles=["owner", "leader"])

    response = post(
        as_boss,
        "roles.removeUserFromRole",
        {"roleName": "owner", "username": "sing", room_key: room.pk},
    )

    assert response.status_code == 200
    assert response.json()["role"]["_id"] == "owner"
    held = Subscription.objects.get(room=room, user=member).roles.values_list("name", flat=True)
    assert list(held) == ["leader"]


@pytest.mark.parametrize(
    ("body", "error", "error_type"),
    [
        (
            {"roleId": "bot", "username": "sing"},
            "User is not in this role",
            "error-user-not-in-role",
        ),
        (
            {"roleId": "owner", "username": "sing", "roomId": "ROOM"},
            "User is not in this role",
            "error-user-not-in-role",
        ),
        (
            {"roleId": "bot", "username": "nobody"},
            "There is no user with this username",
            "error-invalid-user",
        ),
        (
            {"roleId": "nosuchrole", "username": "sing"},
            "This role does not exist",
            "error-invalid-roleId",
        ),
        (
            {"roleId": "admin", "username": "boss"},
            "You need to have at least one admin",
            "error-admin-required",
        ),
        (
            {"roleId": "bot"},
            'The "username" parameter is required',
            "error-invalid-params",
        ),
    ],
)
def test_remove_user_from_role_refusals(as_boss, boss, member, body, error, error_type):
    RoomFactory(id="ROOM")

    response = post(as_boss, "roles.removeUserFromRole", body)

    assert_error(response, 400, f"{error} [{error_type}]", error_type)
    assert role_names(boss) == {"admin", "user"}


def test_remove_user_from_role_without_a_role_is_rocket_chats_failure(as_boss, member):
    assert_error(
        post(as_boss, "roles.removeUserFromRole", {"username": "sing"}),
        400,
        "error-invalid-role-properties",
        "error-invalid-role-properties",
    )


def test_the_admin_role_can_go_once_there_is_another_admin(as_boss, boss, member):
    member.roles.add("admin")

    response = post(as_boss, "roles.removeUserFromRole", {"roleId": "admin", "username": "boss"})

    assert response.status_code == 200
    assert role_names(boss) == {"user"}
    # ...and the next request no longer holds access-permissions.
    assert_error(
        post(as_boss, "roles.addUserToRole", {"roleId": "admin", "username": "boss"}),
        403,
        FORBIDDEN,
        "error-unauthorized",
    )


def test_remove_user_from_role_needs_access_permissions(as_member, member):
    member.roles.add("bot")

    assert_error(
        post(as_member, "roles.removeUserFromRole", {"roleId": "bot", "username": "sing"}),
        403,
        FORBIDDEN,
        "error-unauthorized",
    )
    assert role_names(member) == {"user", "bot"}


# --- roles.getUsersInRole ------------------------------------------------------------------------


def test_get_users_in_role_lists_the_holders_by_username(as_boss, boss, member):
    UserFactory(username="robot", roles=["bot"])
    UserFactory(username="android", roles=["bot"])

    response = as_boss.get("/api/v1/roles.getUsersInRole", {"role": "bot"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"users", "count", "offset", "total", "success"}
    assert [u["username"] for u in body["users"]] == ["android", "robot"]
    assert (body["count"], body["offset"], body["total"]) == (2, 0, 2)
    robot = User.objects.get(username="robot")
    assert body["users"][1] == {
        "_id": robot.pk,
        "username": "robot",
        "name": "Robot",
        "emails": [{"address": "robot@example.com", "verified": False}],
        "createdAt": iso_ms(robot.created_at),
        "_updatedAt": iso_ms(robot.updated_at),
    }


def test_get_users_in_role_pages(as_boss):
    for n in range(5):
        UserFactory(username=f"bot{n}", roles=["bot"])

    body = as_boss.get(
        "/api/v1/roles.getUsersInRole", {"role": "bot", "offset": 1, "count": 2}
    ).json()

    assert [u["username"] for u in body["users"]] == ["bot1", "bot2"]
    assert (body["count"], body["offset"], body["total"]) == (2, 1, 5)


def test_get_users_in_role_of_a_room_role(as_boss, member):
    room, other = RoomFactory(), RoomFactory()
    SubscriptionFactory(room=room, user=member, roles=["moderator"])
    SubscriptionFactory(room=other, user=UserFactory(username="elsewhere"), roles=["moderator"])
    SubscriptionFactory(room=other, user=member, roles=["moderator"])

    in_room = as_boss.get(
        "/api/v1/roles.getUsersInRole", {"role": "moderator", "roomId": room.pk}
    ).json()
    anywhere = as_boss.get("/api/v1/roles.getUsersInRole", {"role": "moderator"}).json()

    assert [u["username"] for u in in_room["users"]] == ["sing"]
    assert [u["username"] for u in anywhere["users"]] == ["elsewhere", "sing"]
    assert anywhere["total"] == 2


def test_get_users_in_role_refusals(as_member, auth_headers, boss, member):
    url = "/api/v1/roles.getUsersInRole"
    assert_error(as_member.get(url, {"role": "bot"}), 403, FORBIDDEN, "error-unauthorized")

    Role.objects.create(name="permissioners")
    Permission.objects.get(pk="access-permissions").roles.add("permissioners")
    member.roles.add("permissioners")
    room = RoomFactory()
    assert as_member.get(url, {"role": "owner"}).status_code == 200
    assert_error(
        as_member.get(url, {"role": "owner", "roomId": room.pk}),
        403,
        "Not allowed [error-not-allowed]",
        "error-not-allowed",
    )

    as_member.credentials(**auth_headers(boss))
    assert_error(
        as_member.get(url),
        400,
        'Query param "role" is required [error-param-not-provided]',
        "error-param-not-provided",
    )
    assert_error(
        as_member.get(url, {"role": "nosuchrole"}),
        400,
        "This role does not exist [error-invalid-roleId]",
        "error-invalid-roleId",
    )
    assert as_member.get(url, {"role": "owner", "roomId": room.pk}).status_code == 200


def test_get_users_in_role_costs_the_same_queries_for_1_or_11_holders(as_boss):
    room = RoomFactory()
    UserFactory(roles=["bot"])
    SubscriptionFactory(room=room, roles=["moderator"])
    url = "/api/v1/roles.getUsersInRole"
    few = queries_for(lambda: as_boss.get(url, {"role": "bot"}))
    few_in_room = queries_for(lambda: as_boss.get(url, {"role": "moderator", "roomId": room.pk}))
    for _ in range(10):
        UserFactory(roles=["bot"])
        SubscriptionFactory(room=room, roles=["moderator"])

    assert queries_for(lambda: as_boss.get(url, {"role": "bot"})) == few
    assert queries_for(lambda: as_boss.get(url, {"role": "moderator", "roomId": room.pk})) == (
        few_in_room
    )


# --- permissions.listAll, permissions.update -----------------------------------------------------


def test_permissions_list_all_gives_every_permission_with_its_roles(as_member):
    response = as_member.get("/api/v1/permissions.listAll")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"update", "remove", "success"}
    assert body["remove"] == []
    assert all(set(p) == {"_id", "roles", "_updatedAt"} for p in body["update"])
    by_id = {p["_id"]: p for p in body["update"]}
    assert set(by_id) == set(Permission.objects.values_list("id", flat=True))
    create_c = Permission.objects.get(pk="create-c")
    assert by_id["create-c"] == {
        "_id": "create-c",
        "roles": ["admin", "bot", "user"],
        "_updatedAt": iso_ms(create_c.updated_at),
    }


def test_permissions_list_all_since_gives_only_what_changed(as_boss):
    mark = iso_ms(timezone.now() - timedelta(milliseconds=1))
    post(as_boss, "permissions.update", {"permissions": [{"_id": "view-history", "roles": []}]})
    call_command("permissions", "grant", "create-user", "bot", stdout=StringIO())

    body = as_boss.get("/api/v1/permissions.listAll", {"updatedSince": mark}).json()

    assert body["update"] == [
        {
            "_id": "create-user",
            "roles": ["admin", "bot"],
            "_updatedAt": iso_ms(Permission.objects.get(pk="create-user").updated_at),
        },
        {
            "_id": "view-history",
            "roles": [],
            "_updatedAt": iso_ms(Permission.objects.get(pk="view-history").updated_at),
        },
    ]
    seen = max(p["_updatedAt"] for p in body["update"])
    again = as_boss.get("/api/v1/permissions.listAll", {"updatedSince": seen}).json()
    assert again["update"] == []
    assert_error(
        as_boss.get("/api/v1/permissions.listAll", {"updatedSince": "soon"}),
        400,
        'The "updatedSince" query parameter must be a valid date. [error-roomId-param-invalid]',
        "error-roomId-param-invalid",
    )


def test_permissions_list_all_costs_the_same_queries_with_few_or_many_grants(as_member):
    Role.objects.create(name="one")
    Permission.objects.get(pk="create-c").roles.add("one")
    few = queries_for(lambda: as_member.get("/api/v1/permissions.listAll"))
    for n in range(10):
        role = Role.objects.create(name=f"more{n}")
        role.permissions.set(Permission.objects.all())

    assert queries_for(lambda: as_member.get("/api/v1/permissions.listAll")) == few


def test_permissions_update_sets_exactly_the_roles_given(as_boss):
    response = post(
        as_boss,
        "permissions.update",
        {
            "permissions": [
                {"_id": "bulk-create-c", "roles": ["admin", "user"]},
                {"_id": "create-p", "roles": ["admin"]},
            ]
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"permissions", "success"}
    by_id = {p["_id"]: p for p in body["permissions"]}
    assert len(by_id) == Permission.objects.count()
    assert by_id["bulk-create-c"]["roles"] == ["admin", "user"]
    assert by_id["create-p"]["roles"] == ["admin"]
    assert holders("bulk-create-c") == {"admin", "user"}
    assert holders("create-p") == {"admin"}


def test_a_grant_through_permissions_update_applies_to_the_next_request(
    api, auth_headers, boss, member
):
    as_sing = auth_headers(member)
    as_boss = auth_headers(boss)
    rooms = json.dumps({"rooms": [{"name": "planned"}]})

    def create_room():
        return api.post(
            "/api/bulk/createRoom", rooms, content_type="application/json", **as_sing
        ).status_code

    assert create_room() == 403
    granted = api.post(
        "/api/v1/permissions.update",
        json.dumps({"permissions": [{"_id": "bulk-create-c", "roles": ["admin", "user"]}]}),
        content_type="application/json",
        **as_boss,
    )
    assert granted.status_code == 200
    assert create_room() == 200


def test_a_role_made_and_given_through_the_api_applies_to_the_next_request(
    api, auth_headers, boss, member
):
    api.credentials(**auth_headers(member))
    rooms = {"rooms": [{"name": "planned"}]}
    assert post(api, "/api/bulk/createRoom", rooms).status_code == 403

    api.credentials(**auth_headers(boss))
    assert post(api, "roles.create", {"name": "planners"}).status_code == 200
    update = {"permissions": [{"_id": "bulk-create-c", "roles": ["admin", "planners"]}]}
    assert post(api, "permissions.update", update).status_code == 200
    assert (
        post(api, "roles.addUserToRole", {"roleId": "planners", "username": "sing"}).status_code
        == 200
    )

    api.credentials(**auth_headers(member))
    assert post(api, "/api/bulk/createRoom", rooms).status_code == 200


def test_permissions_update_takes_a_form_with_the_list_as_json(as_boss):
    response = as_boss.post(
        "/api/v1/permissions.update",
        {"permissions": json.dumps([{"_id": "view-history", "roles": ["admin"]}])},
    )

    assert response.status_code == 200
    assert holders("view-history") == {"admin"}


@pytest.mark.parametrize(
    ("permissions", "error", "error_type"),
    [
        (
            [{"_id": "create-p", "roles": ["admin"]}, {"_id": "no-such-thing", "roles": []}],
            "Invalid permission",
            "error-invalid-permission",
        ),
        (
            [{"_id": "create-p", "roles": ["admin"]}, {"_id": "create-p", "roles": []}],
            "Invalid permission",
            "error-invalid-permission",
        ),
        (
            [{"_id": "create-p", "roles": ["admin"]}, {"_id": "create-c", "roles": ["nosuch"]}],
            "Invalid role",
            "error-invalid-role",
        ),
        ("create-p", "Invalid body params", "error-invalid-body-params"),
        ([{"_id": "create-p"}], "Invalid body params", "error-invalid-body-params"),
        (
            [{"_id": "create-p", "roles": ["admin", "admin"]}],
            "Invalid body params",
            "error-invalid-body-params",
        ),
        (
            [{"_id": "create-p", "roles": "admin"}],
            "Invalid body params",
            "error-invalid-body-params",
        ),
        (
            [{"_id": "create-p", "roles": [], "extra": 1}],
            "Invalid body params",
            "error-invalid-body-params",
        ),
    ],
)
def test_permissions_update_changes_nothing_unless_all_is_valid(
    as_boss, permissions, error, error_type
):
    before = {p: holders(p) for p in ("create-p", "create-c")}

    response = post(as_boss, "permissions.update", {"permissions": permissions})

    assert_error(response, 400, error, error_type)
    assert {p: holders(p) for p in ("create-p", "create-c")} == before
    assert post(as_boss, "permissions.update", {"permissions": []}).status_code == 200


def test_permissions_update_names_the_culprit_in_the_detail(as_boss):
    response = post(
        as_boss, "permissions.update", {"permissions": [{"_id": "create-c", "roles": ["nosuch"]}]}
    )

    assert response.json()["detailed_error"] == "Role 'nosuch' does not exist."


def test_permissions_update_needs_access_permissions(as_member):
    response = post(
        as_member,
        "permissions.update",
        {"permissions": [{"_id": "access-permissions", "roles": ["user"]}]},
    )

    assert_error(response, 403, FORBIDDEN, "error-unauthorized")
    assert holders("access-permissions") == {"admin"}


# --- the same rows from the admin and the commands -----------------------------------------------


def test_a_role_edited_in_the_admin_shows_in_permissions_list_all_since(client, as_member):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client.login(username="root", password="correct horse battery staple")
    mark = iso_ms(timezone.now() - timedelta(milliseconds=1))
    keep = [p for p in holders_of("bot") if p != "create-c"]

    response = client.post(
        "/admin/permissions/role/bot/change/",
        {"scope": "Users", "description": "Bots", "permissions": keep},
    )

    assert response.status_code == 302
    body = as_member.get("/api/v1/permissions.listAll", {"updatedSince": mark}).json()
    assert [(p["_id"], p["roles"]) for p in body["update"]] == [("create-c", ["admin", "user"])]


def test_the_admin_cannot_delete_a_role_someone_holds(client):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client.login(username="root", password="correct horse battery staple")
    Role.objects.create(name="held")
    UserFactory(roles=["held"])

    assert client.post("/admin/permissions/role/held/delete/", {"post": "yes"}).status_code == 403
    assert Role.objects.filter(name="held").exists()


def holders_of(role):
    return list(Role.objects.get(name=role).permissions.values_list("id", flat=True))
