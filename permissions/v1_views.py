"""Rocket.Chat v1's roles.* and permissions.* endpoints. Every change goes through
permissions.services (shared with the Django admin and the `roles` / `permissions` commands),
every read through permissions.selectors; these views parse, call, and answer in Rocket.Chat's
shapes and words.

Where Rocket.Chat words a service's error differently from ours (whose texts also serve the
commands), the v1 table (chat_project.http.v1.V1_WORDS) rewords it by its type and keeps ours as
`detailed_error`; where a view answers with API.v1.failure (a bare text with its own errorType),
`failure` builds that answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import user_of
from accounts.selectors import user_from_params
from chat_project.http import schema as api
from chat_project.http.errors import (
    ApiError,
    InvalidRoleProperties,
    api_error_from_drf,
    missing_permission_words,
)
from chat_project.http.fields import StrictCharField, batch_param
from chat_project.http.v1 import (
    PageInput,
    Text,
    Time,
    V1Error,
    V1Input,
    V1View,
    ok,
    paginated,
    v1_error,
)
from permissions.checks import has_permission, requires
from permissions.models import Role
from permissions.selectors import permissions_with_roles, role_named, roles, users_in_role
from permissions.serializers import permission_json, role_holder_json, role_json
from permissions.services import (
    ADMIN,
    add_user_to_role,
    create_role,
    delete_role,
    get_user,
    remove_user_from_role,
    set_permission_roles,
)
from rooms.access import get_room


def failure(text: str, error_type: str, *, error: str | None = None, detail: str = "") -> V1Error:
    """Rocket.Chat's API.v1.failure(text, errorType): `error` is the bare text (or, where
    Rocket.Chat puts something else there, `error`), errorType the type."""
    return V1Error(text, error=error or text, error_type=error_type, detailed_error=detail)


def not_allowed(reason: str, error_type: str, permission: str) -> ApiError:
    """A missing `permission` in Rocket.Chat's words for it at that place (our detail names it).
    Rocket.Chat answers 400 there; we answer every missing permission with 403."""
    return v1_error(
        reason,
        error_type,
        status_code=403,
        status="error",
        detailed_error=missing_permission_words([permission]),
    )


def since(error_type: str) -> Time:
    """`updatedSince`, an ISO 8601 time, refused with this errorType."""
    return Time(
        "An ISO 8601 time.",
        refused=lambda name: v1_error(
            f'The "{name}" query parameter must be a valid date.', error_type
        ),
    )


def role_or_error(name: str) -> Role:
    """The role named `name`, or Rocket.Chat's 400 for an unknown roleId."""
    role = role_named(name)
    if role is None:
        raise v1_error("This role does not exist", "error-invalid-roleId")
    return role


# --- the schema ---------------------------------------------------------------------------------

ONE_ROLE = api.v1_success("OneRole", {"role": api.Role()})
PERMISSIONS = {"update": api.Permission(many=True), "remove": serializers.ListField()}


# --- roles ---------------------------------------------------------------------------------------


@extend_schema(responses=api.v1_success("Roles", {"roles": api.Role(many=True)}))
class RolesListView(V1View):
    """GET roles.list: every role, for any signed-in user."""

    def get(self, request: Request) -> Response:
        return ok({"roles": [role_json(role, updated_at=False) for role in roles()]})


@extend_schema(
    responses=api.v1_success(
        "RolesSync",
        {
            "roles": api.shape(
                "RoleChanges",
                {"update": api.Role(many=True), "remove": serializers.ListField()},
            )
        },
    ),
)
class RolesSyncView(V1View):
    """GET roles.sync?updatedSince=<ISO time>: the roles changed since then. Without
    updatedSince both lists are empty, as in Rocket.Chat."""

    class Input(V1Input):
        updatedSince = since("error-updatedSince-param-invalid")

    def get(self, request: Request) -> Response:
        since = self.parse()["updatedSince"]
        update = [] if since is None else [role_json(role) for role in roles(updated_since=since)]
        # Deleted roles leave no trace to report (Rocket.Chat keeps a trash collection for it).
        return ok({"roles": {"update": update, "remove": []}})


class RoleInput(serializers.Serializer):
    name = StrictCharField()
    scope = StrictCharField(required=False, default=Role.Scope.USERS)
    description = StrictCharField(required=False, allow_blank=True, default="")
    mandatory2fa = serializers.BooleanField(required=False, default=False)


