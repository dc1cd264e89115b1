"""has_permission: global roles, room roles, one query per request, defaults that respect edits."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import create_user
from permissions.checks import has_permission
from permissions.defaults import apply_defaults, load_defaults
from permissions.models import Permission, Role
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request would load it (no permissions cached)."""
    return User.objects.get(pk=user.pk)


def test_a_global_role_grants_everywhere():
    user = UserFactory(roles=["user"])

    assert has_permission(user, "create-c")
    assert has_permission(user, "create-c", RoomFactory())
    assert not has_permission(user, "bulk-create-c")


def test_a_room_role_grants_in_that_room_only():
    user = UserFactory(roles=["user"])
    mine, other = RoomFactory(), RoomFactory()
    SubscriptionFactory(room=mine, user=user, roles=["owner"])
    SubscriptionFactory(room=other, user=user)

    assert has_permission(user, "archive-room", mine)
    assert not has_permission(user, "archive-room", other)
    assert not has_permission(user, "archive-room")


def test_all_permission_names_come_in_one_query_and_are_reused():
    user = fresh(UserFactory(roles=["user", "bot"]))

    with CaptureQueriesContext(connection) as captured:
        for name in (
            "create-c",
            "view-c-room",
            "bulk-create-c",
            "leave-c",
            "api-bypass-rate-limit",
        ):
            has_permission(user, name)

    assert len(captured) == 1


def test_room_roles_cost_one_query_per_room_and_only_when_needed():
    user = UserFactory(roles=["user"])
    room = RoomFactory()
    SubscriptionFactory(room=room, user=user, roles=["moderator"])
    user = fresh(user)

    with CaptureQueriesContext(connection) as captured:
        assert has_permission(user, "create-c", room)  # global: no room lookup
        assert has_permission(user, "delete-message", room)
        assert has_permission(user, "edit-message", room)
        assert not has_permission(user, "set-owner", room)

    assert len(captured) == 2


def test_a_change_applies_to_the_next_request(api, auth_headers):
    user = UserFactory(roles=["user"])
    headers = auth_headers(user)
    Permission.objects.get(pk="view-c-room").roles.remove("user")
    room = RoomFactory()

    assert api.get(f"/api/rooms/{room.pk}/messages", **headers).status_code == 403

    Permission.objects.get(pk="view-c-room").roles.add("user")
    assert api.get(f"/api/rooms/{room.pk}/messages", **headers).status_code == 200


def test_anonymous_holds_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert not has_permission(AnonymousUser(), "view-c-room")


def test_the_defaults_are_rocket_chats():
    admin_perms = set(Role.objects.get(name="admin").permissions.values_list("id", flat=True))
    bot_perms = set(Role.objects.get(name="bot").permissions.values_list("id", flat=True))

    assert {
        "bulk-register-user",
        "bulk-create-c",
        "create-c",
        "create-p",
        "view-c-room",
    } <= admin_perms
    assert {"create-c", "view-c-room", "view-joined-room", "api-bypass-rate-limit"} <= bot_perms
    assert set(Role.objects.values_list("name", "scope")) == {
        ("admin", "Users"),
        ("user", "Users"),
        ("bot", "Users"),
        ("guest", "Users"),
        ("owner", "Subscriptions"),
        ("moderator", "Subscriptions"),
        ("leader", "Subscriptions"),
    }
    assert all(Role.objects.values_list("protected", flat=True))


def test_every_shipped_permission_is_enforced_or_documented_as_not_yet():
    """A permission is enforced where the product code names it (in a has_permission() or
    requires() call, or a table of them); the fixture must say which are not. Management
    commands and migrations are left out: there the names are data, not checks."""
    root = Path(__file__).resolve().parent.parent
    code = "".join(
        path.read_text()
        for package in ("accounts", "rooms", "permissions", "chat_project")
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts and "management" not in path.parts
    )
    for permission in load_defaults()["permissions"]:
        named_in_code = f'"{permission["id"]}"' in code
        documented_as_not_enforced = permission["description"].startswith("Not enforced yet")
        assert named_in_code != documented_as_not_enforced, permission


def test_reapplying_the_defaults_does_not_undo_a_revocation():
    Permission.objects.get(pk="bulk-create-c").roles.remove("admin")
    Role.objects.filter(name="guest").update(description="edited by an admin")

    created = apply_defaults(Role, Permission)

    assert created == (0, 0)
    assert not Permission.objects.get(pk="bulk-create-c").roles.exists()
    assert Role.objects.get(name="guest").description == "edited by an admin"


def test_reapplying_the_defaults_restores_what_was_deleted_outright():
    Permission.objects.filter(pk="create-c").delete()

    assert apply_defaults(Role, Permission) == (0, 1)
    assert set(Permission.objects.get(pk="create-c").roles.values_list("name", flat=True)) == {
        "admin",
        "user",
        "bot",
    }


def test_new_users_get_the_user_role_and_the_first_admin_the_admin_role(settings):
    from django.core.management import call_command

    settings.ADMIN_PASSWORD = "MySECRET"
    call_command("ensure_admin")
    later = create_user(username="later", email="later@example.com", password="pw")

    assert set(User.objects.get(username="admin").roles.values_list("name", flat=True)) == {
        "admin",
        "user",
    }
    assert list(later.roles.values_list("name", flat=True)) == ["user"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_second_migrate_does_not_undo_a_revoked_permission():
    from django.core.management import call_command

    Permission.objects.get(pk="bulk-create-c").roles.remove("admin")

    call_command("migrate", "permissions", "0001", verbosity=0)  # unapply the defaults...
    call_command("migrate", verbosity=0)  # ...and apply them again

    assert not Permission.objects.get(pk="bulk-create-c").roles.exists()
    assert Permission.objects.get(pk="create-c").roles.filter(name="user").exists()
