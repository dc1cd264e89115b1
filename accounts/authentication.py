"""The one way a request proves who it is."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.models import LoginToken, User
from accounts.tokens import verify_login_token


class LoginTokenAuthentication(BaseAuthentication):
    """`X-Auth-Token` with `X-User-Id` (Rocket.Chat), or `Authorization: Bearer <token>`.

    Rocket.Chat's pair must come together and the token must belong to that user; a bearer
    token names its user itself. No credentials at all leaves the request anonymous (views
    that need a user then answer 401); bad credentials are a 401 at once. `request.auth` is
    the LoginToken, so logout can revoke exactly the one that made the call.
    """

    def authenticate(self, request: Request) -> tuple[User, LoginToken] | None:
        secret = request.META.get("HTTP_X_AUTH_TOKEN", "").strip()
        user_id: str | None = request.META.get("HTTP_X_USER_ID", "").strip()
        if not secret and not user_id:
            scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer":
                return None
            secret, user_id = secret.strip(), None
        if not secret or user_id == "":
            raise AuthenticationFailed()
        token = verify_login_token(secret, user_id=user_id)
        if token is None:
            raise AuthenticationFailed()
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Having one makes DRF answer "not signed in" with 401 rather than 403.
        return 'Bearer realm="api"'