@extend_schema(request=RoleInput, responses=ONE_ROLE)
class RolesCreateView(V1View):
    """POST roles.create {name, scope?, description?}: a new role (Users scope by default)."""

    permission_classes = [requires("access-permissions")]

    def post(self, request: Request) -> Response:
        given = RoleInput(data=self.params())
        if not given.is_valid():
            # What was wrong, field by field, as the service's own InvalidRoleProperties says it.
            invalid = api_error_from_drf(serializers.ValidationError(given.errors))
            raise InvalidRoleProperties(invalid.detailed_error)
        data = given.validated_data
        if data["mandatory2fa"]:
            raise InvalidRoleProperties(
                "mandatory2fa: two-factor authentication is not available here."
            )
        role = create_role(name=data["name"], scope=data["scope"], description=data["description"])
        return ok({"role": role_json(role)})


@extend_schema(responses=api.V1_DONE)
class RolesDeleteView(V1View):
    """POST roles.delete {roleId}: deletes a role that is neither built in nor held by anyone."""

    permission_classes = [requires("access-permissions")]

    class Input(V1Input):
        roleId = Text(required=True)

        class Meta:
            ref_name = "RoleDelete"

    def post(self, request: Request) -> Response:
        role = role_or_error(self.parse()["roleId"])
        delete_role(role=role)
        return ok()


class RoleUserInput(V1Input):
    roleId = Text("The role's name (or give roleName).")
    roleName = Text()
    userId = Text()
    username = Text()
    user = Text()
    roomId = Text()


def role_name_required() -> V1Error:
    # Rocket.Chat answers API.v1.failure('error-invalid-role-properties') here.
    return failure(
        'The "roleId" parameter is required',
        "error-invalid-role-properties",
        error="error-invalid-role-properties",
    )


@extend_schema(responses=ONE_ROLE)
class RolesAddUserView(V1View):
    """POST roles.addUserToRole {roleId | roleName, userId | username, roomId?}: gives the user
    a global role, or with roomId a room role in a room they are in. Giving `admin` also takes
    assign-admin-role."""

    permission_classes = [requires("access-permissions")]

    class Input(RoleUserInput):
        class Meta:
            ref_name = "RoleAddUser"

    def post(self, request: Request) -> Response:
        given = self.parse()
        user = user_from_params(given)
        name = given["roleId"] or given["roleName"]
        if not name:
            raise role_name_required()
        role = role_named(name)
        if role is None:
            # Rocket.Chat's failure('error-role-not-found', 'Role not found') puts the type
            # where the text goes; we keep its `error` and give errorType the type.
            raise failure("Role not found", "error-role-not-found", error="error-role-not-found")
        caller = user_of(request)
        if role.pk == ADMIN and not has_permission(caller, "assign-admin-role"):
            raise not_allowed(
                "Assigning admin is not allowed", "error-action-not-allowed", "assign-admin-role"
            )
        room = get_room(given["roomId"]) if given["roomId"] else None
        if not add_user_to_role(user=user, role=role, room=room):
            raise v1_error("User already in role", "error-user-already-in-role")
        return ok({"role": role_json(role)})


@extend_schema(responses=ONE_ROLE)
class RolesRemoveUserView(V1View):
    """POST roles.removeUserFromRole {roleId | roleName, username, roomId? (or scope)}: takes
    the role away; the last admin keeps `admin`."""

    permission_classes = [requires("access-permissions")]

    class Input(RoleUserInput):
        scope = Text("roomId's other name.")

        class Meta:
            ref_name = "RoleRemoveUser"

    def post(self, request: Request) -> Response:
        given = self.parse()
        name, username = given["roleId"] or given["roleName"], given["username"]
        if not name:
            raise role_name_required()
        if not username:
            raise v1_error('The "username" parameter is required', "error-invalid-params")
        user = get_user(username)
        role = role_or_error(name)
        room_id = given["roomId"] or given["scope"]  # Rocket.Chat calls the room id `scope`
        room = get_room(room_id) if room_id else None
        if not remove_user_from_role(user=user, role=role, room=room):
            raise v1_error("User is not in this role", "error-user-not-in-role")
        return ok({"role": role_json(role)})


