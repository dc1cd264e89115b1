"""The one way a request proves who it is."""

from __future__ import annotations

import hmac
from typing import cast

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.models import LoginToken, User
from accounts.tokens import verify_login_token

# The outcome of checking a request's credentials, kept on the request: the rate limiter
# (which runs first) and the view share one token lookup.
_OUTCOME = "_login_token_outcome"
Outcome = tuple[User, LoginToken] | None | AuthenticationFailed


def authenticate_http_request(
    request: HttpRequest, *, quiet: bool = False
) -> tuple[User, LoginToken] | None:
    """(user, token) for the request's credentials, or None when it carries none.

    Bad credentials raise AuthenticationFailed, or give None when `quiet`. The token is looked
    up once per request, however often this is asked.
    """
    if not hasattr(request, _OUTCOME):
        setattr(request, _OUTCOME, check_credentials(request))
    outcome: Outcome = getattr(request, _OUTCOME)
    if isinstance(outcome, AuthenticationFailed):
        if quiet:
            return None
        raise outcome
    return outcome


# What was wrong with a request's credentials, in the 401's detailed_error (its message stays
# Rocket.Chat's "You must be logged in to do this.", which clients read).
NO_AUTH_HEADER = "The X-Auth-Token header is missing: send it with X-User-Id."
NO_USER_ID_HEADER = (
    "The X-User-Id header is missing: send it with X-Auth-Token, "
    "or the token alone as Authorization: Bearer <token>."
)
EMPTY_BEARER = "The Authorization header has no token after Bearer."
NOT_A_LIVE_LOGIN = (
    "The {} is not a live login token (unknown, expired or revoked, or its user deactivated): "
    "log in again for a new one."
)
OF_ANOTHER_USER = "The X-Auth-Token is not X-User-Id's: they must come from the same login."


def check_credentials(request: HttpRequest) -> Outcome:
    """`X-Auth-Token` with `X-User-Id` (Rocket.Chat), or `Authorization: Bearer <token>`.

    Rocket.Chat's pair must come together and the token must belong to that user; a bearer token
    names its user itself. Returns (user, token), None for no credentials at all, or the
    AuthenticationFailed to raise, whose detail says which header was missing or did not match.
    """
    secret = request.META.get("HTTP_X_AUTH_TOKEN", "").strip()
    user_id: str | None = request.META.get("HTTP_X_USER_ID", "").strip()
    if not secret and not user_id:
        scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        secret, user_id = secret.strip(), None
        if not secret:
            return AuthenticationFailed(EMPTY_BEARER)
    elif not secret:
        return AuthenticationFailed(NO_AUTH_HEADER)
    elif not user_id:
        return AuthenticationFailed(NO_USER_ID_HEADER)
    # Checked apart from the user id, so that the 401 can say which did not match. A token sent
    # with another user's id counts as used: whoever sent it holds its secret.
    token = verify_login_token(secret)
    if token is None:
        return AuthenticationFailed(
            NOT_A_LIVE_LOGIN.format("X-Auth-Token" if user_id is not None else "bearer token")
        )
    if user_id is not None and not hmac.compare_digest(token.user_id.encode(), user_id.encode()):
        return AuthenticationFailed(OF_ANOTHER_USER)
    return token.user, token


def user_of(request: Request) -> User:
    """The signed-in user of a request that LoginTokenAuthentication let through (a view that
    allows anonymous callers must not ask)."""
    return cast(User, request.user)


class LoginTokenAuthentication(BaseAuthentication):
    """DRF's side of check_credentials. No credentials leave the request anonymous (views that
    need a user then answer 401); bad ones are a 401 at once. `request.auth` is the LoginToken,
    so logout can revoke exactly the one that made the call."""

    def authenticate(self, request: Request) -> tuple[User, LoginToken] | None:
        return authenticate_http_request(request._request)

    def authenticate_header(self, request: Request) -> str:
        # Having one makes DRF answer "not signed in" with 401 rather than 403.
        return 'Bearer realm="api"'
