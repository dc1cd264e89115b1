"""The v1 API's endpoints for sessions (login, logout, me) and users (users.register, .create,
.info, .list, .update, .delete, .setActiveStatus, .createToken, and presence: .getPresence,
.presence, .setStatus), settings (settings.public, settings, settings/<id>) and
service.configurations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import presence, site_settings
from accounts.authentication import authenticate_http_request, user_of
from accounts.models import LoginToken, User
from accounts.selectors import (
    find_user,
    user_from_params,
    users_to_autocomplete,
    users_to_list,
    users_with_ids,
)
from accounts.serializers import (
    active_status_json,
    login_token_json,
    me_json,
    user_info_json,
    user_json,
)
from accounts.services import (
    add_user,
    change_setting,
    delete_user,
    end_other_logins,
    issue_token_for,
    log_in,
    log_out,
    may_view_full_user_info,
    register_user,
    resume_login,
    send_password_reset,
    set_preferences,
    set_user_active_status,
    update_user,
    username_suggestion,
)
from accounts.views import LOGGED_OUT, LOGIN_DATA, LoginInput
from chat_project.db.timestamps import iso_ms
from chat_project.http import schema as api
from chat_project.http.fields import StrictCharField, json_from_form
from chat_project.http.ratelimit import client_address
from chat_project.http.v1 import (
    Flag,
    JsonObject,
    PageInput,
    Param,
    Strings,
    Text,
    UserLookup,
    V1Input,
    V1View,
    ajv_error,
    ok,
    v1_error,
    v1_failure,
)
from permissions.checks import check_permission, has_permission, requires


class V1LoginInput(LoginInput):
    """The 0.1 login's body (user, username or email, and password), or `resume` alone."""

    # Validated by LoginInput itself (below), so refused in DRF's words as the 0.1 login is;
    # declared again only to tell the schema that a resume needs no password.
    password = StrictCharField(
        max_length=1024,
        trim_whitespace=False,
        required=False,
        help_text="Required, unless resume is given.",
    )
    resume = StrictCharField(
        max_length=256,
        required=False,
        help_text="A login token one holds: when given, the others are ignored.",
    )

    class Meta:
        ref_name = "V1Login"

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and "resume" in data:
            try:
                return {"resume": self.fields["resume"].run_validation(data["resume"])}
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"resume": exc.detail}) from None
        login = LoginInput(data=data)
        login.is_valid(raise_exception=True)
        return dict(login.validated_data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs  # LoginInput's own validate() ran above


@extend_schema(
    responses={
        200: api.v1_success(
            "V1LoginAnswer",
            {
                "status": api.text(),
                "data": api.shape("V1LoginData", {**LOGIN_DATA, "me": api.User()}),
            },
        ),
        **api.errors(401, 503),
    },
)
class LoginView(V1View):
    """POST /api/v1/login: the 0.1 login (user/username/email + password, JSON or form), or
    `{"resume": "<token>"}` to check a token one holds. Answers the 0.1 body with `data.me`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    Input = V1LoginInput

    def post(self, request: Request) -> Response:
        # Validated here, not by parse(): its refusals are DRF's ("password: This field is
        # required."), as the 0.1 login's, and a body that is not an object is one too.
        given = self.Input(data=request.data)
        given.is_valid(raise_exception=True)
        if "resume" in given.validated_data:
            secret = given.validated_data["resume"]
            user = resume_login(secret=secret)
        else:
            user, secret = log_in(
                identifier=given.validated_data["identifier"],
                kind=given.validated_data["kind"],
                password=given.validated_data["password"],
                address=client_address(request._request),
            )
        return ok(
            {
                "status": "success",
                "data": {
                    "authToken": secret,
                    "userId": user.pk,
                    "me": me_json(user, status=status_of(user)),
                },
            }
        )


@extend_schema(
    request=None,
    responses=api.v1_success(
        "V1Logout",
        {
            "status": api.text(),
            "data": api.shape("V1LogoutData", {"message": api.text()}),
        },
    ),
)
class LogoutView(V1View):
    """GET or POST /api/v1/logout: revokes the token that made the call."""

    def get(self, request: Request) -> Response:
        log_out(token_id=cast(LoginToken, request.auth).pk)
        return ok({"status": "success", "data": {"message": LOGGED_OUT}})

    post = get


@extend_schema(responses=api.v1_success("Me", {"_id": api.text(), "username": api.text()}))
class MeView(V1View):
    """GET /api/v1/me: the signed-in user, in full."""

    def get(self, request: Request) -> Response:
        user = cast(User, request.user)
        return ok(me_json(user, status=status_of(user)))


# --- users.* -------------------------------------------------------------------------------------
# Rocket.Chat checks these endpoints' parameters against JSON schemas (ajv, coercing types) and
# refuses a bad request with ajv's words: "must have required property 'userId'", "must be
# string" [invalid-params]. Their Inputs' fields are made with `ajv=True` (chat_project.http.v1).


ONE_USER = api.v1_success("OneUser", {"user": api.User()})


def status_of(user: User) -> str:
    return presence.statuses([user.pk])[user.pk]


def is_caller(given: Mapping[str, Any], user: User) -> bool:
    """Rocket.Chat's isUserFromParams: no userId/username/user given (UserLookup's fields), or
    the caller's own."""
    user_id, username = given["userId"], given["username"] or given["user"]
    if not user_id and not username:
        return True
    return user_id == user.pk or (
        username is not None and username.lower() == user.username.lower()
    )


