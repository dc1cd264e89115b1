"""What every /api/v1/ endpoint shares: Rocket.Chat v1's success bodies, its error texts, its
parameters (pagination, sort, user lookup) and their refusals (in v1's words, or ajv's for the
users.* endpoints that Rocket.Chat checks against a JSON schema). Views subclass V1View and stay
thin; the rules live in the apps' services, shared with the 0.1 API.

Rocket.Chat v1 answers most failures with 400 and an `error` text ending in the errorType in
brackets ("... does not match any channel [error-room-not-found]"); a missing permission is a
403 "User does not have the permissions required for this action [error-unauthorized]". Our
envelope keeps its shape; V1View turns the shared services' errors into those texts, by their
type, through one table (V1_WORDS).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Model, QuerySet
from django.http import QueryDict
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import BindingDict
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
from chat_project.http.fields import StrictCharField, TimestampField, json_from_form

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


def forbidden(*, detailed_error: str = "") -> ApiError:
    """Rocket.Chat v1's 403 for a missing permission; our detail may name it."""
    return v1_error(
        FORBIDDEN_TEXT,
        "error-unauthorized",
        status_code=403,
        status="error",
        detailed_error=detailed_error,
    )


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
    Forbidden: lambda exc: forbidden(detailed_error=exc.detailed_error),
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
    """Base of every /api/v1/ view: signed-in users by default, v1's error words. Its `Input`
    (an input serializer) declares its parameters once: parse() reads them, and the OpenAPI
    schema documents them (chat_project.http.schema.ApiSchema)."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ApiError):
            exc = as_v1_error(exc)
        elif isinstance(exc, drf.PermissionDenied):  # a permission class said no, naming nothing
            exc = forbidden()
        return super().handle_exception(exc)

    Input: ClassVar[type[serializers.Serializer] | None] = None
    _parsed: Any = None

    def parse(self) -> Any:
        """The request's parameters as `Input` validated them (once a request); a refused one
        answers in v1's words."""
        if self._parsed is None:
            assert self.Input is not None, f"{type(self).__name__} declares no Input"
            self._parsed = parse_input(self.Input, self.params())
        return self._parsed

    def params(self) -> Mapping[str, Any]:
        """The request's parameters: the query string for GET, the body otherwise."""
        request: Request = self.request
        if request.method == "GET":
            return request.query_params
        return request.data if isinstance(request.data, Mapping) else {}


def ok(body: Mapping[str, Any] | None = None) -> Response:
    """Rocket.Chat v1's success: the body with `"success": true`."""
    return Response({**(body or {}), "success": True})


# --- parameters ----------------------------------------------------------------------------------
# A view declares its parameters once, as an input serializer (`V1View.Input`): parse() validates
# them and the OpenAPI schema documents them. The fields below read parameters as Rocket.Chat v1
# does (an absent, null or empty one is None) and refuse them in its words: each field's `words`
# give, by DRF's error code, the text that v1_error answers ("{name}" is the parameter's name).
#
# Some endpoints (users.*) Rocket.Chat checks against a JSON schema (ajv) instead: a field made
# with `ajv=True` takes "" as a value (only absent or null is None) and is refused in ajv's words,
# its `ajv_words` ("must be string" [invalid-params]), the parameter's path in `detailed_error`.


Refusal = Callable[[str], ApiError]  # the error for a refused parameter, given its name


class Param(serializers.Field):
    """A v1 parameter: absent, null or "" is None; the last value of a form's or query string's
    repeated key, as `params.get` reads it. A refused one answers in v1's words, or where
    Rocket.Chat words it otherwise, `missing(name)` (a required one absent) or `refused(name)`
    (any other refusal)."""

    words: ClassVar[dict[str, str]] = {"required": 'The "{name}" parameter is required'}
    ajv_words: ClassVar[dict[str, str]] = {"required": "must have required property '{name}'"}
    error_type: ClassVar[str] = "error-invalid-params"
    default_error_messages = {"invalid": "Not a valid value."}  # DRF's words; `words` are v1's
    blank_is_absent = True

    def __init__(
        self,
        *,
        missing: Refusal | None = None,
        refused: Refusal | None = None,
        ajv: bool = False,
        **kwargs: Any,
    ) -> None:
        self.missing, self.refused, self.ajv = missing, refused, ajv
        super().__init__(**{"required": False, **kwargs})
        if ajv:
            self.blank_is_absent = False

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        return dictionary.get(cast(str, self.field_name), empty)

    def run_validation(self, data: Any = empty) -> Any:
        blank = self.blank_is_absent and isinstance(data, str) and data == ""
        if data is empty or data is None or blank:
            if self.required:
                self.fail("required")
            return None
        return super().run_validation(data)


