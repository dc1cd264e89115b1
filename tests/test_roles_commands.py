"""manage.py roles and manage.py permissions, including their errors."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from permissions.models import Permission, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_roles_list_shows_every_role_with_counts():
    UserFactory(roles=["user", "bot"])

    out = run("roles", "list")

    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(lines) == {"admin", "user", "bot", "guest", "owner", "moderator", "leader"}
    assert lines["bot"].split()[1:3] == ["Users", "1"]
    assert "(built in)" in lines["owner"]


def test_roles_create_then_add_and_remove_a_user():
    UserFactory(username="sing")

    assert (
        run("roles", "create", "helpdesk", "--description", "Answers questions")
        == "Created role helpdesk (Users).\n"
    )
    assert run("roles", "add-user", "SING", "helpdesk") == "sing now has the role helpdesk.\n"
    assert run("roles", "add-user", "sing", "helpdesk") == "sing already had the role helpdesk.\n"
    assert Role.objects.get(name="helpdesk").users.get().username == "sing"
    assert (
        run("roles", "remove-user", "sing", "helpdesk") == "sing no longer has the role helpdesk.\n"
    )
    assert (
        run("roles", "remove-user", "sing", "helpdesk") == "sing did not have the role helpdesk.\n"
    )


def test_roles_create_a_room_role():
    run("roles", "create", "greeter", "--scope", "Subscriptions")

    assert Role.objects.get(name="greeter").scope == "Subscriptions"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("roles", "add-user", "nobody", "user"), "User 'nobody' does not exist."),
        (("roles", "add-user", "sing", "nosuchrole"), "Role 'nosuchrole' does not exist."),
        (("roles", "remove-user", "sing", "nosuchrole"), "Role 'nosuchrole' does not exist."),
        (
            ("roles", "add-user", "sing", "owner"),
            "Role 'owner' is held within rooms, not globally.",
        ),
        (("roles", "create", "admin"), "Role 'admin' already exists."),
        (
            ("roles", "create", "bad name"),
            "name: May contain only characters matching [0-9a-zA-Z_.-]+.",
        ),
        (
            ("permissions", "grant", "no-such-thing", "user"),
            "Permission 'no-such-thing' does not exist.",
        ),
        (("permissions", "grant", "create-c", "nosuchrole"), "Role 'nosuchrole' does not exist."),
        (
            ("permissions", "revoke", "no-such-thing", "user"),
            "Permission 'no-such-thing' does not exist.",
        ),
        (("permissions", "list", "--role", "nosuchrole"), "Role 'nosuchrole' does not exist."),
    ],
)
def test_unknown_names_are_clear_errors(args, error):
    UserFactory(username="sing")

    with pytest.raises(CommandError) as raised:
        call_command(*args, stdout=StringIO())

    assert str(raised.value) == error


def test_a_missing_action_is_an_error():
    with pytest.raises(CommandError, match="ACTION"):
        call_command("roles")


def test_errors_exit_non_zero_from_the_shell(capsys):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "permissions", "grant", "no-such-thing", "user"])

    assert exited.value.code == 1
    assert "CommandError: Permission 'no-such-thing' does not exist." in capsys.readouterr().err


def test_permissions_list_and_filter_by_role():
    out = run("permissions", "list")
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert lines["bulk-register-user"] == "admin"
    assert lines["create-c"] == "admin,"

    only_guest = run("permissions", "list", "--role", "guest")
    assert [line.split()[0] for line in only_guest.splitlines()] == ["view-joined-room"]


def test_permissions_grant_and_revoke():
    assert (
        run("permissions", "grant", "bulk-create-c", "user") == "Granted bulk-create-c to user.\n"
    )
    assert (
        run("permissions", "grant", "bulk-create-c", "user") == "user already held bulk-create-c.\n"
    )
    assert set(Permission.objects.get(pk="bulk-create-c").roles.values_list("name", flat=True)) == {
        "admin",
        "user",
    }
    assert (
        run("permissions", "revoke", "bulk-create-c", "user")
        == "Revoked bulk-create-c from user.\n"
    )
    assert (
        run("permissions", "revoke", "bulk-create-c", "user")
        == "user did not hold bulk-create-c.\n"
    )


def test_a_grant_from_the_command_line_applies_to_the_next_request(api, auth_headers):
    user = UserFactory(username="planner", roles=["user"])
    api.credentials(**auth_headers(user))
    body = {"rooms": [{"name": "planned"}]}

    assert api.post("/api/bulk/createRoom", body, format="json").status_code == 403
    run("roles", "create", "planners")
    run("permissions", "grant", "bulk-create-c", "planners")
    run("permissions", "grant", "create-c", "planners")
    run("roles", "add-user", "planner", "planners")
    assert api.post("/api/bulk/createRoom", body, format="json").status_code == 200