@extend_schema(responses=ONE_USER)
class UsersRegisterView(V1View):
    """POST /api/v1/users.register {username, email, pass, name}: signing oneself up (unless
    REGISTRATION_ENABLED is off). Answers `{"user": {...}}` in full."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class Input(V1Input):
        username = Text(required=True, ajv=True)
        email = Text(required=True, ajv=True)
        locals()["pass"] = Text(required=True, ajv=True)  # a Python keyword
        name = Text(ajv=True)

        class Meta:
            ref_name = "UsersRegister"

    def post(self, request: Request) -> Response:
        # Anonymous by design; credentials that work mean a signed-in user (bad ones are ignored,
        # as Rocket.Chat ignores them here).
        if authenticate_http_request(request._request, quiet=True) is not None:
            raise v1_failure("Logged in users can not register again.")
        given = self.parse()
        user = register_user(
            username=given["username"],
            email=given["email"],
            password=given["pass"],
            name=given["name"] or "",
        )
        return ok({"user": user_json(find_user(user_id=user.pk) or user, full=True)})


@extend_schema(responses=ONE_USER)
class UsersCreateView(V1View):
    """POST /api/v1/users.create {email, name, password, username, roles?, active?,
    joinDefaultChannels? (true), verified?}: needs create-user. Answers `{"user": {...}}`."""

    permission_classes = [requires("create-user")]

    class Input(V1Input):
        email = Text(required=True, ajv=True)
        name = Text(required=True, ajv=True)
        password = Text(required=True, ajv=True)
        username = Text(required=True, ajv=True)
        verified = Flag("Checked, but not kept: addresses are not verified here.", ajv=True)
        roles = Strings()
        active = Flag(ajv=True)
        joinDefaultChannels = Flag(ajv=True)

        class Meta:
            ref_name = "UsersCreate"

    def post(self, request: Request) -> Response:
        given = self.parse()
        user = add_user(
            username=given["username"],
            email=given["email"],
            password=given["password"],
            name=given["name"],
            roles=given["roles"],
            active=given["active"] is not False,
            join_default_channels=given["joinDefaultChannels"] is not False,
        )
        return ok({"user": user_json(find_user(user_id=user.pk) or user, full=True)})


@extend_schema(
    responses=api.v1_success(
        "UsersInfo",
        {"user": api.shape("UserInfo", {**api.User().get_fields(), "canViewAllInfo": api.flag()})},
    ),
)
class UsersInfoView(V1View):
    """GET /api/v1/users.info?userId=… or ?username=…: emails, roles and dates only for oneself
    or with view-full-other-user-info."""

    class Input(V1Input):
        userId = Text(ajv=True)
        username = Text(ajv=True)

    def get(self, request: Request) -> Response:
        given = self.parse()
        user_id, username = given["userId"], given["username"]
        if not user_id and not username:
            raise v1_failure("Invalid search query.")
        user = find_user(user_id=user_id, username=username)
        if user is None:
            raise v1_failure("User not found.")
        full = may_view_full_user_info(viewer=user_of(request), user=user)
        return ok({"user": user_info_json(user, full=full, status=status_of(user))})


@extend_schema(responses=api.v1_page("UsersList", "users", api.User(many=True)))
class UsersListView(V1View):
    """GET /api/v1/users.list?offset=&count=&sort=: needs view-d-room. A page costs the same
    few queries however many users it holds."""

    permission_classes = [requires("view-d-room")]

    class Input(PageInput):
        # Rocket.Chat sorts names regardless of case, and `status` by active.
        sortable = {
            "username": "username",
            "name": "name_insensitive",
            "active": "is_active",
            "status": "is_active",
            "createdAt": "created_at",
            "lastLogin": "last_login",
        }
        default_sort = ("username",)

    def get(self, request: Request) -> Response:
        page = self.parse()["page"]
        page = replace(page, order_by=[*page.order_by, "pk"])  # a stable order for paging
        viewer = user_of(request)
        users = users_to_list()
        total = users.count()
        shown = list(users.order_by(*page.order_by)[page.offset : page.offset + page.count])
        statuses = presence.statuses(user.pk for user in shown)  # one call for the page
        items = [
            user_json(
                user,
                full=may_view_full_user_info(viewer=viewer, user=user),
                status=statuses[user.pk],
            )
            for user in shown
        ]
        return ok({"users": items, "count": len(items), "offset": page.offset, "total": total})


class UserChanges(V1Input):
    """users.update's `data`."""

    name = Text(ajv=True)
    username = Text(ajv=True)
    email = Text(ajv=True)
    password = Text(ajv=True)
    currentPassword = Text(ajv=True)
    active = Flag(ajv=True)
    roles = Strings()

    class Meta:
        ref_name = "UsersUpdateData"