class Text(Param, StrictCharField):
    """A string; another type, or one holding NUL (which no database stores and no name or id
    holds), is refused. With `blank`, "" is a value, not an absent one; with `nul`, NUL is let
    through for the service to refuse in its own words (a message's text)."""

    words = {
        **Param.words,
        "invalid": 'The "{name}" parameter must be a string',
        "null_characters_not_allowed": 'The "{name}" parameter must not contain NUL',
    }
    ajv_words = {
        **Param.ajv_words,
        "invalid": "must be string",
        "null_characters_not_allowed": "must not contain NUL characters",
    }

    def __init__(
        self,
        help_text: str = "",
        *,
        required: bool = False,
        missing: Refusal | None = None,
        refused: Refusal | None = None,
        blank: bool = False,
        nul: bool = False,
        ajv: bool = False,
    ) -> None:
        blank = blank or ajv  # a JSON schema's string may be empty
        super().__init__(
            help_text=help_text,
            required=required,
            missing=missing,
            refused=refused,
            ajv=ajv,
            allow_blank=blank or not required,
            allow_null=not required,
            trim_whitespace=False,
        )
        self.blank_is_absent = not blank
        if nul:
            self.validators = [
                check
                for check in self.validators
                if not isinstance(check, ProhibitNullCharactersValidator)
            ]


TRUE_OR_FALSE = {"true", "1", "false", "0"}


# As Flag reads it: JSON's true or false, or their text in any case, or 1 or 0 (a form's, a query
# string's, or a client that writes booleans as strings); blank, as if not given.
@extend_schema_field(
    {
        "anyOf": [
            {"type": "boolean"},
            {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0|)$"},
        ]
    }
)
class Flag(Param, serializers.BooleanField):
    """true or false: JSON's, or the text ("true", "1", "false", "0") forms and query strings
    carry; with `json_only`, JSON's alone (a value inside a JSON object)."""

    words = {**Param.words, "invalid": 'The "{name}" parameter must be true or false'}
    ajv_words = {**Param.ajv_words, "invalid": "must be boolean"}

    def __init__(
        self,
        help_text: str = "",
        *,
        required: bool = False,
        missing: Refusal | None = None,
        json_only: bool = False,
        ajv: bool = False,
    ) -> None:
        super().__init__(
            help_text=help_text,
            required=required,
            missing=missing,
            ajv=ajv,
            allow_null=not required,
        )
        self.json_only = json_only
        self.blank_is_absent = not (json_only or ajv)

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if not self.json_only and isinstance(data, str) and data.lower() in TRUE_OR_FALSE:
            return data.lower() in {"true", "1"}
        self.fail("invalid")
        raise AssertionError  # fail() raised


class Count(Param, serializers.IntegerField):
    """A whole number from 0 to MAX_OFFSET: pagination's offset and count."""

    words = {
        **Param.words,
        "invalid": 'The "{name}" parameter must be a whole number',
        "min_value": 'The "{name}" parameter must not be negative',
        "max_value": f'The "{{name}}" parameter must be at most {MAX_OFFSET}',
    }

    def __init__(self, help_text: str = "") -> None:
        super().__init__(
            help_text=help_text, required=False, allow_null=True, min_value=0, max_value=MAX_OFFSET
        )

    def to_internal_value(self, data: Any) -> int:
        try:
            return int(data)
        except (TypeError, ValueError):
            self.fail("invalid")
            raise AssertionError from None  # fail() raised


