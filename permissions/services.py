"""Every change to roles and permissions goes through these functions: the v1 API, the Django
admin and the `roles` / `permissions` commands all call them.

Errors are InvalidParams (a subclass per reason, chat_project.http.errors) with Rocket.Chat's
errorType and a message that names what was wrong; the v1 table words some of them as
Rocket.Chat does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from chat_project.http.errors import (
    DuplicateRoleName,
    InvalidParams,
    InvalidRoleProperties,
    InvalidScope,
    ProtectedRole,
    RoleInUse,
    UnknownPermission,
    UnknownRole,
    UnknownUsername,
)
from chat_project.realtime.events import role_changed
from permissions.models import Permission, Role
from permissions.selectors import role_in_use
from rooms.models import Room, Subscription

ADMIN = "admin"


def get_role(name: str) -> Role:
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist:
        raise UnknownRole(f"Role '{name}' does not exist.") from None


def get_permission(name: str) -> Permission:
    try:
        return Permission.objects.get(id=name)
    except Permission.DoesNotExist:
        raise UnknownPermission(f"Permission '{name}' does not exist.") from None


def get_user(username: str) -> User:
    user = User.objects.by_username(username).first()
    if user is None:
        raise UnknownUsername(f"User '{username}' does not exist.")
    return user


# --- roles ---------------------------------------------------------------------------------------


def create_role(*, name: str, scope: str = Role.Scope.USERS, description: str = "") -> Role:
    """A new role (never protected: only the built-in ones are). Raises InvalidScope,
    InvalidRoleProperties (a bad name or too long a description) or DuplicateRoleName."""
    if scope not in Role.Scope.values:
        raise InvalidScope(f"Invalid scope {scope!r}: use Users or Subscriptions.")
    role = Role(name=name, scope=scope, description=description)
    try:
        role.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise InvalidRoleProperties(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from None
    try:
        with transaction.atomic(durable=True):
            role.save(force_insert=True)
    except IntegrityError:
        raise DuplicateRoleName(f"Role '{name}' already exists.") from None
    return role


def delete_role(*, role: Role) -> None:
    """roles.delete: delete_unheld_role in a transaction of its own."""
    with transaction.atomic(durable=True):
        delete_unheld_role(role=role)


def delete_unheld_role(*, role: Role) -> None:
    """Deletes a role an administrator made and nobody holds any more (Rocket.Chat's rule), inside
    the caller's transaction (delete_role's, or the Django admin's); the permissions it held
    lose it. Raises ProtectedRole for a built-in role, RoleInUse while a user or a room
    membership holds it."""
    if role.protected:
        raise ProtectedRole(f"Role '{role.name}' is built in and cannot be deleted.")
    # The lock keeps anyone from taking the role up between the check and the delete.
    list(Role.objects.select_for_update().filter(pk=role.pk).values_list("pk"))
    if role_in_use(role):
        raise RoleInUse(f"Role '{role.name}' is still held: take it from its holders first.")
    held = list(role.permissions.values_list("pk", flat=True))
    role.delete()
    touch_permissions(held)


def add_user_to_role(*, user: User, role: Role, room: Room | None = None) -> bool:
    """Gives `user` the role: globally for a Users role, in `room` (which they must be in) for
    a Subscriptions role. Returns False if they had it already. Raises InvalidParams:
    error-invalid-role when the scope and `room` disagree, error-invalid-user for a non-member."""
    check_scope(role, room)
    with transaction.atomic(durable=True):
        if room is None:
            if user.roles.filter(pk=role.pk).exists():
                return False
            user.roles.add(role)
            touch_user(user)
            role_changed(user=user, role=role.pk, held=True)
            return True
        membership = membership_of(user, room)
        if membership.roles.filter(pk=role.pk).exists():
            return False
        membership.roles.add(role)
        role_changed(user=user, role=role.pk, held=True, scope=room.pk, audience=room.audience())
        return True


def remove_user_from_role(*, user: User, role: Role, room: Room | None = None) -> bool:
    """Takes the role from `user` (in `room` for a Subscriptions role). Returns False if they
    did not hold it. The last holder of `admin` keeps it. Raises InvalidParams:
    error-invalid-role, error-admin-required."""
    check_scope(role, room)
    with transaction.atomic(durable=True):
        if room is not None:
            held = Subscription.roles.through.objects.filter(
                subscription__room=room, subscription__user=user, role=role
            )
            if not held.delete()[0]:
                return False
            role_changed(
                user=user, role=role.pk, held=False, scope=room.pk, audience=room.audience()
            )
            return True
        if role.pk == ADMIN:
            # Locked, so that two admins removing each other cannot both succeed.
            list(Role.objects.select_for_update().filter(pk=ADMIN).values_list("pk"))
        if not user.roles.filter(pk=role.pk).exists():
            return False
        if role.pk == ADMIN and role.users.count() == 1:
            raise InvalidParams(
                "You need to have at least one admin", error_type="error-admin-required"
            )
        user.roles.remove(role)
        touch_user(user)
        role_changed(user=user, role=role.pk, held=False)
        return True


def check_scope(role: Role, room: Room | None) -> None:
    if role.scope == Role.Scope.SUBSCRIPTIONS and room is None:
        raise InvalidParams(
            f"Role '{role.name}' is held within rooms, not globally.",
            error_type="error-invalid-role",
        )
    if role.scope == Role.Scope.USERS and room is not None:
        raise InvalidParams(
            f"Role '{role.name}' is held globally, not within rooms.",
            error_type="error-invalid-role",
        )


def membership_of(user: User, room: Room) -> Subscription:
    membership = Subscription.objects.filter(room=room, user=user).first()
    if membership is None:
        raise InvalidParams("User is not part of given room", error_type="error-invalid-user")
    return membership


def touch_user(user: User) -> None:
    """Moves the user's _updatedAt, as Rocket.Chat does when their roles change."""
    User.objects.filter(pk=user.pk).update(updated_at=timezone.now())


# --- permissions ---------------------------------------------------------------------------------


def grant_permission(*, permission: Permission, role: Role) -> bool:
    """Lets `role` do `permission`. Returns False if it could already."""
    with transaction.atomic(durable=True):
        if permission.roles.filter(pk=role.pk).exists():
            return False
        permission.roles.add(role)
        touch_permissions([permission.pk])
        return True


def revoke_permission(*, permission: Permission, role: Role) -> bool:
    """Stops `role` doing `permission`. Returns False if it could not anyway."""
    with transaction.atomic(durable=True):
        if not permission.roles.filter(pk=role.pk).exists():
            return False
        permission.roles.remove(role)
        touch_permissions([permission.pk])
        return True


def set_permission_roles(*, changes: Sequence[tuple[str, Collection[str]]]) -> None:
    """Gives each named permission exactly the roles named with it (permissions.update), all or
    nothing, in a fixed number of queries however many there are. Raises before changing
    anything: UnknownPermission for an unknown or repeated permission, UnknownRole for an
    unknown role."""
    names = [name for name, _ in changes]
    wanted = {role for _, roles in changes for role in roles}
    with transaction.atomic(durable=True):
        found = set(
            Permission.objects.select_for_update().filter(pk__in=names).values_list("pk", flat=True)
        )
        for index, name in enumerate(names):
            if name not in found:
                raise UnknownPermission(f"Permission '{name}' does not exist.")
            if name in names[:index]:
                raise UnknownPermission(f"Permission '{name}' is listed twice.")
        unknown = wanted - set(Role.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if unknown:
            raise UnknownRole(f"Role '{min(unknown)}' does not exist.")
        holds = Permission.roles.through
        holds.objects.filter(permission_id__in=names).delete()
        holds.objects.bulk_create(
            [holds(permission_id=name, role_id=role) for name, roles in changes for role in roles]
        )
        touch_permissions(names)


def set_role_permissions(*, role: Role, permissions: Iterable[Permission]) -> None:
    """Makes `role` hold exactly `permissions` (the admin's two-pane selector), inside the
    admin's transaction (a savepoint)."""
    permissions = list(permissions)
    wanted = {permission.pk for permission in permissions}
    with transaction.atomic():
        held = set(role.permissions.values_list("pk", flat=True))
        role.permissions.set(permissions)
        touch_permissions(held ^ wanted)


def touch_permissions(names: Iterable[str]) -> None:
    """Moves the permissions' _updatedAt, so permissions.listAll's updatedSince sees a change
    of their roles (a change through the M2M alone would not save the rows)."""
    names = list(names)
    if names:
        Permission.objects.filter(pk__in=names).update(updated_at=timezone.now())