@extend_schema(responses=ONE_USER)
class UsersUpdateView(V1View):
    """POST /api/v1/users.update {userId, data: {name, username, email, password, active,
    roles}}: one's own name, username, email and password; anything else, or anyone else's,
    needs edit-other-user-info. Answers `{"user": {...}}`."""

    class Input(V1Input):
        userId = Text(required=True, ajv=True)
        # The metaclass takes declared fields out of the class: Serializer.data stays DRF's.
        data = JsonObject(  # type: ignore[assignment]
            UserChanges, "From a form, the object as JSON.", required=True, ajv=True
        )

        class Meta:
            ref_name = "UsersUpdate"

    def post(self, request: Request) -> Response:
        given = self.parse()
        data = given["data"]
        user = update_user(
            by=user_of(request),
            user_id=given["userId"],
            keep_token=cast(LoginToken, request.auth),
            name=data["name"],
            username=data["username"],
            email=data["email"],
            password=data["password"],
            current_password=data["currentPassword"],
            active=data["active"],
            roles=data["roles"],
            address=client_address(request._request),
        )
        full = may_view_full_user_info(viewer=user_of(request), user=user)
        return ok({"user": user_json(user, full=full, status=status_of(user))})


@extend_schema(responses=api.V1_DONE)
class UsersDeleteView(V1View):
    """POST /api/v1/users.delete {userId | username}: needs delete-user. Their messages stay,
    without an author."""

    permission_classes = [requires("delete-user")]
    Input = UserLookup

    def post(self, request: Request) -> Response:
        delete_user(user=user_from_params(self.parse()))
        return ok()


@extend_schema(
    responses=api.v1_success(
        "UserActiveStatus",
        {"user": api.shape("ActiveStatus", {"_id": api.text(), "active": api.flag()})},
    ),
)
class UsersSetActiveStatusView(V1View):
    """POST /api/v1/users.setActiveStatus {userId, activeStatus}: needs edit-other-user-info.
    A deactivated user cannot log in, and their tokens are gone. Answers `{"user": {_id,
    active}}`."""

    permission_classes = [requires("edit-other-user-info")]

    class Input(V1Input):
        userId = Text(required=True, ajv=True)
        activeStatus = Flag(required=True, ajv=True)

        class Meta:
            ref_name = "UsersSetActiveStatus"

    def post(self, request: Request) -> Response:
        given = self.parse()
        user = set_user_active_status(user_id=given["userId"], active=given["activeStatus"])
        return ok({"user": active_status_json(user)})


