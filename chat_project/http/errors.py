"""The one error envelope, and every path that leads to it.

Whatever goes wrong under /api/ (an ApiError raised by our code, a DRF exception, Django's own
404/405/500, a middleware refusing a request), the client gets the same JSON body:

    {"success": false, "status": "error", "message": ..., "error": ..., "errorType": ...,
     "detailed_error": ..., "request_id": ..., "status_code": ...}

`render_error()` builds it; the DRF exception handler, Django's handler404/handler500 and
`ApiEnvelopeMiddleware` all call it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.views import set_rollback

from chat_project.db.ids import random_string

API_PREFIX = "/api/"

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered in the envelope. Subclasses set the class attributes; an instance may
    override the message (and Rocket.Chat's separate `error` text) and add detail."""

    status_code: int = 400
    status: str = "fail"  # Rocket.Chat's word: "fail" for validation and room access, else "error"
    error_type: str = "invalid-params"
    message: str = "Bad request."
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(
        self,
        message: str | None = None,
        *,
        error: str | None = None,
        error_type: str | None = None,
        detailed_error: str = "",
    ) -> None:
        if message is not None:
            self.message = message
        if error_type is not None:
            self.error_type = error_type
        self.error = error if error is not None else self.message
        self.detailed_error = detailed_error
        super().__init__(self.message)


class InvalidParams(ApiError):
    """A parameter is missing, of the wrong type or out of range."""


class Failure(InvalidParams):
    """Rocket.Chat's API.v1.failure(text): v1 answers its message bare, without a type."""

    error_type = "error-failure"


class ResetTokenExpired(ApiError):
    """A password reset link's token that is unknown, used, expired, or its user inactive
    (Meteor's resetPassword says "Token expired" for all of them)."""

    status_code = 403
    error_type = "error-token-expired"
    message = "Token expired"


class MalformedBody(ApiError):
    error_type = "error-invalid-body"
    message = "Malformed request body."


class NotAuthenticated(ApiError):
    status_code = 401
    status = "error"
    error_type = "unauthorized"
    message = "You must be logged in to do this."


# detailed_error of a 401 for a request that carried no credentials at all (DRF's NotAuthenticated);
# bad ones say what was wrong with them (accounts.authentication).
NO_CREDENTIALS = (
    "No credentials: send the X-Auth-Token and X-User-Id headers of a login (POST /api/v1/login), "
    "or the token alone as Authorization: Bearer <token>."
)


class LoginFailed(ApiError):
    status_code = 401
    status = "error"
    error_type = "unauthorized"
    message = "Unauthorized"


class Forbidden(ApiError):
    status_code = 403
    status = "error"
    error_type = "error-not-allowed"
    message = "You do not have permission to do this"


def missing_permission_words(names: Sequence[str], *, any_of: bool = False) -> str:
    """detailed_error of a refusal for want of permissions: 'Missing permission "create-c".';
    with `any_of`, holding one of `names` would have done."""
    quoted = ", ".join(f'"{name}"' for name in names)
    if len(names) == 1:
        return f"Missing permission {quoted}."
    if any_of:
        return f"Missing permission: one of {quoted}."
    return f"Missing permissions {quoted}."


class MissingPermission(Forbidden):
    """Forbidden for want of permissions, which `detailed_error` names (with `any_of`, holding
    one of them would have done). Room roles count where the check was in a room."""

    def __init__(self, *names: str, any_of: bool = False) -> None:
        super().__init__(detailed_error=missing_permission_words(names, any_of=any_of))


class NotFound(ApiError):
    status_code = 404
    status = "error"
    error_type = "error-not-found"
    message = "Not found."


class EndpointNotFound(NotFound):
    message = "API endpoint does not exist"  # Rocket.Chat's words


# detailed_error of an unknown /api/ URL: where the endpoints are listed.
SEE_THE_DOCS = "No endpoint at this path. Every endpoint is listed at /api/docs/ (OpenAPI)."

