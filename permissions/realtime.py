"""The permissions app's realtime API (Meteor's DDP): permissions/get, over the selector
permissions.listAll uses. `register` adds it to the transport; PermissionsConfig.ready() calls it.
"""

from __future__ import annotations

from typing import Any

from chat_project.realtime import methods
from chat_project.realtime.ejson import date
from chat_project.realtime.methods import Call
from chat_project.realtime.params import changes, date_param
from permissions.selectors import permissions_with_roles
from permissions.serializers import permission_json


def permissions_get(call: Call, params: list[Any]) -> Any:
    """permissions/get(date?): every permission with its roles (permissions.listAll's), with a
    date those changed since, as {update, remove}. For signed-in users, as permissions.listAll."""
    since = date_param(call, params, 0)
    items = [
        permission_json(permission) | {"_updatedAt": date(permission.updated_at)}
        for permission in permissions_with_roles(updated_since=since)
    ]
    return changes(items, since)


def register() -> None:
    """Adds permissions/get to the realtime transport (PermissionsConfig.ready())."""
    methods.register("permissions/get", permissions_get)