@extend_schema(
    responses=api.v1_success("UserToken", {"data": api.shape("UserTokenData", LOGIN_DATA)})
)
class UsersCreateTokenView(V1View):
    """POST /api/v1/users.createToken {userId | username}: a new login token for anyone, one's
    own too, by a holder of user-generate-access-token (a caller without it is refused before
    the user is looked up). Answers `{"data": {userId, authToken}}`."""

    permission_classes = [requires("user-generate-access-token")]
    Input = UserLookup

    def post(self, request: Request) -> Response:
        user = user_from_params(self.parse())
        secret = issue_token_for(by=user_of(request), user=user)
        return ok({"data": login_token_json(user, secret)})


# --- presence ------------------------------------------------------------------------------------

PRESENCE_CHANGES_MINUTES = 10  # users.presence?from= older than this answers the full list


@extend_schema(
    responses=api.v1_success(
        "UserPresence",
        {"presence": api.text(), "connectionStatus": api.text(), "lastLogin": api.text()},
    ),
)
class UsersGetPresenceView(V1View):
    """GET /api/v1/users.getPresence?userId=… or ?username=…: `{presence}` (online, away, busy
    or offline); one's own (no parameter) adds `connectionStatus` and `lastLogin`."""

    Input = UserLookup

    def get(self, request: Request) -> Response:
        given, viewer = self.parse(), user_of(request)
        if is_caller(given, viewer):
            own = presence.presence_of(viewer.pk)
            body = {"presence": own.status, "connectionStatus": own.connection}
            if viewer.last_login is not None:
                body["lastLogin"] = iso_ms(viewer.last_login)
            return ok(body)
        user = user_from_params(given)
        return ok({"presence": presence.presence_of(user.pk).status})


PRESENCE_USER = api.shape(
    "PresenceUser",
    {
        "_id": api.text(),
        "username": api.text(),
        "name": api.text(),
        "status": api.text(),
        "statusText": api.text(),
        "utcOffset": serializers.IntegerField(),
    },
    many=True,
)


@extend_schema(
    responses=api.v1_success("UsersPresence", {"users": PRESENCE_USER, "full": api.flag()}),
)
class UsersPresenceView(V1View):
    """GET /api/v1/users.presence: the users not offline, `full: true`; with `ids`, those of
    them not offline; with `from` (an ISO date less than 10 minutes ago), every user but oneself
    whose status changed since, offline ones included. Each as {_id, username, name, status,
    utcOffset, statusText?}."""

    class Input(V1Input):
        ids = Strings("User ids (repeated, or separated by commas): those not offline")
        locals()["from"] = Text(  # a Python keyword
            "An ISO date: the users whose status changed since (10 minutes at most)", ajv=True
        )

    def get(self, request: Request) -> Response:
        given = self.parse()
        ids, since = given["ids"], given["from"]
        online = presence.not_offline()
        if ids is not None:
            wanted = {uid for item in ids for uid in item.split(",")}
            found = {uid: online[uid] for uid in wanted if uid in online}
            return ok({"users": presence_users(found), "full": False})
        moment = recent_moment(since)
        if moment is not None:
            changed = set(presence.changed_since(moment.timestamp())) - {user_of(request).pk}
            found = {uid: online.get(uid, (presence.OFFLINE, "")) for uid in changed}
            return ok({"users": presence_users(found), "full": False})
        return ok({"users": presence_users(online), "full": True})


def recent_moment(raw: str | None) -> datetime | None:
    """users.presence's `from`, when it is a date (with its zone) of the last 10 minutes; an
    older or unreadable one asks for the full list, as in Rocket.Chat."""
    try:
        moment = parse_datetime(raw) if raw else None
    except ValueError:
        return None
    if moment is None or not timezone.is_aware(moment):
        return None
    if (timezone.now() - moment).total_seconds() >= PRESENCE_CHANGES_MINUTES * 60:
        return None
    return moment


