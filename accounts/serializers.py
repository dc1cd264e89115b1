"""Users in the shapes Rocket.Chat's v1 clients read. They never query: pass users with their
roles prefetched (`prefetch_related("roles")`) when shaping many."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from chat_project.db.timestamps import iso_ms


def role_names(user: User) -> list[str]:
    return sorted(role.pk for role in user.roles.all())


def user_json(user: User, *, full: bool = False, status: str = "offline") -> dict[str, Any]:
    """A user as users.info shows them: `full` adds what only the user themselves, or holders of
    view-full-other-user-info, may see (emails, roles, last login). `status` is their presence
    (accounts.presence.statuses, fetched for a whole list at once)."""
    roles = role_names(user)
    body: dict[str, Any] = {
        "_id": user.pk,
        "username": user.username,
        "name": user.name,
        "status": status,
        "active": user.is_active,
        "type": "bot" if "bot" in roles else "user",
        "utcOffset": 0,
    }
    if full:
        body |= {
            "emails": [{"address": user.email, "verified": False}],
            "roles": roles,
            "createdAt": iso_ms(user.created_at),
            "_updatedAt": iso_ms(user.updated_at),
        }
        if user.last_login is not None:
            body["lastLogin"] = iso_ms(user.last_login)
    return body


def user_info_json(user: User, *, full: bool, status: str = "offline") -> dict[str, Any]:
    """users.info's user: user_json, and whether the caller saw it in full (Rocket.Chat's
    getFullUserData adds `canViewAllInfo`)."""
    return user_json(user, full=full, status=status) | {"canViewAllInfo": full}


def active_status_json(user: User) -> dict[str, Any]:
    """users.setActiveStatus's user: `{_id, active}`."""
    return {"_id": user.pk, "active": user.is_active}


def login_token_json(user: User, secret: str) -> dict[str, Any]:
    """users.createToken's `data`: `{userId, authToken}`."""
    return {"userId": user.pk, "authToken": secret}


def me_json(user: User, *, status: str = "offline") -> dict[str, Any]:
    """The signed-in user as /api/v1/me and the v1 login's `data.me` show them."""
    return user_json(user, full=True, status=status) | {
        "settings": {"preferences": dict(user.preferences)}
    }


def user_brief(user: User) -> dict[str, Any]:
    """The `{_id, username, name}` that messages, rooms and members carry."""
    return {"_id": user.pk, "username": user.username, "name": user.name}