# detailed_error of a 415: what a body may be.
BODY_TYPES = (
    "Send JSON (Content-Type: application/json), a form (application/x-www-form-urlencoded) "
    "or multipart/form-data."
)


class MethodNotAllowed(ApiError):
    status_code = 405
    status = "error"
    error_type = "error-method-not-allowed"
    message = "Method not allowed."


class BodyTooLarge(ApiError):
    status_code = 413
    status = "error"
    error_type = "error-request-too-large"
    message = "Request body too large."


class UnsupportedMediaType(ApiError):
    status_code = 415
    status = "error"
    error_type = "error-unsupported-media-type"
    message = "Unsupported media type."


class RateLimited(ApiError):
    status_code = 429
    status = "error"
    error_type = "error-too-many-requests"
    message = "limit exceeded"


class LoginBlockedForUser(RateLimited):
    error_type = "error-login-blocked-for-user"
    message = "Too many failed logins for this user. Try again later."


class LoginBlockedForIp(RateLimited):
    error_type = "error-login-blocked-for-ip"
    message = "Too many failed logins from this address. Try again later."


class LoginUnavailable(ApiError):
    status_code = 503
    status = "error"
    error_type = "error-service-unavailable"
    message = "Logging in is unavailable for a moment. Try again shortly."
    retry_after = 5


class ServiceUnavailable(ApiError):
    """A backing service (the database) cannot be reached: try again shortly."""

    status_code = 503
    status = "error"
    error_type = "error-service-unavailable"
    message = "Service unavailable"
    retry_after = 5


# The database is down, restarting or unreachable (connection refused, timed out, dropped). Django
# opens a fresh connection on the next request (CONN_HEALTH_CHECKS), so this is a 503, not a 500.
DATABASE_UNAVAILABLE = (DatabaseOperationalError, DatabaseInterfaceError)


class InternalError(ApiError):
    status_code = 500
    status = "error"
    error_type = "error-internal"
    message = "Internal server error"


# --- rooms ---------------------------------------------------------------------------------------


class RoomNotFound(NotFound):
    error_type = "error-room-not-found"
    message = "Room not found."


class CannotAccessRoom(ApiError):
    """The user may not read (or do this in) a room they may know exists."""

    status_code = 403
    status = "fail"
    error_type = "error-not-allowed"
    message = "Cannot access room."


class NotAMember(CannotAccessRoom):
    """Posting takes membership."""

    message = "You must join the room to post in it."


class ReadOnlyRoom(CannotAccessRoom):
    """A read-only room takes messages only from holders of post-readonly."""

    message = "This room is read-only."


class DeletingInReadOnlyRoom(CannotAccessRoom):
    """Nor may others delete messages in it."""

    message = "You can't delete messages because the room is readonly."  # Rocket.Chat's words


class NotJoinable(CannotAccessRoom):
    """Only public channels can be joined (a private group takes an invitation)."""

    message = "Only public channels can be joined."


class InvalidJoinCode(ApiError):
    """A channel with a join code refuses a join without the right code."""

    error_type = "error-code-invalid"
    message = "Invalid Room Password"  # Rocket.Chat's words


class NotInRoom(ApiError):
    error_type = "error-user-not-in-room"
    message = "You are not in this room"  # Rocket.Chat's words


class NotSubscribed(ApiError):
    """The caller has no subscription to the room (read marks, favourites, hiding)."""

    error_type = "error-invalid-subscription"
    message = "Invalid subscription"  # Rocket.Chat's words


class LastOwner(ApiError):
    error_type = "error-you-are-last-owner"
    # Rocket.Chat's words, to the letter.
    message = "You are the last owner. Please set new owner before leaving the room."


class RoomArchived(ApiError):
    error_type = "error-room-archived"
    message = "Room is archived."


class MessageTooLong(ApiError):
    error_type = "error-message-size-exceeded"
    message = "Message size exceeds the allowed length."


# --- messages ------------------------------------------------------------------------------------


class MessageNotFound(NotFound):
    error_type = "error-message-not-found"
    message = "Message not found."


