"""Rocket.Chat's default roles and permissions (fixtures/roles_and_permissions.json), applied
so that nothing an administrator changed is ever undone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "roles_and_permissions.json"


def load_defaults() -> dict[str, Any]:
    return dict(json.loads(DEFAULTS_FILE.read_text()))


def apply_defaults(role_model: Any, permission_model: Any) -> tuple[int, int]:
    """Creates the default roles and permissions that do not exist yet; touches none that do.

    A permission created here gets its default roles; an existing one keeps whatever roles an
    administrator left it with, even none. Takes the model classes so that a migration can pass
    its historical ones. Returns how many roles and permissions were created.
    """
    defaults = load_defaults()
    created_roles = 0
    for role in defaults["roles"]:
        _, created = role_model.objects.get_or_create(
            name=role["name"],
            defaults={
                "scope": role["scope"],
                "description": role["description"],
                "protected": True,
            },
        )
        created_roles += created
    created_permissions = 0
    for permission in defaults["permissions"]:
        row, created = permission_model.objects.get_or_create(
            id=permission["id"], defaults={"description": permission["description"]}
        )
        if created:
            row.roles.set(permission["roles"])
            created_permissions += 1
    return created_roles, created_permissions
