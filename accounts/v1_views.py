"""The v1 API's endpoints for sessions (login, logout, me) and users (users.register, .create,
.info, .list, .update, .delete, .setActiveStatus, .createToken)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import authenticate_http_request
from accounts.models import LoginToken, User
from accounts.selectors import find_user, users_to_list
from accounts.serializers import (
    active_status_json,
    login_token_json,
    me_json,
    user_info_json,
    user_json,
)
from accounts.services import (
    add_user,
    delete_user,
    issue_token_for,
    log_in,
    log_out,
    may_view_full_user_info,
    register_user,
    resume_login,
    set_user_active_status,
    update_user,
)
from accounts.views import LOGGED_OUT, LoginInput
from chat_project.errors import ApiError
from chat_project.fields import StrictCharField, json_from_form
from chat_project.ratelimit import client_address
from chat_project.v1 import (
    V1View,
    ok,
    page_params,
    paginated,
    user_from_params,
    v1_error,
    v1_failure,
)
from permissions.checks import requires


class ResumeInput(serializers.Serializer):
    resume = StrictCharField(max_length=256)


class LoginView(V1View):
    """POST /api/v1/login: the 0.1 login (user/username/email + password, JSON or form), or
    `{"resume": "<token>"}` to check a token one holds. Answers the 0.1 body with `data.me`."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        if "resume" in request.data:
            resume = ResumeInput(data=request.data)
            resume.is_valid(raise_exception=True)
            secret = resume.validated_data["resume"]
            user = resume_login(secret=secret)
        else:
            given = LoginInput(data=request.data)
            given.is_valid(raise_exception=True)
            user, secret = log_in(
                identifier=given.validated_data["identifier"],
                kind=given.validated_data["kind"],
                password=given.validated_data["password"],
                address=client_address(request._request),
            )
        return ok(
            {
                "status": "success",
                "data": {"authToken": secret, "userId": user.pk, "me": me_json(user)},
            }
        )


class LogoutView(V1View):
    """GET or POST /api/v1/logout: revokes the token that made the call."""

    def get(self, request: Request) -> Response:
        log_out(token=cast(LoginToken, request.auth))
        return ok({"status": "success", "data": {"message": LOGGED_OUT}})

    post = get


class MeView(V1View):
    """GET /api/v1/me: the signed-in user, in full."""

    def get(self, request: Request) -> Response:
        return ok(me_json(cast(User, request.user)))


# --- users.* -------------------------------------------------------------------------------------
# Rocket.Chat checks these endpoints' parameters against JSON schemas (ajv, coercing types) and
# refuses a bad request with ajv's words: "must have required property 'userId'", "must be
# string" [invalid-params]. The helpers below answer the same; `detailed_error` names the field.


def bad_param(message: str, field: str) -> ApiError:
    error = v1_error(message, "invalid-params")
    error.detailed_error = f"{field}: {message}"
    return error


def required(params: Mapping[str, Any], name: str, *, where: str = "") -> Any:
    if params.get(name) is None:
        raise bad_param(f"must have required property '{name}'", where + name)
    return params[name]


def text(params: Mapping[str, Any], name: str, *, where: str = "") -> str | None:
    """A string parameter, None when absent."""
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_param("must be string", where + name)
    return value


def required_text(params: Mapping[str, Any], name: str) -> str:
    required(params, name)
    return text(params, name) or ""


def boolean(params: Mapping[str, Any], name: str, *, where: str = "") -> bool | None:
    """true or false: JSON's, or the text a form or query string carries. None when absent."""
    value = params.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "false", "0"}:
        return value.lower() in {"true", "1"}
    raise bad_param("must be boolean", where + name)


def strings(params: Mapping[str, Any], name: str, *, where: str = "") -> list[str] | None:
    """A list of strings: JSON's, a form's repeated keys (`roles=a&roles=b`, `roles[]=a`) or a
    JSON list in one form field. None when absent."""
    value: Any = params.get(name)
    if isinstance(params, QueryDict):
        values = params.getlist(name) or params.getlist(f"{name}[]")
        value = values or None
        if len(values) == 1 and values[0].lstrip().startswith("["):
            value = parsed_json(values[0])
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_param("must be array", where + name)
    if not all(isinstance(item, str) for item in value):
        raise bad_param("must be string", f"{where}{name}[]")
    return value


