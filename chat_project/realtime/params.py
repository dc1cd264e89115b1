"""A DDP method's parameters, checked as Meteor's check() would: a value of the wrong type is
Rocket.Chat's error-invalid-params. Every app's realtime methods read their parameters through
these, as the v1 views read theirs through chat_project.http.v1."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chat_project.http.v1 import MAX_OFFSET
from chat_project.realtime import errors
from chat_project.realtime.ejson import from_date

if TYPE_CHECKING:
    from chat_project.realtime.methods import Call


def param(call: Call, params: list[Any], index: int, kind: type, *, optional: bool = False) -> Any:
    """params[index] when it is a `kind` (Meteor's check()), else error-invalid-params. A
    string holding NUL is refused alike: no name, id or text a method takes may hold one (and
    PostgreSQL stores none)."""
    if index >= len(params) or params[index] is None:
        if optional:
            return None
        raise errors.invalid_params(call.name)
    value = params[index]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise errors.invalid_params(call.name)
    if isinstance(value, str) and "\x00" in value:
        raise errors.invalid_params(call.name)
    return value


def text_field(call: Call, body: dict[str, Any], key: str, *, default: str | None = "") -> Any:
    """body[key] as a string without NUL; absent is `default`."""
    value = body.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise errors.invalid_params(call.name, f"{key} must be a string")
    return value


def required_text(call: Call, body: dict[str, Any], key: str) -> str:
    value = text_field(call, body, key, default=None)
    if not value:
        raise errors.invalid_params(call.name, f"{key} is required")
    return str(value)


def date_param(call: Call, params: list[Any], index: int) -> datetime | None:
    """An optional EJSON date ({"$date": ms}); absent or null is None."""
    given = param(call, params, index, dict, optional=True)
    if given is None:
        return None
    moment = from_date(given)
    if moment is None:
        raise errors.invalid_params(call.name)
    return moment


def count_param(call: Call, value: Any, *, default: int) -> int:
    """A whole number from 0 to MAX_OFFSET; absent or null is `default`."""
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_OFFSET:
        raise errors.invalid_params(call.name)
    return value


def usernames_param(call: Call, params: list[Any], index: int) -> list[str]:
    """createChannel's `members`: a list of usernames (absent or null: none)."""
    members = param(call, params, index, list, optional=True) or []
    if not all(isinstance(member, str) and "\x00" not in member for member in members):
        raise errors.invalid_params(call.name)
    return members


def changes(items: list[dict[str, Any]], since: datetime | None) -> Any:
    """The list, or with a client's date Rocket.Chat's {update, remove}. We keep no record of
    what was deleted (Rocket.Chat keeps a trash collection), so `remove` is always empty: a
    client learns of rooms it left, and deleted ones, from rooms-changed and
    subscriptions-changed while connected, or by asking without a date."""
    if since is None:
        return items
    return {"update": items, "remove": []}
