"""What every operation of the OpenAPI schema shares, declared once: the error envelope, the two
ways to sign in, the rate-limit and request-id headers, and the error statuses each endpoint can
answer. A v1 view's parameters come from its input serializer (`Input`, which also parses them);
views declare their success bodies with `@extend_schema`; the hooks here, named in
SPECTACULAR_SETTINGS, add the rest to every operation.

`make lint` generates the schema with warnings as errors; tests/test_openapi_schema.py checks
that every /api/ route is in it, and tests/test_schemathesis.py fuzzes a live server against it.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.urls import Resolver404, resolve
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    inline_serializer,
)
from rest_framework import serializers

# --- shapes the views share ----------------------------------------------------------------------


ERROR_ENVELOPE = {
    "type": "object",
    "description": "The one error body every /api/ endpoint answers (errors.render_error).",
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "status": {"type": "string", "description": '"fail" (validation, room access) or "error"'},
        "message": {"type": "string"},
        "error": {"type": "string", "description": "Rocket.Chat's text; v1 adds [errorType]."},
        "errorType": {"type": "string"},
        "detailed_error": {"type": "string"},
        "request_id": {"type": "string"},
        "status_code": {"type": "integer"},
    },
    "required": [
        "success",
        "status",
        "message",
        "error",
        "errorType",
        "detailed_error",
        "request_id",
        "status_code",
    ],
}


def anything(help_text: str = "") -> serializers.DictField:
    """A JSON object whose fields are not spelled out."""
    return serializers.DictField(help_text=help_text)


ERRORS = {
    "400": "Bad request: a parameter is missing, of the wrong type or refused.",
    "401": "Not signed in, or the credentials are not valid.",
    "403": "Signed in, but not allowed.",
    "404": "No such thing.",
    "405": "Method not allowed.",
    "413": "The request body is larger than REQUEST_MAX_BYTES.",
    "415": "The body is in a format the endpoint does not read.",
    "429": "Too many requests: wait Retry-After seconds.",
    "500": "The server failed.",
    "503": "A service the endpoint needs is unavailable.",
}


class UserBrief(serializers.Serializer):
    _id = serializers.CharField()
    username = serializers.CharField()
    name = serializers.CharField(required=False)


class NullableUserBrief(serializers.Serializer):
    """A message's author or editor: nulls once their account is deleted."""

    _id = serializers.CharField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True, required=False)


class Email(serializers.Serializer):
    address = serializers.CharField()
    verified = serializers.BooleanField()


class User(serializers.Serializer):
    """A user; emails, roles and dates only for themselves or view-full-other-user-info."""

    _id = serializers.CharField()
    username = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    active = serializers.BooleanField()
    type = serializers.CharField()
    utcOffset = serializers.IntegerField()
    emails = Email(many=True, required=False)
    roles = serializers.ListField(child=serializers.CharField(), required=False)


class Message(serializers.Serializer):
    _id = serializers.CharField()
    rid = serializers.CharField()
    msg = serializers.CharField(allow_blank=True)
    ts = serializers.CharField(help_text="ISO 8601, in milliseconds.")
    u = NullableUserBrief()
    _updatedAt = serializers.CharField()
    alias = serializers.CharField(required=False)
    emoji = serializers.CharField(required=False)
    avatar = serializers.CharField(required=False)
    groupable = serializers.BooleanField(required=False)
    attachments = serializers.ListField(child=anything(), required=False)
    editedAt = serializers.CharField(required=False)
    editedBy = NullableUserBrief(required=False)


class RoomBase(serializers.Serializer):
    _id = serializers.CharField()
    name = serializers.CharField()
    t = serializers.CharField(help_text='"c" a public channel, "p" a private group.')
    msgs = serializers.IntegerField()
    ts = serializers.CharField()
    ro = serializers.BooleanField()
    default = serializers.BooleanField()
    archived = serializers.BooleanField()
    topic = serializers.CharField(allow_blank=True)
    _updatedAt = serializers.CharField()
    u = UserBrief(required=False)
    lm = serializers.CharField(required=False)


class Room01(RoomBase):
    """A room as the 0.1 API shows it."""

    usernames = serializers.ListField(child=serializers.CharField())


class Room(RoomBase):
    """A channel or private group as v1 shows it."""

    t = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["c", "p"], help_text='"c" a public channel, "p" a private group.'
    )
    fname = serializers.CharField()
    usersCount = serializers.IntegerField()
    sysMes = serializers.BooleanField()
    description = serializers.CharField(allow_blank=True)
    announcement = serializers.CharField(allow_blank=True)


