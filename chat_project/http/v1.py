"""What every /api/v1/ endpoint shares: Rocket.Chat v1's success bodies, its error texts, its
parameters (pagination, sort, user lookup). Views subclass V1View and stay thin; the rules live
in the apps' services, shared with the 0.1 API.

Rocket.Chat v1 answers most failures with 400 and an `error` text ending in the errorType in
brackets ("... does not match any channel [error-room-not-found]"); a missing permission is a
403 "User does not have the permissions required for this action [error-unauthorized]". Our
envelope keeps its shape; V1View turns the shared services' errors into those texts, by their
type, through one table (V1_WORDS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat_project.http.errors import (
    ApiError,
    BodyTooLarge,
    DeletingAsAuthorNotAllowed,
    DeletingInReadOnlyRoom,
    DuplicateRoleName,
    Failure,
    Forbidden,
    InternalError,
    InvalidRoleProperties,
    InvalidScope,
    LoginFailed,
    LoginUnavailable,
    MessageAuthorGone,
    NotAMember,
    NotAuthenticated,
    ProtectedRole,
    RateLimited,
    ReadOnlyRoom,
    RoleInUse,
    RoomArchived,
    ServiceUnavailable,
    UnknownPermission,
    UnknownRole,
    UnknownUsername,
)
from chat_project.http.fields import json_from_form

M = TypeVar("M", bound=Model)

DEFAULT_COUNT = 50
MAX_COUNT = 100
# The largest offset or count taken (a 32-bit integer, as SQL's LIMIT/OFFSET surely can hold);
# a larger one is a 400, not a database error.
MAX_OFFSET = 2**31 - 1
FORBIDDEN_TEXT = "User does not have the permissions required for this action"


class V1Error(ApiError):
    """An error already in Rocket.Chat v1's words: V1View answers it as it is."""

    def __init__(
        self,
        message: str,
        *,
        error: str,
        error_type: str,
        status_code: int = 400,
        status: str = "fail",
        detailed_error: str = "",
    ) -> None:
        self.status_code, self.status = status_code, status
        super().__init__(message, error=error, error_type=error_type, detailed_error=detailed_error)


def v1_error(
    message: str,
    error_type: str,
    *,
    status_code: int = 400,
    status: str = "fail",
    detailed_error: str = "",
) -> V1Error:
    """An error as Rocket.Chat v1 words it: `error` is the message with the errorType in
    brackets, as its Meteor.Error answers read."""
    return V1Error(
        message,
        error=f"{message} [{error_type}]",
        error_type=error_type,
        status_code=status_code,
        status=status,
        detailed_error=detailed_error,
    )


def v1_failure(
    message: str, error_type: str = "error-failure", *, detailed_error: str = ""
) -> V1Error:
    """An error as Rocket.Chat's API.v1.failure(text) words it: the bare text."""
    return V1Error(message, error=message, error_type=error_type, detailed_error=detailed_error)


def forbidden() -> ApiError:
    return v1_error(FORBIDDEN_TEXT, "error-unauthorized", status_code=403, status="error")


# --- the words of the shared errors --------------------------------------------------------------


def bracketed(exc: ApiError) -> V1Error:
    """The usual: our message with its errorType in brackets, as Rocket.Chat's Meteor.Error
    answers read; not-found becomes 400 as in Rocket.Chat, a refusal keeps its 403."""
    return v1_error(
        exc.message,
        exc.error_type,
        status_code=403 if exc.status_code == 403 else 400,
        status=exc.status,
        detailed_error=exc.detailed_error,
    )


def bare(exc: ApiError, text: str | None = None) -> V1Error:
    """As Rocket.Chat answers a plain Error it throws: `error` is its bare text (`text`, or our
    message where that is already Rocket.Chat's); our message and errorType stay; a refusal
    keeps its 403, the rest is 400."""
    return V1Error(
        exc.message,
        error=exc.message if text is None else text,
        error_type=exc.error_type,
        status_code=403 if exc.status_code == 403 else 400,
        status=exc.status,
        detailed_error=exc.detailed_error,
    )


def reworded(exc: ApiError, text: str) -> V1Error:
    """Rocket.Chat's Meteor.Error text for it, with the type in brackets; ours is the detail."""
    return v1_error(text, exc.error_type, detailed_error=exc.message)


def as_failure(exc: ApiError, text: str) -> V1Error:
    """Rocket.Chat's API.v1.failure(text): the bare text; ours is the detail."""
    return v1_failure(text, exc.error_type, detailed_error=exc.message)


def unchanged(exc: ApiError) -> ApiError:
    return exc


