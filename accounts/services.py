"""Every change to users and their logins goes through these functions."""

from __future__ import annotations

import hashlib
import html
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import site_settings
from accounts.hashers import check_password_digest
from accounts.login_guard import LoginGuard
from accounts.models import LoginToken, Setting, User
from accounts.selectors import find_user, user_for_login
from accounts.tokens import (
    issue_login_token,
    purge_expired_login_tokens,
    revoke_login_token,
    verify_login_token,
)
from accounts.validators import validate_name
from chat_project.db.lookups import pks_by_lowercase
from chat_project.http.errors import (
    Failure,
    InvalidParams,
    LoginFailed,
    MissingPermission,
    RateLimited,
    ResetTokenExpired,
    bulk_record_error,
)
from chat_project.http.ratelimit import budget_of, spend
from chat_project.realtime import events as realtime
from permissions.checks import has_permission
from permissions.models import Role
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
    taken_names = set(pks_by_lowercase(User, "username", names))
    taken_emails = set(pks_by_lowercase(User, "email", emails))
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


def log_in(
    *, identifier: str, kind: str, password: str, address: str, digest: str | None = None
) -> tuple[User, str]:
    """Checks the credentials (authenticate_with_password) and issues a new login token:
    (user, token secret). `digest`, instead of the password, is its SHA-256 hex digest, as
    websocket clients send it."""
    user = authenticate_with_password(
        identifier=identifier, kind=kind, password=password, digest=digest, address=address
    )
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


def authenticate_with_password(
    *, identifier: str, kind: str, password: str, address: str, digest: str | None = None
) -> User:
    """The active user these credentials name: `identifier` read as `kind` (see
    user_for_login) and the password (or its `digest`), from the client at `address`. Every
    login by password goes through here: the API's, the websocket's and the Django admin's
    (accounts.backends). Raises as checked_password does."""
    user = user_for_login(identifier, kind=kind)
    return checked_password(
        user=user, identifier=identifier, password=password, digest=digest, address=address
    )


def checked_password(
    *,
    user: User | None,
    identifier: str,
    password: str,
    address: str,
    digest: str | None = None,
) -> User:
    """`user`, if `password` (or its `digest`) is theirs and they are active: the one password
    check, behind the login guard (accounts.login_guard), which counts the attempt for `user`'s
    account, or for `identifier` when it named no one.

    The guard may refuse the attempt outright, before any hashing: LoginBlockedForUser,
    LoginBlockedForIp, RateLimited (429) or LoginUnavailable (503). Otherwise an unknown user, a
    wrong password and an inactive user all raise the same LoginFailed after the same hashing
    work, so neither the answer nor its timing tells them apart.
    """
    guard = LoginGuard(account=user.pk if user else None, identifier=identifier, address=address)
    guard.admit()
    if user is None or not user.has_usable_password():
        make_password(password)  # as slow as checking a real hash
        raise LoginFailed()
    if digest is not None:
        matches = check_password_digest(digest, user.password)
    else:
        matches = user.check_password(password)  # upgrades an older hash on success
    if not matches or not user.is_active:
        raise LoginFailed()
    guard.succeeded()
    return user


def log_out(*, token_id: int, origin: str | None = None) -> None:
    """Revokes the token that made the call, and no other. `origin`: the websocket that logged
    itself out, which stays up, signed out."""
    revoke_login_token(token_id=token_id, origin=origin)


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


# --- the v1 API's users.*: errors in Rocket.Chat's words and error types --------------------------
# (A Failure is Rocket.Chat's API.v1.failure: its text is answered bare; every other type is
# added in brackets by chat_project.http.v1.)


def may_view_full_user_info(*, viewer: User, user: User) -> bool:
    """Whether `viewer` may see `user`'s emails, roles and dates: their own, or anyone's with
    view-full-other-user-info (Rocket.Chat's getFullUserData). No query after the first: the
    viewer's permissions are kept for the request."""
    return viewer.pk == user.pk or has_permission(viewer, "view-full-other-user-info")


def check_username(username: str, *, user: User | None = None) -> None:
    """Raises InvalidParams unless `username` follows the name rules and is free, or is already
    `user`'s own (in another case)."""
    try:
        validate_name(username)
    except ValidationError:
        raise InvalidParams(
            f"{html.escape(username)} is not a valid username",
            error_type="error-input-is-not-a-valid-field",
        ) from None
    taken = User.objects.by_username(username)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise InvalidParams(
            f"{html.escape(username)} is already in use :(", error_type="error-field-unavailable"
        )