@extend_schema_field({"type": "string"})
class Sort(Param):
    """A JSON object such as {"name": 1} (1 ascending, -1 descending) over the API names in its
    serializer's `sortable`; validated into the ORM's order_by."""

    words = {
        "invalid": 'The sort parameter must be a JSON object such as {"name": 1}',
        "not_sortable": "{detail}",
    }
    error_type = "error-invalid-sort"

    def to_internal_value(self, data: Any) -> list[str]:
        sort = json_from_form(data)
        if not isinstance(sort, dict) or not sort:
            self.fail("invalid")
        sortable: Mapping[str, str] = getattr(self.parent, "sortable", {})
        order_by = []
        for field, direction in sort.items():
            if field not in sortable or direction not in (1, -1):
                names = ", ".join(sorted(sortable))
                raise serializers.ValidationError(
                    f"Cannot sort by {field!r}: use one of {names} with 1 or -1",
                    code="not_sortable",
                )
            order_by.append(("-" if direction == -1 else "") + sortable[field])
        return order_by


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]}
)
class Time(Param, TimestampField):
    """An ISO 8601 time."""

    def __init__(self, help_text: str = "", *, refused: Refusal | None = None) -> None:
        super().__init__(help_text=help_text, refused=refused)


@extend_schema_field(
    {"type": "array", "items": {"type": "object", "additionalProperties": {}}, "nullable": True}
)
class JsonList(Param):
    """A JSON list (from a form, the same list as JSON text), passed on for the service to
    check what it holds."""

    words = {**Param.words, "invalid": 'The "{name}" parameter must be an array of objects'}

    def to_internal_value(self, data: Any) -> list[Any]:
        value = json_from_form(data)
        if not isinstance(value, list):
            self.fail("invalid")
        return cast(list[Any], value)


@extend_schema_field({"type": "array", "items": {"type": "string"}, "nullable": True})
class Strings(Param):
    """A list of strings: JSON's, a form's or query string's repeated key (`roles=a&roles=b`,
    `roles[]=a`), or a JSON list in one form field. Only in ajv's words (users.*); a refused
    item names the list's items (`roles[]`)."""

    ajv_words = {**Param.ajv_words, "invalid": "must be array", "item": "must be string"}
    default_error_messages = {"invalid": "Not a list.", "item": "Not a list of strings."}

    def __init__(self, help_text: str = "", *, required: bool = False) -> None:
        super().__init__(help_text=help_text, required=required, ajv=True)

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        if not isinstance(dictionary, QueryDict):
            return super().get_value(dictionary)
        name = cast(str, self.field_name)
        values = dictionary.getlist(name) or dictionary.getlist(f"{name}[]")
        if len(values) == 1 and values[0].lstrip().startswith("["):
            return json_from_form(values[0])
        return values or empty

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("invalid")
        if not all(isinstance(item, str) and "\x00" not in item for item in data):
            self.fail("item")
        return cast(list[str], data)


class JsonObject(Param):
    """A JSON object (from a form, the same object as JSON text) whose fields `input_class`
    declares; a refused field is named "<this>.<field>"."""

    words = {**Param.words, "invalid": 'The "{name}" parameter must be an object'}
    ajv_words = {**Param.ajv_words, "invalid": "must be object"}

    def __init__(
        self, input_class: type[serializers.Serializer], help_text: str = "", **kwargs: Any
    ) -> None:
        super().__init__(help_text=help_text, **kwargs)
        self.input_class = input_class
        set_override(self, "field", input_class)  # the schema shows its fields

    def to_internal_value(self, data: Any) -> Any:
        value = json_from_form(data)
        if not isinstance(value, dict):
            self.fail("invalid")
        given = self.input_class(data=value)
        if not given.is_valid():
            raise serializers.ValidationError(given.errors)
        return given.validated_data