class DirectRoom(serializers.Serializer):
    """A direct message's room (t "d"), as Rocket.Chat's IRoom of that type: no name (each
    member's subscription names it); its members where the answer lists them."""

    _id = serializers.CharField()
    t = serializers.ChoiceField(choices=["d"], help_text='"d" a direct message.')
    usernames = serializers.ListField(child=serializers.CharField(), required=False)
    uids = serializers.ListField(child=serializers.CharField(), required=False)
    usersCount = serializers.IntegerField()
    msgs = serializers.IntegerField()
    ts = serializers.CharField()
    ro = serializers.BooleanField()
    default = serializers.BooleanField()
    sysMes = serializers.BooleanField()
    _updatedAt = serializers.CharField()
    lm = serializers.CharField(required=False)
    topic = serializers.CharField(required=False)


def any_room(*, many: bool = False) -> Any:
    """A channel, a private group or a direct message's room: the lists of rooms of every
    type (rooms.get, rooms.adminRooms) and rooms.info."""
    return PolymorphicProxySerializer(
        component_name="AnyRoom",
        serializers=[Room, DirectRoom],
        resource_type_field_name=None,
        many=many,
    )


class Role(serializers.Serializer):
    _id = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    protected = serializers.BooleanField()
    mandatory2fa = serializers.BooleanField()
    _updatedAt = serializers.CharField(required=False)


class Permission(serializers.Serializer):
    _id = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    _updatedAt = serializers.CharField()


def shape(name: str, fields: Mapping[str, Any], **options: Any) -> Any:
    """An object with these fields, as a component named `name` (drf-spectacular's
    inline_serializer; `many=True` for a list of them)."""
    return inline_serializer(name, dict(fields), **options)


def success_01(name: str, fields: dict[str, Any] | None = None) -> Any:
    """A 0.1 success body: `"status": "success"` and `fields`."""
    return inline_serializer(name, {"status": serializers.CharField(), **(fields or {})})


def v1_success(name: str, fields: dict[str, Any] | None = None) -> Any:
    """A v1 success body: `fields` and `"success": true`."""
    return inline_serializer(
        name, {**(fields or {}), "success": serializers.BooleanField(help_text="Always true.")}
    )


def v1_page(name: str, key: str, item: serializers.Serializer) -> Any:
    """A v1 page: `{key: [...], count, offset, total, success}`."""
    return v1_success(
        name,
        {
            key: item,
            "count": serializers.IntegerField(),
            "offset": serializers.IntegerField(),
            "total": serializers.IntegerField(),
        },
    )


V1_DONE = v1_success("Done")


def body(name: str, fields: dict[str, Any]) -> Any:
    """A request body (JSON, a form or multipart) with these fields."""
    return inline_serializer(name, fields)


def text(
    help_text: str = "", *, required: bool = False, blank: bool | None = None
) -> serializers.CharField:
    """A string: a required one must not be empty; an empty or null optional one counts as
    absent (unless `blank=False`: then both are refused)."""
    allow_blank = not required if blank is None else blank
    return serializers.CharField(
        required=required,
        allow_blank=allow_blank,
        allow_null=not required and blank is None,
        help_text=help_text,
    )


def flag(
    help_text: str = "", *, required: bool = False, nullable: bool = True
) -> serializers.BooleanField:
    """true or false (from a form or query string, as text); an optional one may be null."""
    return serializers.BooleanField(
        required=required, allow_null=nullable and not required, help_text=help_text
    )


QUERY_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "required text": {"type": "string", "minLength": 1},
    "count": {"type": "integer", "minimum": 0},
    "boolean": {"type": "boolean"},
    "time": {"type": "string", "format": "date-time"},
    # An empty one counts as absent.
    "time or empty": {
        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]
    },
}


def query(name: str, help_text: str = "", *, kind: str = "text", required: bool = False) -> Any:
    """A query parameter of one of the QUERY_TYPES."""
    if required and kind == "text":
        kind = "required text"
    return OpenApiParameter(
        name,
        QUERY_TYPES[kind],
        OpenApiParameter.QUERY,
        required=required,
        description=help_text,
    )


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error statuses an endpoint answers beyond those every one does; `shared_parts` gives
    each the envelope."""
    return {status: OpenApiResponse(description=ERRORS[str(status)]) for status in statuses}


# --- authentication ------------------------------------------------------------------------------


BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "The same login token as X-Auth-Token, naming its user itself.",
}


class ApiSchema(AutoSchema):
    """Operation ids and tags from the path, as Rocket.Chat names its endpoints:
    `v1_channels.info_get`, tagged `channels`; the 0.1 API's are tagged `0.1`."""

    def get_operation_id(self) -> str:
        name = re.sub(r"[^A-Za-z0-9.]+", "_", self.path.removeprefix("/api/")).strip("_")
        return f"{name}_{self.method.lower()}"

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular takes none
        """The view's own docstring: one it inherits (V1View's, RoomView's) says nothing about
        the endpoint."""
        own = type(self.view).__dict__.get("__doc__")
        return inspect.cleandoc(own) if own else ""

    def get_override_parameters(self) -> list[Any]:
        """A GET's query parameters: the fields of its view's `Input` (chat_project.http.v1),
        the serializer that also parses them."""
        declared = list(super().get_override_parameters())
        given = getattr(self.view, "Input", None)
        return [given, *declared] if given is not None and self.method == "GET" else declared

    def get_request_serializer(self) -> Any:
        """A body's fields: its view's `Input`, unless `@extend_schema(request=...)` says."""
        given = getattr(self.view, "Input", None)
        return given if given is not None else super().get_request_serializer()

    def get_tags(self) -> list[str]:
        rest = self.path.removeprefix("/api/")
        if not rest.startswith("v1/"):
            return ["0.1"]
        name = rest.removeprefix("v1/")
        return [name.split(".")[0] if "." in name else "session"]