def required_object(params: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A JSON object, or (from a form) the same object as JSON text."""
    value = required(params, name)
    if isinstance(value, str):
        value = parsed_json(value)
    if not isinstance(value, Mapping):
        raise bad_param("must be object", name)
    return value


def parsed_json(raw: str) -> Any:
    return json_from_form(raw)  # not JSON: refused by the type check that follows


# Sortable fields of users.list (Rocket.Chat sorts names regardless of case, `status` by active).
USER_SORTS = {
    "username": "username",
    "name": "name_insensitive",
    "active": "is_active",
    "status": "is_active",
    "createdAt": "created_at",
    "lastLogin": "last_login",
}


def caller(request: Request) -> User:
    return cast(User, request.user)


class UsersRegisterView(V1View):
    """POST /api/v1/users.register {username, email, pass, name}: signing oneself up (unless
    REGISTRATION_ENABLED is off). Answers `{"user": {...}}` in full."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        # Anonymous by design; credentials that work mean a signed-in user (bad ones are ignored,
        # as Rocket.Chat ignores them here).
        if authenticate_http_request(request._request, quiet=True) is not None:
            raise v1_failure("Logged in users can not register again.")
        params = self.params()
        user = register_user(
            username=required_text(params, "username"),
            email=required_text(params, "email"),
            password=required_text(params, "pass"),
            name=text(params, "name") or "",
        )
        return ok({"user": user_json(find_user(user_id=user.pk) or user, full=True)})


class UsersCreateView(V1View):
    """POST /api/v1/users.create {email, name, password, username, roles?, active?,
    joinDefaultChannels? (true), verified?}: needs create-user. Answers `{"user": {...}}`."""

    permission_classes = [requires("create-user")]

    def post(self, request: Request) -> Response:
        params = self.params()
        email, name = required_text(params, "email"), required_text(params, "name")
        password, username = required_text(params, "password"), required_text(params, "username")
        boolean(params, "verified")  # checked, but not kept: addresses are not verified here
        user = add_user(
            username=username,
            email=email,
            password=password,
            name=name,
            roles=strings(params, "roles"),
            active=boolean(params, "active") is not False,
            join_default_channels=boolean(params, "joinDefaultChannels") is not False,
        )
        return ok({"user": user_json(find_user(user_id=user.pk) or user, full=True)})


class UsersInfoView(V1View):
    """GET /api/v1/users.info?userId=… or ?username=…: emails, roles and dates only for oneself
    or with view-full-other-user-info."""

    def get(self, request: Request) -> Response:
        params = self.params()
        user_id, username = text(params, "userId"), text(params, "username")
        if not user_id and not username:
            raise v1_failure("Invalid search query.")
        user = find_user(user_id=user_id, username=username)
        if user is None:
            raise v1_failure("User not found.")
        full = may_view_full_user_info(viewer=caller(request), user=user)
        return ok({"user": user_info_json(user, full=full)})


class UsersListView(V1View):
    """GET /api/v1/users.list?offset=&count=&sort=: needs view-d-room. A page costs the same
    few queries however many users it holds."""

    permission_classes = [requires("view-d-room")]

    def get(self, request: Request) -> Response:
        page = page_params(self.params(), sortable=USER_SORTS, default_sort=["username"])
        page = replace(page, order_by=[*page.order_by, "pk"])  # a stable order for paging
        viewer = caller(request)
        return paginated(
            "users",
            users_to_list(),
            page,
            lambda user: user_json(user, full=may_view_full_user_info(viewer=viewer, user=user)),
        )


class UsersUpdateView(V1View):
    """POST /api/v1/users.update {userId, data: {name, username, email, password, active,
    roles}}: one's own name, username, email and password; anything else, or anyone else's,
    needs edit-other-user-info. Answers `{"user": {...}}`."""

    def post(self, request: Request) -> Response:
        params = self.params()
        user_id = required_text(params, "userId")
        data = required_object(params, "data")
        user = update_user(
            by=caller(request),
            user_id=user_id,
            keep_token=cast(LoginToken, request.auth),
            name=text(data, "name", where="data."),
            username=text(data, "username", where="data."),
            email=text(data, "email", where="data."),
            password=text(data, "password", where="data."),
            current_password=text(data, "currentPassword", where="data."),
            active=boolean(data, "active", where="data."),
            roles=strings(data, "roles", where="data."),
        )
        full = may_view_full_user_info(viewer=caller(request), user=user)
        return ok({"user": user_json(user, full=full)})


class UsersDeleteView(V1View):
    """POST /api/v1/users.delete {userId | username}: needs delete-user. Their messages stay,
    without an author."""

    permission_classes = [requires("delete-user")]

    def post(self, request: Request) -> Response:
        delete_user(user=user_from_params(self.params()))
        return ok()


class UsersSetActiveStatusView(V1View):
    """POST /api/v1/users.setActiveStatus {userId, activeStatus}: needs edit-other-user-info.
    A deactivated user cannot log in, and their tokens are gone. Answers `{"user": {_id,
    active}}`."""

    permission_classes = [requires("edit-other-user-info")]

    def post(self, request: Request) -> Response:
        params = self.params()
        user_id = required_text(params, "userId")
        required(params, "activeStatus")
        active = boolean(params, "activeStatus")
        user = set_user_active_status(user_id=user_id, active=bool(active))
        return ok({"user": active_status_json(user)})


class UsersCreateTokenView(V1View):
    """POST /api/v1/users.createToken {userId | username}: a new login token for oneself, or
    for anyone with user-generate-access-token. Answers `{"data": {userId, authToken}}`."""

    def post(self, request: Request) -> Response:
        user = user_from_params(self.params())
        secret = issue_token_for(by=caller(request), user=user)
        return ok({"data": login_token_json(user, secret)})