def check_email(email: str, *, user: User | None = None) -> None:
    """Raises InvalidParams unless `email` is an address no one else (but `user`) uses."""
    check_email_format(email)
    check_email_free(email, user=user)


def check_email_format(email: str) -> None:
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidParams(f"Invalid email {email}", error_type="error-invalid-email") from None


def check_email_free(email: str, *, user: User | None = None) -> None:
    taken = User.objects.by_email(email)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise InvalidParams(
            f"{html.escape(email)} is already in use :(", error_type="error-field-unavailable"
        )


def check_password(password: str, user: User) -> None:
    """Raises InvalidParams unless `password` passes AUTH_PASSWORD_VALIDATORS for `user`."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidParams(
            " ".join(exc.messages), error_type="error-password-policy-not-met"
        ) from None


def checked_global_roles(names: list[str]) -> list[Role]:
    """The global (Users) roles named. Raises InvalidParams if one is unknown or held in rooms."""
    roles = list(Role.objects.filter(pk__in=names, scope=Role.Scope.USERS))
    if set(names) - {role.pk for role in roles}:
        raise InvalidParams(
            "The field Roles consist invalid role id", error_type="error-action-not-allowed"
        )
    return roles


def register_user(*, username: str, email: str, password: str, name: str = "") -> User:
    """users.register: someone signing themselves up, unless Accounts_RegistrationForm is not
    "Public" (REGISTRATION_ENABLED by default). They
    get what every new user gets (create_user: the `user` role, the default rooms).

    Raises InvalidParams: registration disabled, username taken or invalid, email invalid,
    password rules, and only then email taken. Nothing is written unless all is valid.

    Whether an email is taken is answered only to a registration that is otherwise valid, and
    that would have made an account had the email been free: a probe for someone's email costs
    an account, seen by the administrators, and is rate limited as every anonymous request
    (docs/security.md says why the answer cannot be the same either way).
    """
    if not site_settings.registration_open():
        raise InvalidParams(
            "User registration is disabled", error_type="error-user-registration-disabled"
        )
    if User.objects.by_username(username).exists():
        raise Failure("Username is already in use")
    try:
        validate_name(username)
    except ValidationError:
        raise InvalidParams(
            f"{html.escape(username)} is not a valid username, use only letters, numbers, dots, "
            "hyphens and underscores",
            error_type="username-invalid",
        ) from None
    email = email.strip().lower()  # as Rocket.Chat's registerUser keeps it
    check_email_format(email)
    check_password(password, User(username=username, email=email, name=name))
    check_email_free(email)
    return create_user(username=username, email=email, password=password, name=name.strip())


def add_user(
    *,
    username: str,
    email: str,
    password: str,
    name: str,
    roles: list[str] | None = None,
    active: bool = True,
    join_default_channels: bool = True,
) -> User:
    """users.create (its view checks create-user): a user with the given global roles (`user`
    when none are given) and, unless told otherwise, the default rooms.

    Raises InvalidParams: an empty name, username or password, unknown roles, username or email
    invalid or taken, password rules. Nothing is written unless all is valid.
    """
    for field, value in (("Name", name), ("Username", username), ("Password", password)):
        if not value.strip():
            raise InvalidParams(
                f"The field {field} is required", error_type="error-the-field-is-required"
            )
    global_roles = checked_global_roles(roles or ["user"])
    check_username(username)
    check_email(email)
    user = User(username=username, email=email, name=name, is_active=active)
    check_password(password, user)
    user.set_password(password)
    try:
        user.full_clean()  # the rest of the model's rules (the name's length)
    except ValidationError as exc:
        raise invalid_params_from(exc) from None
    try:
        with transaction.atomic(durable=True):
            user.save(force_insert=True)
            user.roles.set(global_roles)
            if join_default_channels:
                join_default_rooms(users=[user])
    except IntegrityError:  # a request racing this one took the name or the email
        raise InvalidParams(
            "Username or email is already in use.", error_type="error-field-unavailable"
        ) from None
    return user


def update_user(
    *,
    by: User,
    user_id: str,
    keep_token: LoginToken | None = None,
    name: str | None = None,
    username: str | None = None,
    email: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
    active: bool | None = None,
    roles: list[str] | None = None,
    address: str,
) -> User:
    """users.update: changes what is given (None leaves it as it is) of the user `user_id`.

    Anyone may change their own name, username, email and password; another user's, and
    changing anyone's roles or active flag, needs edit-other-user-info. Changing one's own
    password without that permission takes the current one (`currentPassword`), so that a
    stolen token cannot lock the owner out; it is checked behind the login guard, as a login
    from `address` is (checked_password), so that a stolen token cannot guess it either. A new
    password ends the user's other logins: all of them, or all but `keep_token` (the caller's
    own) when one changes one's own. Raises MissingPermission, InvalidParams, or the guard's
    refusals (429, 503); nothing changes unless all is valid.
    """
    may_edit_others = has_permission(by, "edit-other-user-info")
    if user_id != by.pk and not may_edit_others:
        raise MissingPermission("edit-other-user-info")
    user = find_user(user_id=user_id)
    if user is None:
        raise InvalidParams("Invalid user", error_type="error-invalid-user")
    roles_change = roles is not None and set(roles) != {role.pk for role in user.roles.all()}
    active_change = active is not None and active != user.is_active
    if (roles_change or active_change) and not may_edit_others:
        raise MissingPermission("edit-other-user-info")
    new_roles = checked_global_roles(roles) if roles is not None and roles_change else None
    fields: list[str] = []
    if username is not None and username != user.username:
        check_username(username, user=user)
        user.username = username
        fields.append("username")
    if name is not None and name != user.name:
        user.name = name
        fields.append("name")
    if email and email.strip() != user.email:  # an empty email is ignored, as Rocket.Chat does
        check_email(email.strip(), user=user)
        user.email = email.strip()
        fields.append("email")
    new_password = password if password and password.strip() else None  # blank: unchanged
    if new_password is not None and not may_edit_others:
        if not current_password:
            raise InvalidParams(
                "The current password is required to set a new one",
                error_type="error-password-required",
            )
        try:
            checked_password(
                user=user, identifier=user.username, password=current_password, address=address
            )
        except LoginFailed:
            raise InvalidParams("Invalid password", error_type="error-invalid-password") from None
    if new_password is not None:
        check_password(new_password, user)
        # Once saved, it ends the user's other logins (accounts.tokens.end_logins_after_save).
        user.set_password(new_password, keeping_login=keep_token.pk if keep_token else None)
        fields.append("password")
    try:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise invalid_params_from(exc) from None
    try:
        with transaction.atomic(durable=True):
            if fields or roles_change:
                user.save(update_fields=[*fields, "updated_at"])
            if {"username", "name"} & set(fields):
                realtime.notify_logged(
                    "Users:NameChanged",
                    [{"_id": user.pk, "name": user.name, "username": user.username}],
                )
            if new_roles is not None:
                if "admin" not in {role.pk for role in new_roles}:
                    # As delete_user and change_active_status: the last admin stays one.
                    admins = set(
                        User.objects.select_for_update()
                        .filter(roles="admin")
                        .values_list("pk", flat=True)
                    )
                    if admins == {user.pk}:
                        raise InvalidParams(
                            "Leaving the app without admins is not allowed",
                            error_type="error-action-not-allowed",
                        )
                user.roles.set(new_roles)
            if active is not None and active_change:
                change_active_status(user=user, active=active)
    except IntegrityError:  # a request racing this one took the name or the email
        raise InvalidParams(
            "Username or email is already in use.", error_type="error-field-unavailable"
        ) from None
    return find_user(user_id=user.pk) or user  # afresh, with the roles as they are now


def set_user_active_status(*, user_id: str, active: bool) -> User:
    """users.setActiveStatus (its view checks edit-other-user-info). Raises InvalidParams for
    an unknown user or the last active admin (see change_active_status)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Failure("User not found")
    with transaction.atomic(durable=True):
        change_active_status(user=user, active=active)
    return user


