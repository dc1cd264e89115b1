"""The 0.1 API's endpoints for servers and sessions: version, info, login, logout."""

from __future__ import annotations

import os
import platform
from typing import Any, cast

import django
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import authenticate_http_request
from accounts.models import LoginToken
from accounts.services import log_in, log_out, register_users
from chat_project.http import schema as api
from chat_project.http.fields import StrictCharField, batch_param
from chat_project.http.ratelimit import client_address
from permissions.checks import has_permission, requires

# What Rocket.Chat's beta REST API answered; clients of the 0.1 API check it verbatim.
API_VERSIONS = {"api": "0.1", "rocketchat": "0.5"}
LOGGED_OUT = "You've been logged out!"

LOGIN_FIELDS = {
    "user": api.text("A username or email address.", required=True),
    "username": api.text("Instead of user.", blank=False),
    "email": api.text("Instead of user.", blank=False),
    "password": api.text(required=True),
}
LOGIN_DATA = {"authToken": api.text(), "userId": api.text()}
LOGOUT = api.success_01("Logout", {"data": api.shape("LogoutData", {"message": api.text()})})


@extend_schema(
    responses=api.success_01(
        "Version",
        {"versions": api.shape("Versions", {"api": api.text(), "rocketchat": api.text()})},
    )
)
class VersionView(APIView):
    """GET /api/version: the one call that needs no login."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "success", "versions": API_VERSIONS})


@extend_schema(
    responses=api.v1_success(
        "Info",
        {
            "version": api.text("The Rocket.Chat version whose API this server follows."),
            "serverVersion": api.text("This server's own version."),
            "info": serializers.DictField(
                required=False, help_text="Build details, for holders of view-statistics."
            ),
        },
    )
)
class InfoView(APIView):
    """GET /api/info: `version`, the Rocket.Chat version whose API this server follows
    (ROCKETCHAT_API_VERSION: Rocket.Chat's clients switch features on it), and our own,
    `serverVersion`, in the body 0.1 and v1 clients both read; with build details under `info`
    for holders of view-statistics (bad credentials are ignored here, as Rocket.Chat ignores
    them: the version is public)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        body: dict[str, Any] = versions()
        login = authenticate_http_request(request._request, quiet=True)
        if login is not None and has_permission(login[0], "view-statistics"):
            body["info"] = build_info()
        return Response(body | {"success": True})


def versions() -> dict[str, str]:
    return {"version": settings.ROCKETCHAT_API_VERSION, "serverVersion": settings.VERSION}


def build_info() -> dict[str, Any]:
    return {
        **versions(),
        "build": {
            "pythonVersion": platform.python_version(),
            "djangoVersion": django.get_version(),
            "platform": platform.system().lower(),
            "arch": platform.machine(),
            "osRelease": platform.release(),
            "cpus": os.cpu_count() or 1,
        },
    }


class LoginInput(serializers.Serializer):
    user = StrictCharField(required=False, max_length=254, help_text="A username or email address.")
    username = StrictCharField(required=False, max_length=254, help_text="Instead of user.")
    email = StrictCharField(required=False, max_length=254, help_text="Instead of user.")
    password = StrictCharField(max_length=1024, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for kind in ("user", "username", "email"):
            if attrs.get(kind):
                attrs["kind"], attrs["identifier"] = kind, attrs[kind]
                return attrs
        raise serializers.ValidationError("One of user, username or email is required.")


@extend_schema(
    request=api.body("Login", LOGIN_FIELDS),
    responses={
        200: api.success_01("Login", {"data": api.shape("LoginData", LOGIN_DATA)}),
        **api.errors(401, 503),
    },
)
class LoginView(APIView):
    """POST /api/login with `user` (or `username` or `email`) and `password`, form or JSON."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        given = LoginInput(data=request.data)
        given.is_valid(raise_exception=True)
        user, secret = log_in(
            identifier=given.validated_data["identifier"],
            kind=given.validated_data["kind"],
            password=given.validated_data["password"],
            address=client_address(request._request),
        )
        return Response({"status": "success", "data": {"authToken": secret, "userId": user.pk}})


@extend_schema(request=None, responses=LOGOUT)
class LogoutView(APIView):
    """GET or POST /api/logout: revokes the token that made the call."""

    def get(self, request: Request) -> Response:
        log_out(token_id=cast(LoginToken, request.auth).pk)
        return Response({"status": "success", "data": {"message": LOGGED_OUT}})

    post = get


@extend_schema(
    request=api.body(
        "BulkRegister",
        {
            "users": api.shape(
                "BulkRegisterUser",
                {
                    "email": serializers.EmailField(),
                    "name": api.text(required=True),
                    "pass": api.text(required=True),
                },
                many=True,
            )
        },
    ),
    responses=api.success_01(
        "BulkRegistered",
        {"ids": api.shape("RegisteredId", {"uid": api.text()}, many=True)},
    ),
)
class BulkRegisterView(APIView):
    """POST /api/bulk/register {"users": [{"email", "name", "pass"}, ...]}: all or none."""

    permission_classes = [requires("bulk-register-user")]

    def post(self, request: Request) -> Response:
        users = register_users(records=batch_param(request.data, "users"))
        return Response({"status": "success", "ids": [{"uid": user.pk} for user in users]})