class MessageIdTaken(InvalidParams):
    error_type = "error-duplicate-message-id"
    message = "A message with this _id already exists."


class MessageActionNotAllowed(ApiError):
    """Rocket.Chat's error-action-not-allowed, with the 403 of a missing permission."""

    status_code = 403
    status = "error"
    error_type = "error-action-not-allowed"
    message = "Not allowed"  # Rocket.Chat's words for a refused delete


class MessageEditingNotAllowed(MessageActionNotAllowed):
    message = "Message editing not allowed"  # Rocket.Chat's words


class DeletingAsAuthorNotAllowed(MessageActionNotAllowed):
    # Rocket.Chat's words, to the letter.
    message = (
        'Unauthorized. You must have the permission "force-delete-message" to delete '
        "other's message as them."
    )


class MessageAuthorGone(InvalidParams):
    error_type = "error-invalid-user"
    message = "User not found"  # Rocket.Chat's words


# --- roles and permissions -----------------------------------------------------------------------
# Their messages name what was wrong (the `roles` and `permissions` commands print them); the v1
# table words them as Rocket.Chat does and keeps ours as the detail.


class UnknownRole(InvalidParams):
    error_type = "error-invalid-role"


class UnknownPermission(InvalidParams):
    """A permission that does not exist, or one named twice in a batch."""

    error_type = "error-invalid-permission"


class UnknownUsername(InvalidParams):
    error_type = "error-invalid-user"


class InvalidScope(InvalidParams):
    error_type = "error-invalid-scope"


class InvalidRoleProperties(InvalidParams):
    error_type = "error-invalid-role-properties"


class DuplicateRoleName(InvalidParams):
    error_type = "error-duplicate-role-names-not-allowed"


class ProtectedRole(InvalidParams):
    """A built-in role cannot be deleted."""

    error_type = "error-role-protected"


class RoleInUse(InvalidParams):
    """A role someone holds cannot be deleted."""

    error_type = "error-role-in-use"


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX) or request.path_info == API_PREFIX[:-1]


def new_request_id() -> str:
    """26 lowercase letters and digits, like Mattermost's request ids."""
    return random_string("abcdefghijklmnopqrstuvwxyz0123456789", 26)


def request_id_of(request: HttpRequest) -> str:
    request_id = getattr(request, "request_id", None)
    if not request_id:
        request_id = new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
    return str(request_id)


def render_error(request: HttpRequest, error: ApiError) -> JsonResponse:
    """The envelope for `error`, its status code, and the headers HTTP asks for."""
    body = {
        "success": False,
        "status": error.status,
        "message": error.message,
        "error": error.error,
        "errorType": error.error_type,
        "detailed_error": error.detailed_error,
        "request_id": request_id_of(request),
        "status_code": error.status_code,
    }
    response = JsonResponse(body, status=error.status_code)
    if error.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, error.retry_after))
    response.is_api_error = True  # type: ignore[attr-defined]
    return response


class UnexpectedStatus(ApiError):
    """An error response of a status no other ApiError stands for (a 406, a 502...)."""

    def __init__(self, status_code: int, message: str | None = None, **kwargs: Any) -> None:
        self.status_code = status_code
        if status_code >= 500:
            self.status, self.error_type = InternalError.status, InternalError.error_type
        super().__init__(message or f"Request failed with status {status_code}.", **kwargs)


def error_for_status(status_code: int, message: str | None = None, **kwargs: Any) -> ApiError:
    """The envelope's content for an error response something other than our code produced:
    `message` (and `detailed_error`) if given, else the status's own words."""
    known: dict[int, type[ApiError]] = {
        400: InvalidParams,
        401: NotAuthenticated,
        403: Forbidden,
        404: EndpointNotFound,
        405: MethodNotAllowed,
        413: BodyTooLarge,
        415: UnsupportedMediaType,
        429: RateLimited,
        500: InternalError,
        503: ServiceUnavailable,
    }
    if status_code in known:
        return known[status_code](message, **kwargs)
    return UnexpectedStatus(status_code, message, **kwargs)


