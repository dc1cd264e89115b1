"""The accounts app's realtime API (Meteor's DDP): login, logout, presence, and the user streams.

Thin, as the v1 views are: each method checks its parameters (chat_project.realtime.params),
then calls the same services as the REST API (accounts.services, accounts.tokens,
accounts.presence), so the login guard, the tokens and their revocation are the REST API's.
`register` adds them to the transport's registries; AccountsConfig.ready() calls it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings

from accounts import presence
from accounts.services import log_in, log_out, reset_password, send_password_reset
from accounts.tokens import (
    issue_login_token,
    issued_token,
    live_logins,
    user_of_live_login,
    verify_login_token,
)
from chat_project.http.errors import InvalidParams, LoginFailed, ResetTokenExpired
from chat_project.realtime import errors, methods, streams, sync
from chat_project.realtime.ejson import date
from chat_project.realtime.errors import MeteorError
from chat_project.realtime.events import NOTIFY_ALL, NOTIFY_LOGGED, NOTIFY_USER, USER_PRESENCE
from chat_project.realtime.hub import attach_to_every_hub
from chat_project.realtime.methods import Call
from chat_project.realtime.params import param
from chat_project.realtime.streams import Grant, refuse, signed_in

if TYPE_CHECKING:
    from chat_project.realtime.hub import Hub

logger = logging.getLogger(__name__)

# --- login ----------------------------------------------------------------------------------

LOGGED_OUT_BY_SERVER = "You've been logged out by the server. Please log in again."
LOGIN_FAILED = "User not found"  # Rocket.Chat's one answer, so no account's existence leaks
DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


def login(call: Call, params: list[Any]) -> dict[str, Any]:
    """Meteor's login: {"resume": token}, or {"user": {"username"|"email"}, "password":
    {"digest", "algorithm": "sha-256"} or the plain password}. The REST login's tokens, guard
    and errors; the result is {id, token, tokenExpires, type}."""
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
        token = issued_token(secret)
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


def logout(call: Call, params: list[Any]) -> None:
    """Ends this login (its token is revoked, so other sockets and REST clients using it are
    logged out too); the connection stays up, signed out."""
    if call.token_id is not None:
        log_out(token_id=call.token_id, origin=call.conn_id)
    call.logout = True


# --- forgotten passwords --------------------------------------------------------------------


def send_forgot_password_email(call: Call, params: list[Any]) -> bool:
    """sendForgotPasswordEmail(email): users.forgotPassword's service (its rate limits, and the
    same answer whether the address is known or not)."""
    email = param(call, params, 0, str)
    send_password_reset(email=email, address=call.address)
    return True


def reset_password_method(call: Call, params: list[Any]) -> dict[str, Any]:
    """Meteor's resetPassword(token, newPassword): the mailed link's token sets a new password
    (the password policy's rules) and logs this connection in, as the login method answers
    ({id, token, tokenExpires, type}); every other login of the user ends."""
    token, password = param(call, params, 0, str), param(call, params, 1, str)
    try:
        user = reset_password(token=token, password=password)
    except ResetTokenExpired:
        raise MeteorError(403, "Token expired") from None
    except InvalidParams as exc:
        raise MeteorError(exc.error_type, exc.message) from None
    secret = issue_login_token(user=user)
    login_token = issued_token(secret)
    call.login = {
        "user_id": user.pk,
        "username": user.username,
        "token_id": login_token.pk,
        "token_expires": login_token.expires_at,
    }
    return {
        "id": user.pk,
        "token": secret,
        "tokenExpires": date(login_token.expires_at),
        "type": "password",
    }


# --- presence -------------------------------------------------------------------------------


def set_user_status(call: Call, params: list[Any]) -> None:
    """setUserStatus(status, statusText): the status one chooses (online, away, busy, offline
    to look invisible) and one's status text; either may be null to leave it."""
    status = param(call, params, 0, str, optional=True)
    note = param(call, params, 1, str, optional=True)
    presence.set_status(user_id=call.user.pk, status=status or None, text=note)


def set_default_status(call: Call, params: list[Any]) -> bool:
    presence.set_status(user_id=call.user.pk, status=param(call, params, 0, str))
    return True


def connection_method(status: str) -> methods.Func:
    def set_own(call: Call, params: list[Any]) -> bool | None:
        """This connection's own status (clients say away when idle); nothing when signed out,
        as Rocket.Chat does, or when called over REST (no connection to set it on)."""
        if call.user_id is None or call.conn_id is None:
            return None  # signed out, or over REST's method.call: no connection of one's own
        return presence.set_connection_status(
            user_id=call.user_id, conn_id=call.conn_id, status=status
        )

    return set_own


set_online = connection_method(presence.ONLINE)
set_away = connection_method(presence.AWAY)


def user_presence(call: Call, event_name: str) -> Grant:
    """`<uid>`: that user's status changes, [[username, code, statusText]], for any signed-in
    user. Or, as Rocket.Chat's web client asks, "" with {"added": [uids]}: one subscription
    watching those users (at most WATCH_MAX), each one's present status sent at once."""
    signed_in(call)
    if event_name:
        return Grant()
    options = call.params[1] if len(call.params) > 1 else None
    added = options.get("added") if isinstance(options, dict) else None
    if (
        not isinstance(added, list)
        or len(added) > presence.WATCH_MAX
        or not all(isinstance(uid, str) for uid in added)
    ):
        raise errors.MeteorError("error-invalid-params", "Name the users to watch")
    initial = presence.shown_to_watchers(added)
    return Grant(event_names=[uid for uid, _ in initial], initial=initial)


# --- the user streams -----------------------------------------------------------------------


def notify_user(call: Call, event_name: str) -> Grant:
    """`<uid>/<event>`: a user's own notifications, to that user only. Any event under one's own
    id, as Rocket.Chat's rule allows (clients subscribe to `uiInteraction`, `otr`, `webrtc`, …
    and wait for `ready`); another user's id is refused."""
    user = signed_in(call)
    uid, _, _event = event_name.partition("/")
    if uid != user.pk:
        raise refuse()
    return Grant()


def notify_logged(call: Call, event_name: str) -> Grant:
    """Events for every signed-in user (user-status, Users:NameChanged, roles-change...)."""
    signed_in(call)
    if not event_name:
        raise refuse()
    return Grant()


# Rocket.Chat's stream-notify-all events that this server sends.
NOTIFY_ALL_EVENTS = ("public-settings-changed",)


def notify_all(call: Call, event_name: str) -> Grant:
    """Events for everyone, signed in or not (public-settings-changed), as Rocket.Chat's."""
    if event_name not in NOTIFY_ALL_EVENTS:
        raise refuse()
    return Grant()


# --- logins ended behind the signals' back ---------------------------------------------------


async def recheck_logins(hub: Hub) -> None:
    """Every REALTIME_LOGIN_RECHECK_SECONDS, closes (4001) this process's sockets whose login
    ended without an event: a user deactivated by a queryset's update() or raw SQL, a token
    deleted by hand, a revocation published while Redis was away. Revocations through Django
    close them at once (accounts.tokens); expiry, within the heartbeat's step (ddp)."""
    while True:
        await asyncio.sleep(settings.REALTIME_LOGIN_RECHECK_SECONDS)
        logins = [
            (conn, conn.token_id)
            for conns in hub.by_user.values()
            for conn in conns
            if conn.token_id is not None
        ]
        if not logins:
            continue
        try:
            live = await sync.run(live_logins, [token_id for _, token_id in logins])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away: try again next time
            logger.warning("realtime: logins not rechecked: %s", exc)
            continue
        for conn, token_id in logins:
            if conn.token_id == token_id and token_id not in live:
                conn.end_login()


def watch_logins(hub: Hub) -> None:
    hub.jobs.append(partial(recheck_logins, hub))


def register() -> None:
    """Adds the accounts app's methods, streams, login check and presence tracker to the
    realtime transport (AccountsConfig.ready())."""
    methods.check_logins_with(user_of_live_login)
    attach_to_every_hub(presence.attach)
    attach_to_every_hub(watch_logins)
    methods.register("login", login, login=False)
    methods.register("logout", logout, login=False)
    methods.register("sendForgotPasswordEmail", send_forgot_password_email, login=False)
    methods.register("resetPassword", reset_password_method, login=False)
    methods.register("setUserStatus", set_user_status)
    methods.register("UserPresence:setDefaultStatus", set_default_status)
    methods.register("UserPresence:online", set_online, login=False)
    methods.register("UserPresence:away", set_away, login=False)
    streams.register(NOTIFY_USER, notify_user)
    streams.register(NOTIFY_LOGGED, notify_logged)
    streams.register(NOTIFY_ALL, notify_all)
    streams.register(USER_PRESENCE, user_presence)
