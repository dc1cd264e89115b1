"""Reads of users."""

from __future__ import annotations

from accounts.models import User


def user_for_login(identifier: str, *, kind: str) -> User | None:
    """The user a login names: `kind` "email", "username", or "user" (an email if it contains
    @, else a username, as Rocket.Chat reads it). Case does not matter."""
    if kind == "email" or (kind == "user" and "@" in identifier):
        return User.objects.by_email(identifier).first()
    return User.objects.by_username(identifier).first()
