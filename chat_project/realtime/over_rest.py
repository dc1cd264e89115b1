"""The realtime methods over REST: Rocket.Chat's `POST /api/v1/method.call/<name>` (signed in)
and `POST /api/v1/method.callAnon/<name>` (no login), as its web and mobile clients call methods
when told to use REST for DDP calls.

The body is `{"message": "<EJSON of a DDP method frame>"}`; the answer, whatever the method did,
is 200 `{"message": "<EJSON of the DDP result frame>", "success": true}`, the frame the socket
would send: the result, or the Meteor error in the socket's words. Only a body that is not a
method frame is refused as such (400, Rocket.Chat's "Invalid method call").

Each call goes to the one registry the socket uses (chat_project.realtime.methods): the same
function, the same login check, the same budgets (its own DDP budget and its REST twin's, per
user, shared with the user's sockets and REST requests) and the same errors. It runs in the
request's thread, as the socket runs it in a worker thread. Without a connection, a method
that would change one (login, logout) changes only what its services do: `login` answers its
token, which the client then sends as REST's X-Auth-Token or the socket's resume.

Like the other transports, this knows no app: the caller is the one REST's authentication class
found (`request.user`, and `request.auth`, the login whose `pk` the login check takes).
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from chat_project.http import schema as api
from chat_project.http.ratelimit import client_address
from chat_project.http.v1 import Text, V1Input, V1View, ok, v1_failure
from chat_project.realtime import methods
from chat_project.realtime.hub import dumps
from chat_project.realtime.methods import Call

INVALID_METHOD_CALL = "Invalid method call"  # Rocket.Chat's API.v1.failure text
FRAME_KEYS = {"msg", "id", "method", "params"}
OPTIONAL_KEYS = {"randomSeed"}  # Meteor's client adds it to some calls; the socket takes it


class MethodCallInput(V1Input):
    # Rocket.Chat checks the body against a JSON schema (ajv): its words for a refusal.
    message = Text(
        "The DDP method frame as EJSON text: "
        '{"msg": "method", "id": "1", "method": "<name>", "params": [...]}.',
        required=True,
        ajv=True,
    )

    class Meta:
        ref_name = "MethodCall"


def method_frame(text: str, path_name: str) -> tuple[str, str, list[Any]]:
    """(id, method, params) of the DDP method frame in `text`, which must name the method the
    path names (with "/" written ":", as Rocket.Chat's web client writes it in the path). Raises
    the 400 "Invalid method call", its detail saying what is wrong."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise invalid("The message is not JSON text.") from None
    if not isinstance(frame, dict) or not FRAME_KEYS <= set(frame) <= FRAME_KEYS | OPTIONAL_KEYS:
        raise invalid(
            'The message must be a DDP method frame: {"msg": "method", "id", "method", "params"}.'
        )
    method_id, name, params = frame["id"], frame["method"], frame["params"]
    if frame["msg"] != "method" or not isinstance(method_id, str) or not isinstance(name, str):
        raise invalid('"msg" must be "method", and "id" and "method" strings.')
    if not isinstance(params, list):
        raise invalid('"params" must be an array.')
    if not isinstance(frame.get("randomSeed", ""), str):
        raise invalid('"randomSeed" must be a string.')
    if path_name not in (name, name.replace("/", ":")):
        raise invalid(f"The path names the method {path_name!r}, the message calls {name!r}.")
    return method_id, name, params


def invalid(detail: str) -> Exception:
    return v1_failure(INVALID_METHOD_CALL, "error-invalid-method-call", detailed_error=detail)


def answered(method_id: str, call: Call, params: list[Any]) -> Response:
    """The DDP result frame of the call, as EJSON text in v1's success body."""
    frame = methods.result_frame(method_id, call.name, lambda: methods.invoke(call, params))
    return ok({"message": dumps(frame)})


RESULT = api.v1_success(
    "MethodResult",
    {
        "message": serializers.CharField(
            help_text='The DDP result frame as EJSON text: {"msg": "result", "id", "result"} '
            'or {"msg": "result", "id", "error": {"isClientSafe", "error", "reason", '
            '"details", "message", "errorType"}}.'
        )
    },
)


@extend_schema(responses={200: RESULT, **api.errors(401)})
class MethodCallView(V1View):
    """POST /api/v1/method.call/<name>: calls a realtime method as the signed-in user, with the
    socket's rules, budgets and errors; answers its DDP result frame as EJSON text."""

    Input = MethodCallInput

    def post(self, request: Request, name: str) -> Response:
        method_id, method, params = method_frame(self.parse()["message"], name)
        user = request.user
        call = Call(
            method,
            address=client_address(request._request),
            user_id=user.pk,
            username=user.get_username(),
            token_id=getattr(request.auth, "pk", None),
            user=user,  # checked by REST's authentication for this very request
        )
        return answered(method_id, call, params)


@extend_schema(responses={200: RESULT})
class MethodCallAnonView(V1View):
    """POST /api/v1/method.callAnon/<name>: calls a realtime method without a login (credentials
    sent are not read): those that need one answer Meteor's "Invalid user" error frame, as over a
    socket not signed in. How clients log in over REST: `login` answers its token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    Input = MethodCallInput

    def post(self, request: Request, name: str) -> Response:
        method_id, method, params = method_frame(self.parse()["message"], name)
        call = Call(method, address=client_address(request._request))
        return answered(method_id, call, params)
