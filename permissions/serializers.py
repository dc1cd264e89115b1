"""Roles, permissions and role holders in the shapes Rocket.Chat's v1 clients read. They never
query: pass permissions with their roles prefetched (permissions.selectors does)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from chat_project.db.timestamps import iso_ms
from permissions.models import Permission, Role


def role_json(role: Role, *, updated_at: bool = True) -> dict[str, Any]:
    """A role; roles.list leaves out `_updatedAt`, as Rocket.Chat's does."""
    body: dict[str, Any] = {
        "_id": role.name,
        "name": role.name,
        "scope": role.scope,
        "description": role.description,
        "protected": role.protected,
        "mandatory2fa": False,  # no two-factor authentication here
    }
    if updated_at:
        body["_updatedAt"] = iso_ms(role.updated_at)
    return body


def permission_json(permission: Permission) -> dict[str, Any]:
    return {
        "_id": permission.id,
        "roles": [role.name for role in permission.roles.all()],
        "_updatedAt": iso_ms(permission.updated_at),
    }


def role_holder_json(user: User) -> dict[str, Any]:
    """A user as roles.getUsersInRole lists them (Rocket.Chat's projection there)."""
    return {
        "_id": user.pk,
        "username": user.username,
        "name": user.name,
        "emails": [{"address": user.email, "verified": False}],
        "createdAt": iso_ms(user.created_at),
        "_updatedAt": iso_ms(user.updated_at),
    }
