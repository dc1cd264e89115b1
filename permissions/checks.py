"""The one permission check, and the DRF permission class built on it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import User
from chat_project import access_cache
from chat_project.http.errors import MissingPermission
from permissions.models import Permission, Role
from rooms.models import Room, Subscription


@dataclass
class PermissionSet:
    """What one user may do: the permissions of their global roles, and what each room role
    holds (to be matched against their roles in a given room)."""

    global_names: frozenset[str]
    by_room_role: dict[str, frozenset[str]]
    room_roles: dict[str, set[str]] = field(default_factory=dict)  # room id -> role names


def permission_set(user: User) -> PermissionSet:
    """The user's permissions, kept on the user object, which lives as long as the request, and
    in the access cache (chat_project.access_cache: roles and permissions are watched tables),
    so that most requests ask the database nothing; otherwise fetched in one query. A change made
    in the admin applies from the next request on."""
    cached: PermissionSet | None = getattr(user, "_permission_set", None)
    if cached is not None:
        return cached
    key = ("permissions", user.pk)
    kept = access_cache.get(key)
    if kept is None:
        read_under = access_cache.generation()
        kept = read_permissions(user)
        access_cache.remember(key, kept, read_under)
    global_names, by_room_role = kept
    # The kept parts are shared by requests and only ever read; room roles are the request's own.
    result = PermissionSet(global_names, by_room_role)
    user._permission_set = result  # type: ignore[attr-defined]
    return result


def read_permissions(user: User) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(the permissions of the user's global roles, what each room role holds): one query."""
    holds = Permission.roles.through.objects
    mine = User.roles.through.objects.filter(user_id=user.pk, role_id=OuterRef("role_id"))
    rows = (
        holds.annotate(mine=Exists(mine))
        .filter(Q(mine=True) | Q(role__scope=Role.Scope.SUBSCRIPTIONS))  # type: ignore[misc]
        .values_list("permission_id", "role_id", "mine")
    )
    global_names: set[str] = set()
    by_room_role: dict[str, set[str]] = defaultdict(set)
    for permission, role, is_mine in rows:
        if is_mine:
            global_names.add(permission)
        by_room_role[role].add(permission)
    return frozenset(global_names), {role: frozenset(names) for role, names in by_room_role.items()}


def has_permission(user: User, name: str, room: Room | None = None) -> bool:
    """True when one of the user's global roles, or one of their roles in `room`, holds `name`.

    Room roles are looked up (one query per room, kept for the request) only when the global
    roles fall short and some room role holds the permission at all.
    """
    if not user.is_authenticated:
        return False
    held = permission_set(user)
    if name in held.global_names:
        return True
    if room is None or not any(name in perms for perms in held.by_room_role.values()):
        return False
    if room.pk not in held.room_roles:
        held.room_roles[room.pk] = set(
            Subscription.roles.through.objects.filter(
                subscription__room_id=room.pk, subscription__user_id=user.pk
            ).values_list("role_id", flat=True)
        )
    return any(name in held.by_room_role.get(role, ()) for role in held.room_roles[room.pk])


def check_permission(user: User, name: str, room: Room | None = None) -> None:
    """has_permission, or raises MissingPermission, whose detailed_error names `name`."""
    if not has_permission(user, name, room):
        raise MissingPermission(name)


def bypasses_rate_limits(user: User) -> bool:
    """Holders of api-bypass-rate-limit are not counted by the API's rate limits."""
    return has_permission(user, "api-bypass-rate-limit")


def requires(*names: str) -> type[BasePermission]:
    """A DRF permission class admitting signed-in users who hold every one of `names` globally:
    `permission_classes = [requires("bulk-create-c", "create-c")]`. A signed-in user who lacks
    some gets MissingPermission naming them; an anonymous caller, DRF's 401."""

    class Requires(BasePermission):
        required = names

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            missing = [name for name in names if not has_permission(user, name)]
            if missing:
                raise MissingPermission(*missing)
            return True

    Requires.__name__ = f"Requires({', '.join(names)})"
    return Requires