def change_active_status(*, user: User, active: bool) -> None:
    """Sets `user`'s active flag, inside the caller's transaction. An inactive user cannot log
    in; deactivating also deletes their tokens, so that reactivating revives none of them.
    Raises InvalidParams rather than deactivate the last active admin."""
    if not active:
        # Locking the active admins makes two admins deactivating each other take turns, so
        # that one of them stays.
        admins = set(
            User.objects.select_for_update()
            .filter(is_active=True, roles="admin")
            .values_list("pk", flat=True)
        )
        if admins == {user.pk}:
            raise InvalidParams(
                "Leaving the app without an active admin is not allowed",
                error_type="error-action-not-allowed",
            )
    # Saved inactive, the user loses every token (accounts.tokens.end_logins_after_save).
    user.is_active = active
    user.save(update_fields=["is_active", "updated_at"])


def delete_user(*, user: User) -> None:
    """users.delete (its view checks delete-user): the user goes, with their logins, memberships
    and roles; their messages stay, without an author. Raises InvalidParams for the last admin.
    """
    with transaction.atomic(durable=True):
        admins = set(
            User.objects.select_for_update().filter(roles="admin").values_list("pk", flat=True)
        )
        if admins == {user.pk}:
            raise InvalidParams(
                "Leaving the app without admins is not allowed",
                error_type="error-action-not-allowed",
            )
        user.delete()  # with their tokens, whose sockets close (accounts.tokens)


