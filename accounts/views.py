"""The 0.1 API's endpoints for servers and sessions: version, info, login, logout."""

from __future__ import annotations

import os
import platform
from typing import Any, cast

import django
from django.conf import settings
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import authenticate_http_request
from accounts.models import LoginToken
from accounts.services import log_in, log_out, register_users
from chat_project.fields import StrictCharField, batch_param
from chat_project.ratelimit import client_address
from permissions.checks import has_permission, requires

# What Rocket.Chat's beta REST API answered; clients of the 0.1 API check it verbatim.
API_VERSIONS = {"api": "0.1", "rocketchat": "0.5"}
LOGGED_OUT = "You've been logged out!"


class VersionView(APIView):
    """GET /api/version: the one call that needs no login."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "success", "versions": API_VERSIONS})


class InfoView(APIView):
    """GET /api/info: the server's version, in the body 0.1 and v1 clients both read; with
    build details under `info` for holders of view-statistics (bad credentials are ignored
    here, as Rocket.Chat ignores them: the version is public)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        body: dict[str, Any] = {"version": settings.VERSION}
        login = authenticate_http_request(request._request, quiet=True)
        if login is not None and has_permission(login[0], "view-statistics"):
            body["info"] = build_info()
        return Response(body | {"success": True})


def build_info() -> dict[str, Any]:
    return {
        "version": settings.VERSION,
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
    user = StrictCharField(required=False, max_length=254)
    username = StrictCharField(required=False, max_length=254)
    email = StrictCharField(required=False, max_length=254)
    password = StrictCharField(max_length=1024, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for kind in ("user", "username", "email"):
            if attrs.get(kind):
                attrs["kind"], attrs["identifier"] = kind, attrs[kind]
                return attrs
        raise serializers.ValidationError("One of user, username or email is required.")


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


class LogoutView(APIView):
    """GET or POST /api/logout: revokes the token that made the call."""

    def get(self, request: Request) -> Response:
        log_out(token=cast(LoginToken, request.auth))
        return Response({"status": "success", "data": {"message": LOGGED_OUT}})

    post = get


class BulkRegisterView(APIView):
    """POST /api/bulk/register {"users": [{"email", "name", "pass"}, ...]}: all or none."""

    permission_classes = [requires("bulk-register-user")]

    def post(self, request: Request) -> Response:
        users = register_users(records=batch_param(request.data, "users"))
        return Response({"status": "success", "ids": [{"uid": user.pk} for user in users]})
