"""DDP methods: the registry the apps fill, the per-call context, and the per-connection rate
limit. The methods themselves live with the services they call (accounts/realtime.py,
permissions/realtime.py, rooms/realtime.py), each registered from its app's AppConfig.ready()
with `register`; a name nobody registered is Meteor's "Method '…' not found".

Each method is a plain function run in a worker thread (chat_project.realtime.sync) that calls
the same services as the REST views; a service's ApiError becomes a Meteor error with the same
error type and message.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chat_project.http.errors import ApiError
from chat_project.realtime import errors, sync
from chat_project.realtime.errors import MeteorError

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection

Func = Callable[["Call", list[Any]], Any]
# The signed-in user behind a login (a token id), or None once that login is revoked, expired or
# its user deactivated. The accounts app registers it (check_logins_with); the transport knows
# no token rules of its own.
LoginCheck = Callable[[int], Any]


class Call:
    """What a method may know of its connection, snapshotted when the call starts, and what it
    changes there (a login or logout), applied on the event loop when it returns."""

    def __init__(self, conn: Connection, name: str) -> None:
        self.name = name
        self.conn_id, self.address = conn.id, conn.address
        self.user_id, self.username, self.token_id = conn.user_id, conn.username, conn.token_id
        self._user: Any = None
        self.params: list[Any] = []  # a subscription's parameters (streams.open_subscription)
        self.login: dict[str, Any] | None = None
        self.logout = False
        self.login_gone = False

    @property
    def user(self) -> Any:
        """The signed-in user (accounts' User), checked afresh: a revoked or expired login, or a
        deactivated user, ends the connection's login (one indexed query, as a REST request
        costs)."""
        if self._user is None:
            if self.token_id is None:
                raise errors.not_logged_in(self.name)
            user = login_check()(self.token_id)
            if user is None:
                self.login_gone = True
                raise errors.not_logged_in(self.name)
            self._user = user
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
_login_check: LoginCheck | None = None
_RATE = re.compile(r"^(\d+)/(\d*)([smhd]?)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, float]:
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, many, unit = match.groups()
    return int(count), int(many or 1) * _UNIT[unit or "s"]


def register(
    name: str, func: Func, *, login: bool = True, rate: str = "REALTIME_METHOD_RATE"
) -> None:
    """Makes `func` the DDP method `name` (called from an app's AppConfig.ready()). `login`: only
    for a signed-in connection. `rate`: the setting holding its per-connection limit. A name
    taken by another function is a configuration error: two apps would answer one method."""
    spec = Method(func, login, rate)
    if REGISTRY.get(name, spec) != spec:
        raise ImproperlyConfigured(f"the realtime method {name!r} is registered twice")
    REGISTRY[name] = spec


def check_logins_with(check: LoginCheck) -> None:
    """Sets how a call's login is checked (the accounts app, from its AppConfig.ready())."""
    global _login_check
    _login_check = check


def login_check() -> LoginCheck:
    if _login_check is None:
        raise ImproperlyConfigured("no app registered how realtime logins are checked")
    return _login_check


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
