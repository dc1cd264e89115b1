"""DDP methods: the registry, the per-call context, and the core methods (login, logout,
sendMessage, stream-notify-room). Each method is a plain function run in a worker thread
(chat_project.realtime.sync) that calls the same services as the REST views; a service's
ApiError becomes a Meteor error with the same error type and message.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from accounts.models import LoginToken, User
from chat_project.errors import ApiError, LoginFailed
from chat_project.realtime import errors, events, sync
from chat_project.realtime.ejson import date
from chat_project.realtime.errors import MeteorError

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection

Func = Callable[["Call", list[Any]], Any]


class Call:
    """What a method may know of its connection, snapshotted when the call starts, and what it
    changes there (a login or logout), applied on the event loop when it returns."""

    def __init__(self, conn: Connection, name: str) -> None:
        self.name = name
        self.conn_id, self.address = conn.id, conn.address
        self.user_id, self.username, self.token_id = conn.user_id, conn.username, conn.token_id
        self._user: User | None = None
        self.params: list[Any] = []  # a subscription's parameters (streams.open_subscription)
        self.login: dict[str, Any] | None = None
        self.logout = False
        self.login_gone = False

    @property
    def user(self) -> User:
        """The signed-in user, checked afresh: a revoked or expired login, or a deactivated
        user, ends the connection's login (one indexed query, as a REST request costs)."""
        if self._user is None:
            if self.token_id is None:
                raise errors.not_logged_in(self.name)
            token = (
                LoginToken.objects.select_related("user")
                .filter(pk=self.token_id, expires_at__gt=timezone.now(), user__is_active=True)
                .first()
            )
            if token is None:
                self.login_gone = True
                raise errors.not_logged_in(self.name)
            self._user = token.user
        return self._user

    async def apply(self, conn: Connection) -> None:
        if self.logout:
            await conn.log_out_locally()
        if self.login is not None:
            await conn.set_login(**self.login)
        if self.login_gone:
            conn.end_login()


@dataclass(frozen=True)
class Method:
    func: Func
    login_required: bool
    rate: str  # the setting that holds its per-connection rate ("5/s")

    def run(self, call: Call, params: list[Any]) -> Any:
        try:
            if self.login_required:
                call.user  # noqa: B018 - checks the login before any work
            return self.func(call, params)
        except ApiError as exc:
            raise errors.from_api_error(exc, call.name) from None


REGISTRY: dict[str, Method] = {}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd]?)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, float]:
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, many, unit = match.groups()
    return int(count), int(many or 1) * _UNIT[unit or "s"]


def method(
    name: str, *, login: bool = True, rate: str = "REALTIME_METHOD_RATE"
) -> Callable[[Func], Func]:
    """Registers `func` as the DDP method `name`. `login`: only for a signed-in connection.
    `rate`: the setting holding its per-connection limit."""

    def register(func: Func) -> Func:
        REGISTRY[name] = Method(func, login, rate)
        return func

    return register


async def call(conn: Connection, name: str, params: list[Any]) -> Any:
    spec = REGISTRY.get(name)
    if spec is None:
        raise errors.method_not_found(name)
    check_rate(conn, name, parse_rate(getattr(settings, spec.rate)))
    context = Call(conn, name)
    try:
        return await sync.run(spec.run, context, params)
    finally:
        await context.apply(conn)


def check_rate(conn: Connection, name: str, rate: tuple[int, float]) -> None:
    """Rocket.Chat's DDP rate limiter: so many calls of a method per connection per window
    (sendMessage: 5 a second), answered with its too-many-requests error."""
    if not settings.RATELIMIT_ENABLE:
        return
    allowed, seconds = rate
    now = time.monotonic()
    start, count = conn.rate_windows.get(name, (now, 0))
    if now - start >= seconds:
        start, count = now, 0
    if count >= allowed:
        wait_ms = math.ceil((start + seconds - now) * 1000)
        raise MeteorError(
            "too-many-requests",
            "Error, too many requests. Please slow down. You must wait "
            f"{math.ceil(wait_ms / 1000)} seconds before trying again.",
            {"timeToReset": wait_ms},
        )
    conn.rate_windows[name] = (start, count + 1)


# --- parameters -----------------------------------------------------------------------------


def param(call: Call, params: list[Any], index: int, kind: type, *, optional: bool = False) -> Any:
    """params[index] when it is a `kind` (Meteor's check()), else error-invalid-params."""
    if index >= len(params) or params[index] is None:
        if optional:
            return None
        raise errors.invalid_params(call.name)
    value = params[index]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise errors.invalid_params(call.name)
    return value


def text_field(call: Call, body: dict[str, Any], key: str, *, default: str | None = "") -> Any:
    value = body.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise errors.invalid_params(call.name, f"{key} must be a string")
    return value


# --- login ----------------------------------------------------------------------------------

LOGGED_OUT_BY_SERVER = "You've been logged out by the server. Please log in again."
LOGIN_FAILED = "User not found"  # Rocket.Chat's one answer, so no account's existence leaks
DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


