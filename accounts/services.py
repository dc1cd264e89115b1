"""Every change to users and their logins goes through these functions."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import LoginToken, User
from accounts.selectors import user_for_login
from accounts.tokens import issue_login_token, purge_expired_login_tokens, revoke_login_token
from chat_project.errors import InvalidParams, LoginFailed
from rooms.services import join_default_rooms


def create_user(
    *,
    username: str,
    email: str,
    password: str | None,
    name: str = "",
    is_superuser: bool = False,
    is_active: bool = True,
) -> User:
    """A new user, validated as a whole (name rules, case-insensitive uniqueness).

    Superusers may also sign in to the Django admin. A user created without a password cannot
    log in until one is set. Raises InvalidParams naming the first problem.
    """
    user = User(
        username=username,
        email=email,
        name=name or username,
        is_superuser=is_superuser,
        is_staff=is_superuser,
        is_active=is_active,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        user.full_clean()
    except ValidationError as exc:
        raise invalid_params_from(exc) from None
    try:
        # The constraints are the real guard: two requests may pass full_clean() at once.
        with transaction.atomic():
            user.save(force_insert=True)
            welcome_new_user(user=user)
    except IntegrityError:
        raise InvalidParams("Username or email is already in use.") from None
    return user


def welcome_new_user(*, user: User) -> None:
    """What every new user gets, however they were created: membership of the default rooms."""
    join_default_rooms(user=user)


def log_in(*, identifier: str, kind: str, password: str) -> tuple[User, str]:
    """Checks the credentials and issues a new login token: (user, token secret).

    Unknown user, wrong password and inactive user all raise the same LoginFailed, after the
    same amount of hashing work, so neither the answer nor its timing tells them apart.
    """
    user = user_for_login(identifier, kind=kind)
    if user is None or not user.has_usable_password():
        make_password(password)  # as slow as checking a real hash
        raise LoginFailed()
    if not user.check_password(password) or not user.is_active:
        raise LoginFailed()
    with transaction.atomic():
        purge_expired_login_tokens(user=user)
        secret = issue_login_token(user=user)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, secret


def log_out(*, token: LoginToken) -> None:
    """Revokes the token that made the call, and no other."""
    revoke_login_token(token=token)


def invalid_params_from(exc: ValidationError) -> InvalidParams:
    """A model ValidationError as one readable message ("username: ...") plus all of them."""
    if hasattr(exc, "error_dict"):
        lines = [
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        lines = list(exc.messages)
    return InvalidParams(lines[0], detailed_error="; ".join(lines))
