"""Reads of roles, permissions and who holds them, shaped for their callers (each a fixed
number of queries however many rows)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from accounts.models import User
from chat_project.db.timestamps import changed_after
from permissions.models import Permission, Role
from rooms.models import Room, Subscription


def role_named(name: str) -> Role | None:
    """The role with this name (its id), or None."""
    return Role.objects.filter(pk=name).first()


def roles(*, updated_since: datetime | None = None) -> QuerySet[Role]:
    """Every role by name, or those changed after `updated_since`. One query."""
    found = Role.objects.order_by("name")
    if updated_since is None:
        return found
    return found.filter(updated_at__gte=changed_after(updated_since))


def permissions_with_roles(*, updated_since: datetime | None = None) -> QuerySet[Permission]:
    """Every permission with its roles (by name), or those changed after `updated_since`.
    Two queries."""
    found = Permission.objects.order_by("id").prefetch_related(
        Prefetch("roles", queryset=Role.objects.order_by("name"))
    )
    if updated_since is None:
        return found
    return found.filter(updated_at__gte=changed_after(updated_since))


def users_in_role(role: Role, room: Room | None = None) -> QuerySet[User]:
    """Who holds `role`: for a Users role its holders (a room makes no difference), for a
    Subscriptions role those holding it in `room`, or in any room when none is given."""
    if role.scope == Role.Scope.USERS:
        return User.objects.filter(roles=role)
    holds = Subscription.roles.through.objects.filter(role=role, subscription__user=OuterRef("pk"))
    if room is not None:
        holds = holds.filter(subscription__room=room)
    return User.objects.filter(Exists(holds))


def role_in_use(role: Role) -> bool:
    """Whether a user holds `role`, globally or in some room."""
    return (
        User.roles.through.objects.filter(role=role).exists()
        or Subscription.roles.through.objects.filter(role=role).exists()
    )