def issue_token_for(*, by: User, user: User) -> str:
    """users.createToken: a new login token for `user`, returned once, for a caller holding
    user-generate-access-token (admins by default, as in Rocket.Chat), one's own too: a login
    token must not mint further logins that outlive it (a stolen token would otherwise keep
    access after its owner logs it out). Raises MissingPermission."""
    if not has_permission(by, "user-generate-access-token"):
        raise MissingPermission("user-generate-access-token")
    return issue_login_token(user=user)


# --- settings -------------------------------------------------------------------------------


def check_setting_value(entry: site_settings.Entry, value: Any) -> Any:
    """`value` if it is one `entry` may hold (its type, a select's choices, an int's minimum);
    null sets it back to its default. Raises InvalidParams saying what it must be."""
    if value is None:
        return None
    wrong = InvalidParams(f"The value of {entry.id} must be {_setting_kind(entry)}.")
    if entry.type == Setting.Type.BOOLEAN:
        if not isinstance(value, bool):
            raise wrong
    elif entry.type == Setting.Type.INT:
        # JSON's 5000.0 is an int to a JavaScript client; true is not.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        if (entry.minimum is not None and value < entry.minimum) or abs(value) > 2**53:
            raise wrong
    elif (
        not isinstance(value, str)
        or len(value) > 10_000
        or "\x00" in value
        or (entry.choices and value not in entry.choices)
    ):
        raise wrong
    return value


def _setting_kind(entry: site_settings.Entry) -> str:
    if entry.type == Setting.Type.BOOLEAN:
        return "true or false"
    if entry.type == Setting.Type.INT:
        return "an integer" + (f" of at least {entry.minimum}" if entry.minimum is not None else "")
    if entry.choices:
        return "one of " + ", ".join(f'"{choice}"' for choice in entry.choices)
    return "a string"


def change_setting(*, user: User, setting_id: str, value: Any) -> Any:
    """Sets a setting (null: back to its default) for `user`, who needs edit-privileged-setting,
    and answers its value now. Every process reads the new value from its next request on
    (site_settings' generation is replaced once the write commits); a public one is pushed to
    the sockets (public-settings-changed). Raises MissingPermission, Failure for an id the
    server does not have, InvalidParams for one it cannot change or a value of the wrong kind.
    """
    if not has_permission(user, "edit-privileged-setting"):
        raise MissingPermission("edit-privileged-setting")
    entry = site_settings.BY_ID.get(setting_id)
    if entry is None:
        raise Failure("Setting not found", error_type="error-setting-not-found")
    if not entry.editable:
        raise InvalidParams(
            f"{setting_id} says what this server does; it cannot be changed.",
            error_type="error-setting-read-only",
        )
    value = check_setting_value(entry, value)
    with transaction.atomic(durable=True):
        Setting.objects.update_or_create(
            pk=setting_id, defaults={"value": value, **setting_description(entry)}
        )
        # Here too, not only on commit: a read later in this transaction sees the new value.
        site_settings.forget_snapshot()
        transaction.on_commit(site_settings.forget_snapshot, robust=True)
        current = entry.default() if value is None else value
        if entry.public:
            realtime.public_setting_changed(setting_id=setting_id, value=current)
    return current


