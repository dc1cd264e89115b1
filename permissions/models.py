"""Roles and the permissions they hold, as Rocket.Chat models them."""

from __future__ import annotations

from django.db import models

from accounts.validators import validate_name
from chat_project.access_cache.declarations import Watched

# No kept answer reads roles or what they hold today (permissions.checks reads them once a
# request), but they are authorisation, written rarely (the admin, the roles commands): a write
# replaces the generation, so that an answer kept from them later needs no change here.
_AUTHORISATION = "what a role may do: authorisation, written rarely"


class Role(models.Model):
    """A named set of permissions. "Users" roles are held globally (User.roles); "Subscriptions"
    roles are held within one room (Subscription.roles)."""

    class Scope(models.TextChoices):
        USERS = "Users", "global (Users)"
        SUBSCRIPTIONS = "Subscriptions", "per room (Subscriptions)"

    name = models.CharField(primary_key=True, max_length=64, validators=[validate_name])
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.USERS)
    description = models.CharField(max_length=250, blank=True)
    protected = models.BooleanField(
        default=False, editable=False, help_text="Built in: cannot be deleted."
    )
    # Rocket.Chat's _updatedAt: what roles.sync compares its updatedSince with.
    updated_at = models.DateTimeField(auto_now=True)

    access_cache = Watched(_AUTHORISATION)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Permission(models.Model):
    """What a role may do; the id is Rocket.Chat's name for it, such as `bulk-register-user`."""

    id = models.CharField("name", primary_key=True, max_length=64)
    roles = models.ManyToManyField(Role, blank=True, related_name="permissions")
    description = models.CharField(
        max_length=250, blank=True, help_text="What it guards here, or that it is not enforced yet."
    )
    # Rocket.Chat's _updatedAt, for permissions.listAll's updatedSince. Saving the row sets it;
    # a change of its roles alone goes through permissions.services, which sets it too.
    updated_at = models.DateTimeField(auto_now=True)

    access_cache = Watched(_AUTHORISATION, many_to_many={"roles": Watched(_AUTHORISATION)})

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id