# --- hooks ---------------------------------------------------------------------------------------

Endpoint = tuple[str, str, str, Callable[..., Any]]


def only_api_endpoints(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    """The API's own routes: under /api/, without the schema and its docs page. Each route
    takes an optional trailing slash (`^version/?$`); the schema names it without."""
    kept = []
    for path, path_regex, method, callback in endpoints:
        if not path.startswith("/api/") or path in ("/api/schema/", "/api/docs/"):
            continue
        kept.append((path.rstrip("/"), path_regex, method, callback))
    return kept


HEADERS = {
    "X-Request-Id": "The request's id (the client's own X-Request-Id, if sane), as in the body.",
    "X-Version-Id": "The server's version.",
    "X-Ratelimit-Limit": "Requests allowed in the window (absent when not counted).",
    "X-Ratelimit-Remaining": "Requests left in the window.",
    "X-Ratelimit-Reset": "Seconds until the window starts afresh.",
}


PROBE = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "latency_ms": {"type": "number"}},
    "required": ["ok"],
}
HEALTH = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
        "database": PROBE,
        "cache": PROBE,
        "version": {"type": "string"},
        "success": {"type": "boolean"},
    },
    "required": ["status", "database", "cache", "version", "success"],
}
# Plain Django views under /api/ (not DRF's, so drf-spectacular does not see them), by hand.
PLAIN_VIEWS: dict[str, dict[str, Any]] = {
    "/api/health": {
        "get": {
            "operationId": "health_get",
            "description": "Can this server answer, and are its database and cache reachable? "
            "For load balancers and monitors (chat_project.http.health).",
            "tags": ["0.1"],
            "security": [{}],
            "responses": {
                "200": {
                    "description": '"ok", or "degraded" when only the cache is gone.',
                    "content": {"application/json": {"schema": HEALTH}},
                },
                "503": {
                    "description": '"down": the database is unreachable.',
                    "content": {"application/json": {"schema": HEALTH}},
                },
            },
        }
    }
}


def plain_views() -> dict[str, dict[str, Any]]:
    """The PLAIN_VIEWS the URLconf routes."""
    routed = {}
    for path, operations in PLAIN_VIEWS.items():
        try:
            resolve(path)
        except Resolver404:
            continue
        routed[path] = copy.deepcopy(operations)
    return routed


def shared_parts(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Adds to every operation the headers every answer carries and the errors it can answer,
    all in the one envelope, and offers Bearer wherever X-Auth-Token is taken."""
    components = result.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = BEARER
    components["headers"] = {
        name: {"description": text, "schema": {"type": "string"}} for name, text in HEADERS.items()
    }
    components.setdefault("schemas", {})["Error"] = ERROR_ENVELOPE
    components["responses"] = {
        status: {
            "description": text,
            "headers": headers_ref(),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status, text in ERRORS.items()
    }
    result["paths"] = dict(sorted({**result["paths"], **plain_views()}.items()))
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                # A query string carries no null: an input serializer's optional field (which
                # takes JSON's null in a body) is just optional there.
                if parameter["in"] == "query":
                    parameter["schema"].pop("nullable", None)
            secured = any("authToken" in req for req in operation.get("security", []))
            if secured:
                operation["security"] = [*operation["security"], {"bearerAuth": []}]
            for status, response in operation["responses"].items():
                if status < "400" or "content" in response:
                    response.setdefault("headers", {}).update(headers_ref())
            statuses = ["400", "429", "500"]
            if "{" in path:
                statuses.append("404")  # the 0.1 API's /rooms/{room_id}/...
            if secured:
                statuses += ["401", "403"]
            if method in ("post", "put", "patch"):
                statuses += ["413", "415"]
            for status in statuses:
                operation["responses"].setdefault(status, {})
            for status, response in operation["responses"].items():
                # Declared by the view without a body, or added here: the envelope, by reference.
                if status >= "400" and "content" not in response:
                    operation["responses"][status] = {"$ref": f"#/components/responses/{status}"}
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return result


def headers_ref() -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in HEADERS}