# A view's input serializer. A body's is an OpenAPI component: give it its name (`class Meta:
# ref_name = "PostMessage"`); two left as "Input" collide, and `make lint` says so.
class V1Input(serializers.Serializer):
    _bound_fields: ClassVar[BindingDict]

    @property
    def fields(self) -> BindingDict:
        # Bound once for the class, to an instance that holds no request's data: DRF deep-copies
        # and binds every field for every instance, re-running each field's __init__: that was
        # most of a parse (chat.postMessage's, timed with timeit: 290 us, 35 without). Our fields
        # keep nothing of a request, so instances may share them.
        cls = type(self)
        if "_bound_fields" not in cls.__dict__:
            bound = BindingDict(cls())
            for name, field in copy.deepcopy(cls._declared_fields).items():
                bound[name] = field
            cls._bound_fields = bound
        return cls._bound_fields


def ajv_error(text: str, path: str) -> V1Error:
    """A refusal in ajv's words: "must be string [invalid-params]", "data.name: must be string"
    in `detailed_error`."""
    return v1_error(text, "invalid-params", detailed_error=f"{path}: {text}")


def parse_input(input_class: type[serializers.Serializer], params: Mapping[str, Any]) -> Any:
    """`params` validated by `input_class`; the first refusal in its field's v1 words (or, for a
    field that has none, DRF's ValidationError, which the envelope words "field: message")."""
    given = input_class(data=params)
    if given.is_valid():
        return given.validated_data
    raise refusal(given.fields, given.errors)


def refusal(fields: Mapping[str, Any], errors: Mapping[str, Any], prefix: str = "") -> Exception:
    """The first of a serializer's `errors`, in the words of the field it names."""
    name, details = next(iter(errors.items()))
    field = fields.get(name)
    if isinstance(field, JsonObject) and isinstance(details, Mapping):
        return refusal(field.input_class().fields, details, f"{prefix}{name}.")
    detail = details[0] if isinstance(details, list) and details else None
    code = getattr(detail, "code", None) or ""
    missing, refused = getattr(field, "missing", None), getattr(field, "refused", None)
    if code == "required" and missing is not None:
        return cast(ApiError, missing(prefix + name))
    if code != "required" and refused is not None:
        return cast(ApiError, refused(prefix + name))
    if isinstance(field, Param) and field.ajv and code in field.ajv_words:
        text = field.ajv_words[code].replace("{name}", name)
        return ajv_error(text, prefix + name + ("[]" if code == "item" else ""))
    words: Mapping[str, str] = getattr(field, "words", {})
    if code in words:
        text = words[code].replace("{name}", prefix + name).replace("{detail}", str(detail))
        return v1_error(text, getattr(field, "error_type", "error-invalid-params"))
    return serializers.ValidationError(errors)


# --- pagination ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    offset: int
    count: int
    order_by: list[str]


class PageInput(V1Input):
    """offset (default 0), count (default 50, at most 100; 0 means the default) and sort over
    `sortable` (API name -> ORM field), `default_sort` without one: every list endpoint's.
    Validated, the page is `page`."""

    offset = Count("How many to skip (default 0).")
    count = Count("How many to answer (default 50, at most 100).")
    sort = Sort(help_text='A JSON object such as {"name": 1} (1 ascending, -1 descending).')

    sortable: ClassVar[Mapping[str, str]] = {}
    default_sort: ClassVar[Sequence[str]] = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        count = min(attrs["count"] or DEFAULT_COUNT, MAX_COUNT)
        order_by = attrs["sort"] or list(self.default_sort)
        return {**attrs, "page": Page(offset=attrs["offset"] or 0, count=count, order_by=order_by)}


def paginated(key: str, queryset: QuerySet[M], page: Page, shape: Callable[[M], Any]) -> Response:
    """`{key: [...], count, offset, total, success}`: two queries (the total and the page)."""
    total = queryset.count()
    items = [
        shape(item)
        for item in queryset.order_by(*page.order_by)[page.offset : page.offset + page.count]
    ]
    return ok({key: items, "count": len(items), "offset": page.offset, "total": total})


# --- who a call names ----------------------------------------------------------------------------


class UserLookup(V1Input):
    """Who a call names: `userId`, `username` or `user`, as Rocket.Chat's getUserFromParams
    reads them (accounts.selectors.user_from_params); a view's Input adds these fields."""

    userId = Text("The user's id (or give username).")
    username = Text()
    user = Text("username's other name.")