@method("login", login=False)
def login(call: Call, params: list[Any]) -> dict[str, Any]:
    """Meteor's login: {"resume": token}, or {"user": {"username"|"email"}, "password":
    {"digest", "algorithm": "sha-256"} or the plain password}. The REST login's tokens, guard
    and errors; the result is {id, token, tokenExpires, type}."""
    from accounts.services import log_in
    from accounts.tokens import token_digest, verify_login_token

    options = param(call, params, 0, dict)
    if "resume" in options:
        secret = options["resume"]
        token = verify_login_token(secret) if isinstance(secret, str) else None
        if token is None:
            raise MeteorError(403, LOGGED_OUT_BY_SERVER)
        kind = "resume"
    elif "user" in options and "password" in options:
        identifier, how = login_identifier(options["user"])
        password, digest = login_password(options["password"])
        if identifier is None or (password is None and digest is None):
            raise MeteorError(400, "Match failed")
        try:
            user, secret = log_in(
                identifier=identifier,
                kind=how,
                password=password or "",
                digest=digest,
                address=call.address,
            )
        except LoginFailed:
            raise MeteorError(401, LOGIN_FAILED) from None
        token = LoginToken.objects.select_related("user").get(digest=token_digest(secret))
        kind = "password"
    else:
        raise MeteorError(400, "Unrecognized options for login request")
    user = token.user
    call.login = {
        "user_id": user.pk,
        "username": user.username,
        "token_id": token.pk,
        "token_expires": token.expires_at,
    }
    return {"id": user.pk, "token": secret, "tokenExpires": date(token.expires_at), "type": kind}


def login_identifier(spec: Any) -> tuple[str | None, str]:
    if isinstance(spec, str):
        return spec, "user"  # Meteor's shorthand: a username or an email
    if isinstance(spec, dict) and len(spec) == 1:
        ((how, value),) = spec.items()
        if how in ("username", "email") and isinstance(value, str) and "\x00" not in value:
            return value, how
    return None, "user"


def login_password(spec: Any) -> tuple[str | None, str | None]:
    """(plain password, None) or (None, SHA-256 hex digest); (None, None) when it is neither."""
    if isinstance(spec, str) and "\x00" not in spec:
        return spec, None
    if isinstance(spec, dict) and spec.get("algorithm") == "sha-256":
        digest = spec.get("digest")
        if isinstance(digest, str) and DIGEST.match(digest):
            return None, digest.lower()
    return None, None


@method("logout", login=False)
def logout(call: Call, params: list[Any]) -> None:
    """Ends this login (its token is revoked, so other sockets and REST clients using it are
    logged out too); the connection stays up, signed out."""
    if call.token_id is not None:
        LoginToken.objects.filter(pk=call.token_id).delete()
        events.logins_ended(token_ids=[call.token_id], origin=call.conn_id)
    call.logout = True


# --- messages -------------------------------------------------------------------------------


@method("sendMessage", rate="REALTIME_SEND_RATE")
def send_message(call: Call, params: list[Any]) -> dict[str, Any]:
    """Rocket.Chat's sendMessage({_id?, rid, msg, alias?, emoji?, avatar?, attachments?}):
    posts as chat.sendMessage does (a client-chosen _id is kept) and returns the message."""
    from rooms.access import access_room
    from rooms.serializers import message_ddp_json
    from rooms.services import send_message as post

    body = param(call, params, 0, dict)
    rid = text_field(call, body, "rid", default=None)
    if not rid:
        raise errors.invalid_params(
            call.name, "The 'rid' property on the message object is missing."
        )
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise errors.invalid_params(call.name, "attachments must be a list")
    groupable = body.get("groupable")
    if groupable is not None and not isinstance(groupable, bool):
        raise errors.invalid_params(call.name, "groupable must be true or false")
    room = access_room(call.user, rid, for_write=True)
    message = post(
        user=call.user,
        room=room,
        text=text_field(call, body, "msg"),
        alias=text_field(call, body, "alias"),
        emoji=text_field(call, body, "emoji"),
        avatar=text_field(call, body, "avatar"),
        attachments=attachments,
        groupable=groupable,
        message_id=text_field(call, body, "_id", default=None),
    )
    return message_ddp_json(message)


# --- typing and other activity ---------------------------------------------------------------

ROOM_ACTIVITY = ("typing", "user-activity")


@method("stream-notify-room")
def notify_room(call: Call, params: list[Any]) -> None:
    """What clients emit on a room: `<rid>/user-activity` [username, ["user-typing"], {}] or
    the older `<rid>/typing` [username, true|false], by a user who may read the room, in
    their own name. Both forms are passed on, so old and new clients see each other type."""
    from rooms.access import can_read_room, get_room

    target = param(call, params, 0, str)
    rid, _, event = target.rpartition("/")
    if event not in ROOM_ACTIVITY or not rid:
        raise errors.not_allowed()
    args = params[1:]
    user = call.user
    if not args or args[0] != user.username:
        raise errors.not_allowed()
    room = get_room(rid)
    if not can_read_room(user, room):
        raise errors.not_allowed()
    if event == "typing":
        typing = bool(args[1]) if len(args) > 1 else False
        activity = ["user-typing"] if typing else []
        events.room_activity(
            room_id=rid, event="typing", args=[user.username, typing], origin=call.conn_id
        )
        events.room_activity(
            room_id=rid,
            event="user-activity",
            args=[user.username, activity, {}],
            origin=call.conn_id,
        )
    else:
        activities = args[1] if len(args) > 1 and isinstance(args[1], list) else []
        extras = args[2] if len(args) > 2 and isinstance(args[2], dict) else {}
        events.room_activity(
            room_id=rid,
            event="user-activity",
            args=[user.username, activities, extras],
            origin=call.conn_id,
        )
        events.room_activity(
            room_id=rid,
            event="typing",
            args=[user.username, "user-typing" in activities],
            origin=call.conn_id,
        )


from chat_project.realtime import presence, room_methods  # noqa: E402, F401