def setting_description(entry: site_settings.Entry) -> dict[str, Any]:
    """What the catalogue says of a setting, as its row holds it (for the admin's lists)."""
    return {
        "type": entry.type,
        "public": entry.public,
        "group": entry.group,
        "section": entry.section,
        "i18n_label": entry.i18n_label,
    }


# --- preferences, other logins, password resets (users.* of issue 21) -----------------------------

# Rocket.Chat's user preferences (its UsersSetPreferencesParamsPOST schema) and the JSON type of
# each: only these are kept, and only of their type.
STRING, BOOLEAN, NUMBER, STRINGS, OBJECTS = "string", "boolean", "number", "strings", "objects"
PREFERENCE_TYPES: dict[str, str] = {
    **dict.fromkeys(
        (
            "newRoomNotification",
            "newMessageNotification",
            "emailNotificationMode",
            "desktopNotifications",
            "pushNotifications",
            "alsoSendThreadToChannel",
            "sendOnEnter",
            "sidebarSortby",
            "sidebarViewMode",
            "themeAppearence",
            "fontSize",
            "language",
            "omnichannelTranscriptEmail",
        ),
        STRING,
    ),
    **dict.fromkeys(
        (
            "useEmojis",
            "convertAsciiEmoji",
            "saveMobileBandwidth",
            "collapseMediaByDefault",
            "autoImageLoad",
            "unreadAlert",
            "enableAutoAway",
            "desktopNotificationRequireInteraction",
            "hideUsernames",
            "hideRoles",
            "hideFlexTab",
            "displayAvatars",
            "sidebarShowFavorites",
            "sidebarShowUnread",
            "sidebarDisplayAvatar",
            "sidebarGroupByType",
            "muteFocusedConversations",
            "receiveLoginDetectionEmail",
            "notifyCalendarEvents",
            "enableMobileRinging",
            "omnichannelTranscriptPDF",
        ),
        BOOLEAN,
    ),
    **dict.fromkeys(
        ("clockMode", "notificationsSoundVolume", "idleTimeLimit", "masterVolume"), NUMBER
    ),
    "highlights": STRINGS,
    "dontAskAgainList": OBJECTS,
}


def preference_has_type(value: Any, kind: str) -> bool:
    if kind == STRING:
        return isinstance(value, str) and "\x00" not in value and len(value) <= 1000
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == STRINGS:
        return isinstance(value, list) and all(preference_has_type(v, STRING) for v in value)
    return isinstance(value, list) and all(
        isinstance(item, dict) and all(preference_has_type(v, STRING) for v in item.values())
        for item in value
    )


def checked_preferences(data: dict[str, Any]) -> dict[str, Any]:
    """`data` if every key is a known preference holding a value of its type. Raises
    InvalidParams naming the first that is not (ajv's words, as Rocket.Chat's schema refuses)."""
    for key, value in data.items():
        kind = PREFERENCE_TYPES.get(key)
        if kind is None:
            raise InvalidParams(
                "must NOT have additional properties",
                error_type="invalid-params",
                detailed_error=f"data.{key}: not a known preference",
            )
        if not preference_has_type(value, kind):
            wanted = {STRINGS: "array of strings", OBJECTS: "array of objects"}.get(kind, kind)
            raise InvalidParams(
                f"must be {wanted}",
                error_type="invalid-params",
                detailed_error=f"data.{key}: must be {wanted}",
            )
    return data


def set_preferences(*, by: User, user_id: str | None, data: dict[str, Any]) -> User:
    """users.setPreferences: merges the given preferences (checked_preferences) into the user's
    own, or, with edit-other-user-info, another user's. Raises MissingPermission or
    InvalidParams; nothing changes unless all is valid."""
    if user_id and user_id != by.pk and not has_permission(by, "edit-other-user-info"):
        raise Failure("Editing user is not allowed", error_type="error-action-not-allowed")
    checked_preferences(data)
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().filter(pk=user_id or by.pk).first()
        if user is None:
            raise InvalidParams(
                'The optional "userId" param provided does not match any users',
                error_type="error-invalid-user",
            )
        user.preferences = {**user.preferences, **data}
        user.save(update_fields=["preferences", "updated_at"])
    return user


