"""Django's own password logins (the admin's login form, `Client.login` in a shell) go through
the API's one password check, so that no door skips the login guard.

django.contrib.auth.authenticate() asks the backends in AUTHENTICATION_BACKENDS; this is the only
one. Django's ModelBackend would check the password itself, unguarded.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User
from accounts.services import authenticate_with_password
from chat_project.http.errors import LoginFailed
from chat_project.http.ratelimit import client_address

# Where an authenticate() call without a request comes from: this process itself (a shell, a
# management command, a test's Client.login), counted as one address of its own.
IN_PROCESS = "in-process"


class GuardedPasswordBackend(ModelBackend):
    """ModelBackend (its permissions for the admin) whose password check is
    authenticate_with_password: the username or the e-mail, the guard's counts and blocks,
    the same hashing work for unknown users. A refused attempt (wrong password, unknown or
    inactive user) gives None, as Django expects; the guard's refusals (LoginBlockedForUser,
    LoginBlockedForIp, RateLimited, LoginUnavailable) are raised, for the form to show
    (accounts.admin.GuardedAdminLoginForm)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = client_address(request) if request is not None else IN_PROCESS
        try:
            return authenticate_with_password(
                identifier=username, kind="user", password=password, address=address
            )
        except LoginFailed:
            return None
