"""Reads of users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from chat_project.http.v1 import v1_error


def user_for_login(identifier: str, *, kind: str) -> User | None:
    """The user a login names: `kind` "email", "username", or "user" (an email if it contains
    @, else a username, as Rocket.Chat reads it). Case does not matter."""
    if kind == "email" or (kind == "user" and "@" in identifier):
        return User.objects.by_email(identifier).first()
    return User.objects.by_username(identifier).first()


def find_user(*, user_id: str | None = None, username: str | None = None) -> User | None:
    """The user with this id, or else this username (in any case), roles loaded; or None."""
    if user_id:
        users = User.objects.filter(pk=user_id)
    elif username:
        users = User.objects.by_username(username)
    else:
        return None
    return users.prefetch_related("roles").first()


def users_to_list() -> QuerySet[User]:
    """Every user, for users.list: roles prefetched, so that a page costs the same few queries
    however many users it shows, and `name_insensitive` to sort by (as Rocket.Chat sorts)."""
    return User.objects.annotate(name_insensitive=Lower("name")).prefetch_related("roles")


def users_with_ids(user_ids: list[str]) -> QuerySet[User]:
    """These users, by username (users.presence)."""
    return User.objects.filter(pk__in=user_ids).order_by("username")


def user_from_params(given: Mapping[str, Any]) -> User:
    """The user named by `userId`, `username` or `user` (Rocket.Chat's getUserFromParams), as
    a v1 view's Input parsed them (chat_project.http.v1.UserLookup's fields: strings or None)."""
    user_id = given.get("userId")
    username = given.get("username") or given.get("user")
    if user_id:
        user = User.objects.filter(pk=user_id).first()
    elif username:
        user = User.objects.by_username(username).first()
    else:
        raise v1_error(
            'The required "userId" or "username" param was not provided',
            "error-user-param-not-provided",
        )
    if user is None:
        raise v1_error(
            'The required "userId" or "username" param provided does not match any users',
            "error-invalid-user",
        )
    return user


AUTOCOMPLETE_LIMIT = 10


def users_to_autocomplete(
    viewer: User, *, term: str, exceptions: list[str], anyone: bool
) -> list[User]:
    """Up to AUTOCOMPLETE_LIMIT active users whose username or name contains `term` (any case),
    but those named in `exceptions`, by username; with `anyone` false, only those sharing a
    room with `viewer`. One query."""
    users = User.objects.filter(is_active=True)
    if term:
        users = users.filter(Q(username__icontains=term) | Q(name__icontains=term))
    if exceptions:
        users = users.exclude(username__in=exceptions)
    if not anyone:
        # Through the memberships' reverse names: accounts does not import rooms.
        users = users.filter(subscriptions__room__subscriptions__user=viewer).distinct()
    return list(users.only("id", "username", "name").order_by("username")[:AUTOCOMPLETE_LIMIT])
