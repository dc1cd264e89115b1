"""DDP methods: the registry the apps fill, the per-call context, and the budgets a call spends.
The methods themselves live with the services they call (accounts/realtime.py,
permissions/realtime.py, rooms/realtime.py), each registered from its app's AppConfig.ready()
with `register`; a name nobody registered is Meteor's "Method '…' not found".

Each method is a plain function run in a worker thread (chat_project.realtime.sync) that calls
the same services as the REST views; a service's ApiError becomes a Meteor error with the same
error type and message.

Before it runs, a call spends from its caller's budgets (chat_project.http.ratelimit.spend), in
the shared cache, so they hold across all of a user's sockets and every process: the method's own
(Rocket.Chat's DDP rate limit, per user or, before login, per address: REALTIME_SEND_RATE for
sendMessage, REALTIME_METHOD_RATE for the others) and, for a method that does what a REST route
does, that route's budget too, which the user's REST requests draw from as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chat_project.http import ratelimit
from chat_project.http.errors import ApiError
from chat_project.realtime import errors, sync

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection

Func = Callable[["Call", list[Any]], Any]
# The signed-in user behind a login (a token id), or None once that login is revoked, expired or
# its user deactivated. The accounts app registers it (check_logins_with); the transport knows
# no token rules of its own.
LoginCheck = Callable[[int], Any]
_UNKNOWN = object()  # a Call's user, not looked up yet
logger = logging.getLogger(__name__)


class Call:
    """What a method may know of its caller, snapshotted when the call starts, and what it
    changes there (a login or logout). A call comes over a socket (`on_socket`, whose changes
    `apply` makes to the connection on the event loop when it returns) or over REST's
    method.call (chat_project.realtime.over_rest: no connection, so `conn_id` is None and a
    login or logout changes nothing but the tokens, as the method's services do)."""

    def __init__(
        self,
        name: str,
        *,
        address: str,
        conn_id: str | None = None,
        user_id: str | None = None,
        username: str | None = None,
        token_id: int | None = None,
        user: Any = _UNKNOWN,
    ) -> None:
        self.name = name
        self.conn_id, self.address = conn_id, address
        self.user_id, self.username, self.token_id = user_id, username, token_id
        # A caller already checked (REST's authentication did it for this request), or looked
        # up on first use.
        self._user: Any = user
        self.params: list[Any] = []  # a subscription's parameters (streams.open_subscription)
        self.login: dict[str, Any] | None = None
        self.logout = False
        self.login_gone = False

    @classmethod
    def on_socket(cls, conn: Connection, name: str) -> Call:
        return cls(
            name,
            address=conn.address,
            conn_id=conn.id,
            user_id=conn.user_id,
            username=conn.username,
            token_id=conn.token_id,
        )

    @property
    def user(self) -> Any:
        """The signed-in user (accounts' User), checked afresh: a revoked or expired login, or a
        deactivated user, ends the connection's login (one indexed query, as a REST request
        costs)."""
        user = self.caller()
        if user is None:
            self.login_gone = self.token_id is not None
            raise errors.not_logged_in(self.name)
        return user

    def caller(self) -> Any:
        """The signed-in user, or None: not signed in, or a login that has gone (which `user`
        refuses, ending the connection's login)."""
        if self._user is _UNKNOWN:
            self._user = None if self.token_id is None else login_check()(self.token_id)
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
    rate: str  # the setting that holds its own rate, per caller ("5/s")
    route: str | None  # the REST route (URL name) whose budget it shares, if any

    def run(self, call: Call, params: list[Any]) -> Any:
        try:
            self.spend_budgets(call)
            if self.login_required:
                call.user  # noqa: B018 - checks the login before any work
            return self.func(call, params)
        except ApiError as exc:
            raise errors.from_api_error(exc, call.name) from None

    def spend_budgets(self, call: Call) -> None:
        """Rocket.Chat's DDP rate limit, per caller across all their sockets, then the twin REST
        route's budget; over either, its too-many-requests error (and the call does nothing)."""
        if not settings.RATELIMIT_ENABLE:
            return
        caller = ratelimit.caller_key(call.caller(), call.address)
        if caller is None:
            return
        budgets = [(f"ddp:{call.name}", ratelimit.budget_of(getattr(settings, self.rate)))]
        if self.route is not None:
            budgets.append(ratelimit.route_budget(self.route))
        for budget, allowed in budgets:
            usage = ratelimit.spend(budget, caller, allowed)
            if usage is not None and usage.exceeded:
                raise errors.too_many_requests(usage.wait_ms)


REGISTRY: dict[str, Method] = {}
_login_check: LoginCheck | None = None


def register(
    name: str,
    func: Func,
    *,
    login: bool = True,
    rate: str = "REALTIME_METHOD_RATE",
    route: str | None = None,
) -> None:
    """Makes `func` the DDP method `name` (called from an app's AppConfig.ready()). `login`: only
    for a signed-in connection. `rate`: the setting holding its own limit per caller. `route`:
    the URL name of the REST route doing the same, whose budget each call also spends. A name
    taken by another function is a configuration error: two apps would answer one method."""
    spec = Method(func, login, rate, route)
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


def lookup(name: str) -> Method:
    """The method registered as `name`; Meteor's "Method '…' not found" otherwise."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise errors.method_not_found(name)
    return spec


def invoke(call: Call, params: list[Any]) -> Any:
    """Runs the method `call.name` in this thread (REST's method.call): the socket's rules,
    budgets and errors. Raises MeteorError."""
    return lookup(call.name).run(call, params)


async def call(conn: Connection, name: str, params: list[Any]) -> Any:
    spec = lookup(name)
    context = Call.on_socket(conn, name)
    try:
        return await sync.run(spec.run, context, params)
    finally:
        await context.apply(conn)


def result_frame(method_id: str, name: str, run: Callable[[], Any]) -> dict[str, Any]:
    """DDP's `result` frame for a call `run` makes (REST's method.call answers it; the socket
    builds the same from its awaited call: protocol.method)."""
    try:
        return answer_frame(method_id, run())
    except Exception as exc:
        return error_frame(method_id, name, exc)


def answer_frame(method_id: str, result: Any) -> dict[str, Any]:
    """A call's `result` frame: its result, none for None."""
    answer: dict[str, Any] = {"msg": "result", "id": method_id}
    if result is not None:
        answer["result"] = result
    return answer


def error_frame(method_id: str, name: str, exc: Exception) -> dict[str, Any]:
    """A failed call's `result` frame: its Meteor error; any other exception is logged (call it
    where it is being handled) and answered as Meteor's internal server error."""
    if isinstance(exc, errors.MeteorError):
        return {"msg": "result", "id": method_id, "error": exc.body()}
    logger.exception("realtime: method %s failed", name)
    return {"msg": "result", "id": method_id, "error": errors.INTERNAL.body()}