# Rocket.Chat's v1 words for the shared services' errors, by type (a subclass not listed takes
# its nearest listed base's; an error no entry covers is `bracketed`). The posting refusals are
# Rocket.Chat's canSendMessage's, the role ones its roles.* endpoints'.
V1_WORDS: dict[type[ApiError], Callable[[ApiError], ApiError]] = {
    # Answered as they are: the envelope's own words for signing in, size, rate and outages.
    NotAuthenticated: unchanged,
    LoginFailed: unchanged,
    BodyTooLarge: unchanged,
    RateLimited: unchanged,
    LoginUnavailable: unchanged,
    ServiceUnavailable: unchanged,
    InternalError: unchanged,
    Failure: unchanged,  # a service's API.v1.failure-style text
    Forbidden: lambda exc: forbidden(),
    # Posting (chat.postMessage, chat.sendMessage, chat.update).
    NotAMember: lambda exc: bare(exc, "error-not-allowed"),
    ReadOnlyRoom: lambda exc: bare(exc, "You can't send messages because the room is readonly."),
    RoomArchived: lambda exc: bare(exc, "room_is_archived"),
    # Deleting (chat.delete): our messages are Rocket.Chat's words.
    DeletingInReadOnlyRoom: bare,
    DeletingAsAuthorNotAllowed: bare,
    MessageAuthorGone: bare,
    # roles.create, roles.delete, roles.removeUserFromRole, permissions.update.
    InvalidScope: lambda exc: reworded(exc, "Invalid scope"),
    InvalidRoleProperties: lambda exc: reworded(exc, "The role properties are invalid."),
    DuplicateRoleName: lambda exc: reworded(exc, "Role name already exists"),
    ProtectedRole: lambda exc: reworded(exc, "Cannot delete a protected role"),
    RoleInUse: lambda exc: reworded(exc, "Cannot delete role because it's in use"),
    UnknownUsername: lambda exc: reworded(exc, "There is no user with this username"),
    UnknownPermission: lambda exc: as_failure(exc, "Invalid permission"),
    UnknownRole: lambda exc: as_failure(exc, "Invalid role"),
}


def as_v1_error(exc: ApiError) -> ApiError:
    """A shared service's error in v1's words (V1_WORDS); a V1Error is in them already."""
    if isinstance(exc, V1Error):
        return exc
    for kind in type(exc).__mro__:
        if kind in V1_WORDS:
            return V1_WORDS[kind](exc)
    return bracketed(exc)


class V1View(APIView):
    """Base of every /api/v1/ view: signed-in users by default, v1's error words."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ApiError):
            exc = as_v1_error(exc)
        elif isinstance(exc, drf.PermissionDenied):  # a `requires(...)` permission class said no
            exc = forbidden()
        return super().handle_exception(exc)

    def params(self) -> Mapping[str, Any]:
        """The request's parameters: the query string for GET, the body otherwise."""
        request: Request = self.request
        if request.method == "GET":
            return request.query_params
        return request.data if isinstance(request.data, Mapping) else {}


def ok(body: Mapping[str, Any] | None = None) -> Response:
    """Rocket.Chat v1's success: the body with `"success": true`."""
    return Response({**(body or {}), "success": True})


def text_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string parameter; a missing required one, or one of another type, is a 400."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise v1_error(f'The "{name}" parameter is required', "error-invalid-params")
        return None
    if not isinstance(value, str):
        raise v1_error(f'The "{name}" parameter must be a string', "error-invalid-params")
    if "\x00" in value:  # no database stores it, and no name or id holds one
        raise v1_error(f'The "{name}" parameter must not contain NUL', "error-invalid-params")
    return value


def bool_param(params: Mapping[str, Any], name: str, default: bool | None = None) -> bool | None:
    """true/false as JSON booleans or as the strings forms and query strings carry."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "false", "0"}:
        return value.lower() in {"true", "1"}
    raise v1_error(f'The "{name}" parameter must be true or false', "error-invalid-params")


# --- pagination ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    offset: int
    count: int
    order_by: list[str]


def page_params(
    params: Mapping[str, Any], *, sortable: Mapping[str, str], default_sort: Iterable[str]
) -> Page:
    """offset (default 0), count (default 50, at most 100; 0 means the default) and sort, a
    JSON object such as {"name": 1} over the fields in `sortable` (API name -> ORM field)."""
    offset = int_param(params, "offset", 0)
    count = int_param(params, "count", 0) or DEFAULT_COUNT
    order_by = sort_param(params.get("sort"), sortable) or list(default_sort)
    return Page(offset=offset, count=min(count, MAX_COUNT), order_by=order_by)


def int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise v1_error(
            f'The "{name}" parameter must be a whole number', "error-invalid-params"
        ) from None
    if number < 0:
        raise v1_error(f'The "{name}" parameter must not be negative', "error-invalid-params")
    if number > MAX_OFFSET:
        raise v1_error(
            f'The "{name}" parameter must be at most {MAX_OFFSET}', "error-invalid-params"
        )
    return number


def sort_param(raw: Any, sortable: Mapping[str, str]) -> list[str]:
    if raw is None or raw == "":
        return []
    sort = json_from_form(raw)
    if not isinstance(sort, dict) or not sort:
        raise v1_error(
            'The sort parameter must be a JSON object such as {"name": 1}', "error-invalid-sort"
        )
    order_by = []
    for field, direction in sort.items():
        if field not in sortable or direction not in (1, -1):
            raise v1_error(
                f"Cannot sort by {field!r}: use one of {', '.join(sorted(sortable))} with 1 or -1",
                "error-invalid-sort",
            )
        order_by.append(("-" if direction == -1 else "") + sortable[field])
    return order_by


def paginated(key: str, queryset: QuerySet[M], page: Page, shape: Callable[[M], Any]) -> Response:
    """`{key: [...], count, offset, total, success}`: two queries (the total and the page)."""
    total = queryset.count()
    items = [
        shape(item)
        for item in queryset.order_by(*page.order_by)[page.offset : page.offset + page.count]
    ]
    return ok({key: items, "count": len(items), "offset": page.offset, "total": total})