def presence_users(found: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """users.presence's users, by username, from (status, statusText) by id: one query."""
    items = []
    for user in users_with_ids(list(found)):
        status, note = found[user.pk]
        item = {
            "_id": user.pk,
            "username": user.username,
            "name": user.name,
            "status": status,
            "utcOffset": 0,
        }
        if note:
            item["statusText"] = note
        items.append(item)
    return items


class StatusInput(V1Input):
    status = Text("online, away, busy, or offline (to look invisible)", ajv=True)
    message = Text("The status text; an empty one clears it", ajv=True)


@extend_schema(responses=api.V1_DONE)
class UsersSetStatusView(V1View):
    """POST /api/v1/users.setStatus {status?, message?}: one's chosen status and status text;
    someone else's (userId or username) needs edit-other-user-info. Sockets see the change."""

    class Input(StatusInput, UserLookup):
        class Meta:
            ref_name = "UsersSetStatus"

    def post(self, request: Request) -> Response:
        given, viewer = self.parse(), user_of(request)
        status, message = given["status"], given["message"]
        if status is None and message is None:
            raise ajv_error("must have required property 'status'", "status")
        if is_caller(given, viewer):
            user = viewer
        else:
            check_permission(viewer, "edit-other-user-info")
            user = user_from_params(given)
        presence.set_status(user_id=user.pk, status=status or None, text=message)
        return ok()


# --- settings -------------------------------------------------------------------------------

SETTING_FIELDS = {
    "_id": api.text(),
    "value": serializers.JSONField(help_text="A boolean, number or string."),
}


class SettingsInput(PageInput):
    """offset and count, and which settings: `query` as Rocket.Chat's clients send it,
    {"_id": {"$in": [ids]}} (or {"_id": id}), or `_id` as ids joined by commas."""

    query = Text('A JSON object: {"_id": {"$in": ["Site_Name", ...]}} or {"_id": "Site_Name"}.')
    _id = Text("Setting ids, joined by commas.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        ids: set[str] | None = None
        if attrs["_id"]:
            ids = {part.strip() for part in attrs["_id"].split(",") if part.strip()}
        if attrs["query"]:
            named = ids_of_query(attrs["query"])
            ids = named if ids is None else ids & named
        return {**attrs, "ids": ids}


def ids_of_query(text: str) -> set[str]:
    """The ids a settings `query` names; v1's failure for anything else (we filter on _id only)."""
    try:
        query = json.loads(text)
    except ValueError:
        raise v1_failure("Invalid query parameter provided", "error-invalid-query") from None
    if not isinstance(query, dict) or set(query) - {"_id"}:
        raise v1_failure('Only {"_id": ...} may be queried', "error-invalid-query")
    wanted = query.get("_id")
    if isinstance(wanted, str):
        return {wanted}
    if (
        isinstance(wanted, dict)
        and set(wanted) == {"$in"}
        and isinstance(wanted["$in"], list)
        and all(isinstance(item, str) for item in wanted["$in"])
    ):
        return set(wanted["$in"])
    raise v1_failure('"_id" must be an id or {"$in": [ids]}', "error-invalid-query")


def settings_page(given: dict[str, Any], *, public_only: bool) -> Response:
    """A page of settings, ordered by id: {settings: [{_id, value}], count, offset, total}. The
    whole list comes from the process's snapshot (no query when it still counts)."""
    page, ids = given["page"], given["ids"]
    chosen = [
        {"_id": item["entry"].id, "value": item["value"]}
        for item in site_settings.all_values()
        if (item["entry"].public or not public_only) and (ids is None or item["entry"].id in ids)
    ]
    shown = chosen[page.offset : page.offset + page.count]
    return ok({"settings": shown, "count": len(shown), "offset": page.offset, "total": len(chosen)})


@extend_schema(
    responses=api.v1_page(
        "SettingsPublic", "settings", api.shape("Setting", SETTING_FIELDS, many=True)
    )
)
class SettingsPublicView(V1View):
    """GET /api/v1/settings.public: the public settings, for anyone (no login needed)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    Input = SettingsInput

    def get(self, request: Request) -> Response:
        return settings_page(self.parse(), public_only=True)


@extend_schema(
    responses=api.v1_page(
        "Settings", "settings", api.shape("SettingOfAll", SETTING_FIELDS, many=True)
    )
)
class SettingsView(V1View):
    """GET /api/v1/settings: every setting for holders of view-privileged-setting; the public
    ones for other signed-in users, as Rocket.Chat answers them."""

    Input = SettingsInput

    def get(self, request: Request) -> Response:
        privileged = has_permission(user_of(request), "view-privileged-setting")
        return settings_page(self.parse(), public_only=not privileged)


class SettingValueInput(V1Input):
    value = serializers.JSONField(
        required=False, allow_null=True, help_text="The new value (null: back to the default)."
    )

    class Meta:
        ref_name = "SettingValue"


@extend_schema(
    methods=["GET"],
    responses=api.v1_success("SettingOne", SETTING_FIELDS),
)
@extend_schema(methods=["POST"], request=SettingValueInput, responses=api.V1_DONE)
class SettingOneView(V1View):
    """GET /api/v1/settings/<id> (view-privileged-setting): {_id, value}. POST with {"value": …}
    (edit-privileged-setting) sets it, through the service the admin uses too."""

    permission_classes = [requires("view-privileged-setting")]

    def get(self, request: Request, setting_id: str) -> Response:
        if setting_id not in site_settings.BY_ID:
            raise v1_failure("Setting not found", "error-setting-not-found")
        return ok({"_id": setting_id, "value": site_settings.value_of(setting_id)})

    def post(self, request: Request, setting_id: str) -> Response:
        given = self.params()
        if "value" not in given:
            raise v1_failure('The "value" parameter is required', "error-invalid-params")
        change_setting(user=user_of(request), setting_id=setting_id, value=given["value"])
        return ok()


@extend_schema(
    responses=api.v1_success(
        "ServiceConfigurations",
        {"configurations": serializers.ListField(child=api.anything(), help_text="None yet.")},
    )
)
class ServiceConfigurationsView(V1View):
    """GET /api/v1/service.configurations: the OAuth services one may log in with: none."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return ok({"configurations": []})


# --- preferences, suggestions, other logins, forgotten passwords ----------------------------------


@extend_schema_field({"type": "object", "additionalProperties": {}})
class AnyObject(Param):
    """A JSON object (from a form or query string, as JSON text) whose keys the service checks."""

    ajv_words = {**Param.ajv_words, "invalid": "must be object"}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = json_from_form(data)
        if not isinstance(value, dict):
            self.fail("invalid")
        return cast(dict[str, Any], value)


PREFERENCES = api.anything("Rocket.Chat's preference keys (users.setPreferences lists them).")


@extend_schema(responses=api.v1_success("UserPreferences", {"preferences": PREFERENCES}))
class UsersGetPreferencesView(V1View):
    """GET /api/v1/users.getPreferences: one's own preferences, `{preferences: {...}}`."""

    def get(self, request: Request) -> Response:
        return ok({"preferences": dict(user_of(request).preferences)})


@extend_schema(
    responses=api.v1_success(
        "UserPreferencesSet",
        {
            "user": api.shape(
                "UserWithPreferences",
                {
                    "_id": api.text(),
                    "settings": api.shape("UserSettings", {"preferences": PREFERENCES}),
                },
            )
        },
    )
)
class UsersSetPreferencesView(V1View):
    """POST /api/v1/users.setPreferences {userId?, data: {...}}: sets the given preferences
    (known keys, each of its type; the others stay), one's own or, with edit-other-user-info,
    another's. Answers `{user: {_id, settings: {preferences}}}`."""

    class Input(V1Input):
        userId = Text(ajv=True)
        # The metaclass takes declared fields out of the class: Serializer.data stays DRF's.
        data = AnyObject(required=True, ajv=True)  # type: ignore[assignment]

        class Meta:
            ref_name = "UsersSetPreferences"

    def post(self, request: Request) -> Response:
        given = self.parse()
        user = set_preferences(by=user_of(request), user_id=given["userId"], data=given["data"])
        return ok({"user": {"_id": user.pk, "settings": {"preferences": user.preferences}}})


@extend_schema(responses=api.v1_success("UsernameSuggestion", {"result": api.text()}))
class UsersGetUsernameSuggestionView(V1View):
    """GET /api/v1/users.getUsernameSuggestion: `{result}`, a username no one has, made from
    one's name."""

    def get(self, request: Request) -> Response:
        return ok({"result": username_suggestion(user=user_of(request))})


class AutocompleteSelector(V1Input):
    term = Text(ajv=True)
    exceptions = Strings()
    conditions = AnyObject(ajv=True)

    class Meta:
        ref_name = "UsersAutocompleteSelector"


AUTOCOMPLETE_ITEM = api.shape(
    "AutocompleteUser",
    {"_id": api.text(), "username": api.text(), "name": api.text(), "status": api.text()},
    many=True,
)


@extend_schema(responses=api.v1_success("UsersAutocomplete", {"items": AUTOCOMPLETE_ITEM}))
class UsersAutocompleteView(V1View):
    """GET /api/v1/users.autocomplete?selector={"term", "exceptions", "conditions"}: up to 10
    active users whose username or name contains `term`, but the usernames in `exceptions`;
    without view-d-room, only those sharing a room with the caller. `conditions` (a MongoDB
    query in Rocket.Chat) may only be empty here."""

    class Input(V1Input):
        selector = JsonObject(
            AutocompleteSelector,
            "A JSON object: {term, exceptions, conditions}",
            required=True,
            ajv=True,
        )

    def get(self, request: Request) -> Response:
        selector, viewer = self.parse()["selector"], user_of(request)
        if selector.get("conditions"):
            raise v1_failure("error-invalid-query", "error-invalid-query")
        found = users_to_autocomplete(
            viewer,
            term=(selector.get("term") or "").strip(),
            exceptions=selector.get("exceptions") or [],
            anyone=has_permission(viewer, "view-d-room"),
        )
        statuses = presence.statuses(user.pk for user in found)
        items = [
            {"_id": u.pk, "username": u.username, "name": u.name, "status": statuses[u.pk]}
            for u in found
        ]
        return ok({"items": items})


@extend_schema(request=None, responses=api.V1_DONE)
class UsersRemoveOtherTokensView(V1View):
    """POST /api/v1/users.removeOtherTokens: ends every login of the caller but this one; their
    sockets close (4001)."""

    def post(self, request: Request) -> Response:
        end_other_logins(user=user_of(request), keep_token_id=cast(LoginToken, request.auth).pk)
        return ok()


@extend_schema(
    request=None,
    responses=api.v1_success(
        "LogoutOtherClients", {"token": api.text(), "tokenExpires": api.text()}
    ),
)
class UsersLogoutOtherClientsView(V1View):
    """POST /api/v1/users.logoutOtherClients: ends every login of the caller but this one, as
    removeOtherTokens, and answers this one's token (from X-Auth-Token) and its expiry, as
    Rocket.Chat does: `{token, tokenExpires}`."""

    def post(self, request: Request) -> Response:
        secret = request.META.get("HTTP_X_AUTH_TOKEN", "")
        if not secret:
            raise v1_error("x-auth-token is required", "error-parameter-required")
        token = cast(LoginToken, request.auth)
        end_other_logins(user=user_of(request), keep_token_id=token.pk)
        return ok({"token": secret, "tokenExpires": iso_ms(token.expires_at)})


@extend_schema(responses=api.V1_DONE)
class UsersForgotPasswordView(V1View):
    """POST /api/v1/users.forgotPassword {email}: mails a password reset link (one use, valid
    PASSWORD_RESET_TIMEOUT) to the user with this address, if any; the same answer either way.
    The link's token is spent by the realtime method resetPassword(token, newPassword).
    FORGOT_PASSWORD_RATE per client address and per e-mail address."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class Input(V1Input):
        email = Text(required=True, missing=lambda _: v1_failure("The 'email' param is required"))

        class Meta:
            ref_name = "UsersForgotPassword"

    def post(self, request: Request) -> Response:
        email = self.parse()["email"]
        send_password_reset(email=email, address=client_address(request._request))
        return ok()
