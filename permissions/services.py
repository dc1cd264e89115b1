"""Every change to roles and permissions goes through these functions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from chat_project.errors import InvalidParams
from permissions.models import Permission, Role


def get_role(name: str) -> Role:
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist:
        raise InvalidParams(
            f"Role '{name}' does not exist.", error_type="error-invalid-role"
        ) from None


def get_permission(name: str) -> Permission:
    try:
        return Permission.objects.get(id=name)
    except Permission.DoesNotExist:
        raise InvalidParams(
            f"Permission '{name}' does not exist.", error_type="error-invalid-permission"
        ) from None


def get_user(username: str) -> User:
    user = User.objects.by_username(username).first()
    if user is None:
        raise InvalidParams(f"User '{username}' does not exist.", error_type="error-invalid-user")
    return user


def create_role(*, name: str, scope: str = Role.Scope.USERS, description: str = "") -> Role:
    """A new role (never protected: only the built-in ones are). Raises InvalidParams."""
    role = Role(name=name, scope=scope, description=description)
    try:
        role.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise InvalidParams(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from None
    try:
        with transaction.atomic():
            role.save(force_insert=True)
    except IntegrityError:
        raise InvalidParams(
            f"Role '{name}' already exists.", error_type="error-duplicate-role"
        ) from None
    return role


def delete_role(*, role: Role) -> None:
    """Deletes a role an administrator made. Raises InvalidParams for a built-in one."""
    if role.protected:
        raise InvalidParams(
            f"Role '{role.name}' is built in and cannot be deleted.",
            error_type="error-role-protected",
        )
    role.delete()


def add_user_to_role(*, user: User, role: Role) -> bool:
    """Gives `user` the global role. Returns False if they had it already."""
    if role.scope != Role.Scope.USERS:
        raise InvalidParams(
            f"Role '{role.name}' is held within rooms, not globally.",
            error_type="error-invalid-role",
        )
    if user.roles.filter(pk=role.pk).exists():
        return False
    user.roles.add(role)
    return True


def remove_user_from_role(*, user: User, role: Role) -> bool:
    """Takes the global role from `user`. Returns False if they did not have it."""
    if not user.roles.filter(pk=role.pk).exists():
        return False
    user.roles.remove(role)
    return True


def grant_permission(*, permission: Permission, role: Role) -> bool:
    """Lets `role` do `permission`. Returns False if it could already."""
    if permission.roles.filter(pk=role.pk).exists():
        return False
    permission.roles.add(role)
    return True


def revoke_permission(*, permission: Permission, role: Role) -> bool:
    """Stops `role` doing `permission`. Returns False if it could not anyway."""
    if not permission.roles.filter(pk=role.pk).exists():
        return False
    permission.roles.remove(role)
    return True