def username_suggestion(*, user: User) -> str:
    """A username no one has, made from `user`'s name (or their e-mail's local part): the name's
    letters and digits joined by dots, then with a number added until it is free (Rocket.Chat's
    generateUsernameSuggestion). Two queries."""
    base = ".".join(re.findall(r"[0-9A-Za-z]+", user.name or "")).lower()
    if not base:
        base = ".".join(re.findall(r"[0-9A-Za-z]+", user.email.split("@")[0])).lower() or "user"
    base = base[:50]
    taken = set(
        User.objects.annotate(lower=Lower("username"))
        .filter(lower__startswith=base)
        .values_list("lower", flat=True)
    )
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(1, len(taken) + 2) if f"{base}{n}" not in taken)


def end_other_logins(*, user: User, keep_token_id: int) -> None:
    """users.removeOtherTokens and logoutOtherClients: every login of `user` but the one that
    asked ends; their sockets close (4001) once this commits (accounts.tokens)."""
    with transaction.atomic(durable=True):
        LoginToken.objects.filter(user=user).exclude(pk=keep_token_id).delete()


# A password reset link's token: the user's id, then Django's PasswordResetTokenGenerator's,
# which hashes the password and the last login (so the first use spends it) and the time (so it
# expires after PASSWORD_RESET_TIMEOUT).
RESET_LINK_TOKEN = re.compile(r"^([0-9A-Za-z]{1,17})\.([0-9a-z]{1,13}-[0-9a-f]{1,64})$")
RESET_SUBJECT = "Reset your password"


def send_password_reset(*, email: str, address: str) -> None:
    """users.forgotPassword: mails a password reset link to the active user with this e-mail
    address, if there is one; answers the same either way, in the same time but for sending.
    Counted per client address and per e-mail address (FORGOT_PASSWORD_RATE): raises
    RateLimited past it, whether the address exists or not."""
    email = email.strip().lower()
    spend_forgot_password_budget(f"ip:{address}")
    spend_forgot_password_budget("email:" + hashlib.sha256(email.encode()).hexdigest())
    user = User.objects.by_email(email).filter(is_active=True).first()
    if user is None:
        return
    token = f"{user.pk}.{default_token_generator.make_token(user)}"
    link = f"{str(site_settings.value_of('Site_Url')).rstrip('/')}/reset-password/{token}"
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    send_mail(
        RESET_SUBJECT,
        f"Hello {user.name or user.username},\n\n"
        f"To reset your password, follow this link within {minutes} minutes:\n\n{link}\n\n"
        "It works once. If you did not ask for it, ignore this mail: your password stays as "
        "it is.\n",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


def spend_forgot_password_budget(caller: str) -> None:
    if not settings.RATELIMIT_ENABLE:
        return
    usage = spend("forgot-password", caller, budget_of(settings.FORGOT_PASSWORD_RATE))
    if usage is not None and usage.exceeded:
        limited = RateLimited()
        limited.retry_after = usage.reset
        raise limited


def reset_link_user(token: str) -> User:
    """The active user a password reset link's token is for, while it works. Raises
    ResetTokenExpired (unknown, used, expired, or its user inactive)."""
    match = RESET_LINK_TOKEN.match(token)
    user = User.objects.filter(pk=match.group(1), is_active=True).first() if match else None
    if (
        user is None
        or match is None
        or not default_token_generator.check_token(user, match.group(2))
    ):
        raise ResetTokenExpired()
    return user


def reset_password(*, token: str, password: str) -> User:
    """Meteor's resetPassword(token, newPassword), and the link's page: the link's token sets a
    new password (the password policy's rules). The new password ends every login of the user
    (accounts.tokens.end_logins_after_save) and spends the token. Raises ResetTokenExpired
    (unknown, used, expired or its user inactive) or InvalidParams (the policy)."""
    user = reset_link_user(token)
    check_password(password, user)
    with transaction.atomic(durable=True):
        # Locked, and the token checked again: of two resets racing with one token, one wins.
        user = User.objects.select_for_update().get(pk=user.pk)
        if not default_token_generator.check_token(user, token.partition(".")[2]):
            raise ResetTokenExpired()
        user.set_password(password)
        user.last_login = timezone.now()
        user.save(update_fields=["password", "last_login", "updated_at"])
    return user