class RoleQuery(V1Input):
    role = Text(
        "The role's name.",
        required=True,
        missing=lambda _: v1_error('Query param "role" is required', "error-param-not-provided"),
    )
    roomId = Text()


@extend_schema(
    responses=api.v1_page(
        "RoleHolders",
        "users",
        api.shape(
            "RoleHolder",
            {
                "_id": api.text(),
                "username": api.text(),
                "name": api.text(),
                "emails": api.Email(many=True),
                "createdAt": api.text(),
                "_updatedAt": api.text(),
            },
            many=True,
        ),
    ),
)
class RolesUsersView(V1View):
    """GET roles.getUsersInRole?role=<name>[&roomId=]: who holds the role (in that room, for a
    room role), by username, paginated."""

    permission_classes = [requires("access-permissions")]

    class Input(RoleQuery, PageInput):
        sortable = {"username": "username", "name": "name", "createdAt": "created_at"}
        default_sort = ("username",)

    def get(self, request: Request) -> Response:
        given = self.parse()
        room_id = given["roomId"]
        if room_id and not has_permission(user_of(request), "view-other-user-channels"):
            raise not_allowed("Not allowed", "error-not-allowed", "view-other-user-channels")
        role = role_or_error(given["role"])
        room = get_room(room_id) if room_id else None
        return paginated("users", users_in_role(role, room), given["page"], role_holder_json)


# --- permissions ---------------------------------------------------------------------------------


@extend_schema(responses=api.v1_success("PermissionsListAll", PERMISSIONS))
class PermissionsListAllView(V1View):
    """GET permissions.listAll[?updatedSince=<ISO time>]: every permission with its roles, or
    those changed since then."""

    class Input(V1Input):
        # Rocket.Chat's errorType here really is error-roomId-param-invalid.
        updatedSince = since("error-roomId-param-invalid")

    def get(self, request: Request) -> Response:
        since = self.parse()["updatedSince"]
        update = [permission_json(p) for p in permissions_with_roles(updated_since=since)]
        return ok({"update": update, "remove": []})


def invalid_body(detail: str) -> ApiError:
    return failure("Invalid body params", "error-invalid-body-params", detail=detail)


def permission_changes(data: Any) -> list[tuple[str, list[str]]]:
    """permissions.update's `permissions`: [{"_id": name, "roles": [role names]}, ...], as a
    JSON list (or, in a form, as a JSON string)."""
    items = batch_param(data, "permissions")
    if not isinstance(items, list):
        raise invalid_body('"permissions" must be a list of {"_id", "roles"} objects.')
    changes = []
    for index, item in enumerate(items):
        where = f"permissions[{index}]"
        if not isinstance(item, Mapping) or set(item) != {"_id", "roles"}:
            raise invalid_body(f'{where} must have "_id" and "roles", and nothing else.')
        name, role_names = item["_id"], item["roles"]
        if not isinstance(name, str) or not isinstance(role_names, list):
            raise invalid_body(f'{where}: "_id" must be a string and "roles" a list.')
        if not all(isinstance(role, str) and "\x00" not in role for role in role_names):
            raise invalid_body(f'{where}: "roles" must list role names.')
        if "\x00" in name:  # no permission is named so, and PostgreSQL refuses it in a query
            raise invalid_body(f'{where}: "_id" must be a permission name.')
        if len(set(role_names)) != len(role_names):
            raise invalid_body(f'{where}: "roles" names a role twice.')
        changes.append((name, role_names))
    return changes


@extend_schema(
    request=api.body(
        "PermissionsUpdate",
        {
            "permissions": api.shape(
                "PermissionRoles",
                {
                    "_id": api.text(required=True),
                    "roles": serializers.ListField(child=api.text(blank=True)),
                },
                many=True,
            )
        },
    ),
    responses=api.v1_success("PermissionsUpdated", {"permissions": api.Permission(many=True)}),
)
class PermissionsUpdateView(V1View):
    """POST permissions.update {permissions: [{_id, roles}]}: gives each permission exactly
    those roles, all or nothing; answers every permission as it now stands."""

    permission_classes = [requires("access-permissions")]

    def post(self, request: Request) -> Response:
        set_permission_roles(changes=permission_changes(request.data))
        return ok({"permissions": [permission_json(p) for p in permissions_with_roles()]})
