"""The v1 API's endpoints for sessions: login, logout, me."""

from __future__ import annotations

from typing import cast

from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import LoginToken, User
from accounts.serializers import me_json
from accounts.services import log_in, log_out, resume_login
from accounts.views import LOGGED_OUT, LoginInput
from chat_project.fields import StrictCharField
from chat_project.ratelimit import client_address
from chat_project.v1 import V1View, ok


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