# --- DRF ----------------------------------------------------------------------------------------


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """DRF's nested error detail as "field: message" lines, in field order."""
    if isinstance(detail, Mapping):
        lines = []
        for field, inner in detail.items():
            name = "" if field == "non_field_errors" else str(field)
            lines += _flatten(inner, f"{prefix}.{name}" if prefix and name else prefix or name)
        return lines
    if isinstance(detail, Sequence) and not isinstance(detail, str):
        return [line for inner in detail for line in _flatten(inner, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def api_error_from_drf(exc: drf.APIException) -> ApiError:
    if isinstance(exc, drf.ValidationError):
        lines = _flatten(exc.detail) or ["Invalid parameters."]
        return InvalidParams(lines[0], detailed_error="; ".join(lines))
    if isinstance(exc, drf.ParseError):
        return MalformedBody(detailed_error=str(exc.detail))
    if isinstance(exc, drf.NotAuthenticated):
        return NotAuthenticated(detailed_error=NO_CREDENTIALS)
    if isinstance(exc, drf.AuthenticationFailed):
        # Its detail says what was wrong with the credentials (accounts.authentication).
        return NotAuthenticated(detailed_error=str(exc.detail))
    if isinstance(exc, drf.PermissionDenied):
        return Forbidden()
    if isinstance(exc, drf.NotFound):
        return NotFound()
    if isinstance(exc, drf.MethodNotAllowed):
        return MethodNotAllowed(str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return UnsupportedMediaType(str(exc.detail), detailed_error=BODY_TYPES)
    return error_for_status(exc.status_code, str(exc.detail))


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: every exception a view raises that we know, in the envelope.

    Anything else is left to Django (None), which logs it and calls handler500.
    """
    if isinstance(exc, ApiError):
        error = exc
    elif isinstance(exc, drf.APIException):
        error = api_error_from_drf(exc)
    elif isinstance(exc, Http404):
        error = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        error = Forbidden()
    elif isinstance(exc, RequestDataTooBig):
        error = BodyTooLarge()
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("database unavailable: %s", exc)
        error = ServiceUnavailable()
    else:
        return None
    set_rollback()
    return render_error(context["request"], error)


# --- Django's handlers (urls.py names them) ------------------------------------------------------


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        if isinstance(exception, RequestDataTooBig):
            return render_error(request, BodyTooLarge())
        if isinstance(exception, DisallowedHost):
            message = "Invalid Host header: not in ALLOWED_HOSTS."
            return render_error(request, InvalidParams(message))
        return render_error(request, InvalidParams())
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return render_error(request, Forbidden())
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return render_error(request, EndpointNotFound(detailed_error=SEE_THE_DOCS))
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is still at hand: a database
    # that went away under a middleware (the token lookup) is a 503, as it is in a view.
    unavailable = isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE)
    if is_api_request(request):
        return render_error(request, ServiceUnavailable() if unavailable else InternalError())
    if unavailable:
        response = HttpResponse("Service unavailable", status=503, content_type="text/plain")
        response["Retry-After"] = str(ServiceUnavailable.retry_after)
        return response
    return defaults.server_error(request)


def envelope_for_foreign_error(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An /api/ error response that did not come from render_error (Django's DEBUG pages, a
    405 from a plain Django view, a CSRF refusal...) redone in the envelope."""
    if response.status_code == 404:  # DEBUG's technical 404 page
        detail = SEE_THE_DOCS
    elif response.status_code >= 500 and settings.DEBUG:
        detail = "See the server log for the traceback."
    else:
        detail = ""
    error = error_for_status(response.status_code, detailed_error=detail)
    envelope = render_error(request, error)
    for header in ("Allow", "Retry-After"):
        if header in response:
            envelope[header] = response[header]
    return envelope


def bulk_record_error(index: int, why: str, *, error_type: str = "invalid-params") -> InvalidParams:
    """The 400 for one bad record of a bulk batch, naming its index (0-based, as in the list)."""
    return InvalidParams(f"record #{index} is invalid: {why}", error_type=error_type)
