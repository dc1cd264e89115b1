"""Roles and permissions administered in the Django admin, honoured by the next API request."""

import pytest

from accounts.models import User
from permissions.models import Permission, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    UserFactory(username="root", is_superuser=True, is_staff=True, roles=["admin", "user"])
    client.login(username="root", password="correct horse battery staple")
    return client


def user_form(user, **changes):
    """What the admin's user page posts back for `user`, with `changes` applied."""
    tokens = list(user.login_tokens.values_list("pk", flat=True))
    data = {
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "is_active": "on",
        "roles": list(user.roles.values_list("name", flat=True)),
        "login_tokens-TOTAL_FORMS": str(len(tokens)),
        "login_tokens-INITIAL_FORMS": str(len(tokens)),
    }
    for index, pk in enumerate(tokens):
        data |= {f"login_tokens-{index}-id": pk, f"login_tokens-{index}-user": user.pk}
    return data | changes


def test_a_role_made_in_the_admin_grants_its_permissions_to_its_users(staff, api, auth_headers):
    planner = UserFactory(username="planner", roles=["user"])
    api.credentials(**auth_headers(planner))
    body = {"rooms": [{"name": "from-admin"}]}
    assert api.post("/api/bulk/createRoom", body, format="json").status_code == 403

    created = staff.post(
        "/admin/permissions/role/add/",
        {
            "name": "planners",
            "scope": "Users",
            "description": "",
            "permissions": ["bulk-create-c", "create-c"],
        },
    )
    assert created.status_code == 302
    assert set(Role.objects.get(name="planners").permissions.values_list("id", flat=True)) == {
        "bulk-create-c",
        "create-c",
    }

    assert staff.get(f"/admin/accounts/user/{planner.pk}/change/").status_code == 200
    changed = staff.post(
        f"/admin/accounts/user/{planner.pk}/change/", user_form(planner, roles=["user", "planners"])
    )
    assert changed.status_code == 302
    assert set(User.objects.get(pk=planner.pk).roles.values_list("name", flat=True)) == {
        "user",
        "planners",
    }

    assert api.post("/api/bulk/createRoom", body, format="json").status_code == 200


def test_the_role_page_shows_its_permissions_in_the_two_pane_selector(staff):
    page = staff.get("/admin/permissions/role/admin/change/").content.decode()

    assert 'class="selectfilter"' in page
    assert '<option value="bulk-create-c" selected>' in page


def test_editing_a_roles_permissions_in_the_admin_revokes_them(staff):
    keep = [
        p
        for p in Role.objects.get(name="admin").permissions.values_list("id", flat=True)
        if p != "bulk-register-user"
    ]

    response = staff.post(
        "/admin/permissions/role/admin/change/",
        {"scope": "Users", "description": "Administrator", "permissions": keep},
    )

    assert response.status_code == 302
    assert not Permission.objects.get(pk="bulk-register-user").roles.filter(name="admin").exists()


def test_built_in_roles_cannot_be_deleted(staff):
    assert staff.post("/admin/permissions/role/owner/delete/", {"post": "yes"}).status_code == 403
    assert Role.objects.filter(name="owner").exists()
    assert "delete_selected" not in staff.get("/admin/permissions/role/").content.decode()


def test_a_role_made_by_an_admin_can_be_deleted(staff):
    Role.objects.create(name="temporary")

    assert (
        staff.post("/admin/permissions/role/temporary/delete/", {"post": "yes"}).status_code == 302
    )
    assert not Role.objects.filter(name="temporary").exists()


def test_permissions_are_listed_with_their_roles_and_searchable(staff):
    page = staff.get("/admin/permissions/permission/?q=bulk").content.decode()

    assert "bulk-register-user" in page and "bulk-create-c" in page and "view-c-room" not in page
    assert staff.get("/admin/permissions/permission/?q=moderator").status_code == 200


def test_users_are_filtered_by_role(staff):
    UserFactory(username="robot", roles=["bot"])

    page = staff.get("/admin/accounts/user/?roles__name__exact=bot").content.decode()

    assert "robot" in page and "root" not in page.split("result_list")[1]


def test_the_permission_page_has_a_two_pane_role_selector(staff):
    page = staff.get("/admin/permissions/permission/create-c/change/").content.decode()

    assert 'class="selectfilter"' in page


def test_the_user_page_shows_roles_not_djangos_groups_and_permissions(staff):
    planner = UserFactory(username="planner", roles=["user"])

    page = staff.get(f"/admin/accounts/user/{planner.pk}/change/")

    assert page.status_code == 200
    fields = set(page.context["adminform"].form.fields)
    assert {"roles", "is_active", "is_staff", "is_superuser"} <= fields
    assert not fields & {"groups", "user_permissions"}
    html = page.content.decode()
    assert 'name="roles"' in html
    assert 'name="groups"' not in html
    assert 'name="user_permissions"' not in html


def test_djangos_groups_are_not_in_the_admin(staff):
    index = staff.get("/admin/").content.decode()

    assert "/admin/auth/group/" not in index
    assert staff.get("/admin/auth/group/").status_code == 404
    assert '<a href="/admin/permissions/role/">Roles</a>' in index


def test_the_user_list_still_filters_by_role(staff):
    UserFactory(username="planner", roles=["user"])

    page = staff.get("/admin/accounts/user/", {"roles__name__exact": "admin"})

    assert [user.username for user in page.context["cl"].result_list] == ["root"]
