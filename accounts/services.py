"""Every change to users and their logins goes through these functions."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.login_guard import LoginGuard
from accounts.models import LoginToken, User
from accounts.selectors import user_for_login
from accounts.tokens import (
    issue_login_token,
    purge_expired_login_tokens,
    revoke_login_token,
    verify_login_token,
)
from chat_project.errors import InvalidParams, LoginFailed, bulk_record_error
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
            welcome_new_users(users=[user])
    except IntegrityError:
        raise InvalidParams("Username or email is already in use.") from None
    return user


def welcome_new_users(*, users: list[User]) -> None:
    """What every new user gets, however they were created: the `user` role (and `admin` for
    superusers) and membership of the default rooms. A constant number of queries."""
    User.roles.through.objects.bulk_create(
        [
            User.roles.through(user_id=user.pk, role_id=role)
            for user in users
            for role in (["user", "admin"] if user.is_superuser else ["user"])
        ],
        ignore_conflicts=True,
    )
    join_default_rooms(users=users)


def register_users(*, records: Any) -> list[User]:
    """bulk/register: users from `{"email", "name", "pass"}` records, all or none.

    The whole batch is checked before anything is written: each record's shape, name and email
    rules, the password rules, duplicates inside the batch and names or emails already in use.
    Passwords are then hashed in parallel (argon2 releases the GIL) and everything is inserted
    in bulk in one transaction. Raises InvalidParams naming the first bad record.
    """
    if not isinstance(records, list):
        raise InvalidParams("users must be a list of {email, name, pass} records.")
    if len(records) > settings.BULK_MAX:
        raise InvalidParams(f"At most {settings.BULK_MAX} records per batch, not {len(records)}.")
    users = [user_from_record(index, record) for index, record in enumerate(records)]
    passwords = [record["pass"] for record in records]
    check_unused(users)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        hashes = list(pool.map(make_password, passwords))
    for user, hashed in zip(users, hashes, strict=True):
        user.password = hashed
    try:
        with transaction.atomic():
            User.objects.bulk_create(users)
            welcome_new_users(users=users)
    except IntegrityError:
        raise InvalidParams(
            "A name or email of this batch was registered meanwhile; nothing was created."
        ) from None
    return users


def user_from_record(index: int, record: Any) -> User:
    """An unsaved user from one bulk/register record, checked on its own."""
    if not isinstance(record, dict):
        raise bulk_record_error(index, "expected an object with email, name and pass.")
    for key in ("email", "name", "pass"):
        if not isinstance(record.get(key), str) or not record[key]:
            raise bulk_record_error(index, f"{key}: a non-empty string is required.")
    user = User(username=record["name"], name=record["name"], email=record["email"])
    try:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        problem = invalid_params_from(exc).message.replace("username:", "name:", 1)
        raise bulk_record_error(index, problem) from None
    try:
        validate_password(record["pass"], user)
    except ValidationError as exc:
        raise bulk_record_error(index, f"pass: {' '.join(exc.messages)}") from None
    return user


def check_unused(users: list[User]) -> None:
    """Raises for the first user whose name or email repeats an earlier one of the batch or is
    already registered. Two queries."""
    names = [user.username.lower() for user in users]
    emails = [user.email.lower() for user in users]
    taken_names = set(
        User.objects.alias(lower=Lower("username"))
        .filter(lower__in=names)
        .annotate(taken=Lower("username"))
        .values_list("taken", flat=True)
    )
    taken_emails = set(
        User.objects.alias(lower=Lower("email"))
        .filter(lower__in=emails)
        .annotate(taken=Lower("email"))
        .values_list("taken", flat=True)
    )
    first_name: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for index, (name, email) in enumerate(zip(names, emails, strict=True)):
        if name in taken_names:
            raise bulk_record_error(index, f"name: '{name}' is already in use.")
        if email in taken_emails:
            raise bulk_record_error(index, f"email: '{email}' is already in use.")
        if name in first_name:
            raise bulk_record_error(index, f"name: repeats record #{first_name[name]}.")
        if email in first_email:
            raise bulk_record_error(index, f"email: repeats record #{first_email[email]}.")
        first_name[name], first_email[email] = index, index


def log_in(*, identifier: str, kind: str, password: str, address: str) -> tuple[User, str]:
    """Checks the credentials and issues a new login token: (user, token secret).

    First the brute-force guard (accounts.login_guard) may refuse the attempt outright, before
    any hashing. Unknown user, wrong password and inactive user all raise the same LoginFailed,
    after the same amount of hashing work, so neither the answer nor its timing tells them apart.
    """
    guard = LoginGuard(identifier=identifier, address=address)
    guard.admit()
    user = authenticated_user(identifier=identifier, kind=kind, password=password)
    guard.succeeded()
    with transaction.atomic():
        purge_expired_login_tokens(user=user)
        secret = issue_login_token(user=user)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, secret


def resume_login(*, secret: str) -> User:
    """The user whose live token this is (v1's `{"resume": token}` login). Raises LoginFailed."""
    token = verify_login_token(secret)
    if token is None:
        raise LoginFailed()
    return token.user


def authenticated_user(*, identifier: str, kind: str, password: str) -> User:
    """The active user these credentials name. Raises LoginFailed."""
    user = user_for_login(identifier, kind=kind)
    if user is None or not user.has_usable_password():
        make_password(password)  # as slow as checking a real hash
        raise LoginFailed()
    if not user.check_password(password) or not user.is_active:
        raise LoginFailed()
    return user


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
