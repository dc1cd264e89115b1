"""The realtime methods over REST, as Rocket.Chat's web and mobile clients call them:
`POST /api/v1/method.call/<name>` and `/method.callAnon/<name>` with `{"message": "<EJSON of a
DDP method frame>"}`, answered `{"message": "<EJSON of the DDP result frame>", "success": true}`:
the frame the socket sends, from the same registry, rules, budgets and errors."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from accounts.tokens import issue_login_token, verify_login_token
from chat_project.db.timestamps import epoch_ms
from rooms.models import Message, Room
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, in_thread, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def frame(method: str, *params: Any, method_id: str = "7") -> dict[str, str]:
    """The body a Rocket.Chat client posts: the DDP method frame as EJSON text."""
    text = json.dumps({"msg": "method", "id": method_id, "method": method, "params": list(params)})
    return {"message": text}


def result_frame(response: Any) -> dict[str, Any]:
    """The DDP frame inside a 200 answer, after checking the answer's own shape."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"message", "success"} and body["success"] is True, body
    return json.loads(body["message"])


def meteor_error(error: Any, reason: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"isClientSafe": True, "error": error, "reason": reason}
    if details:
        body["details"] = details
    return body | {"message": f"{reason} [{error}]", "errorType": "Meteor.Error"}


def invalid_method_call(detail: str) -> dict[str, Any]:
    return v1_refusal(
        "Invalid method call", "Invalid method call", "error-invalid-method-call", detail
    )


def v1_refusal(error: str, message: str, error_type: str, detail: str) -> dict[str, Any]:
    """Rocket.Chat v1's 400 in our envelope (less its request_id)."""
    return {
        "success": False,
        "status": "fail",
        "status_code": 400,
        "error": error,
        "message": message,
        "errorType": error_type,
        "detailed_error": detail,
    }


@pytest.fixture
def room(alice, bob):
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=alice)
    SubscriptionFactory(room=room, user=bob)
    return room


def test_method_call_send_message_posts_and_answers_the_sockets_result_frame(api, bob, room):
    token = issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            await ddp.sub("stream-room-messages", room.pk)
            over_rest = await rest(
                api,
                "post",
                "/api/v1/method.call/sendMessage",
                bob,
                token,
                frame("sendMessage", {"_id": "fromRest00000001", "rid": room.pk, "msg": "hi"}),
            )
            pushed = await ddp.changed("stream-room-messages", room.pk)
            over_socket = await ddp.call(
                "sendMessage", {"_id": "fromSocket000001", "rid": room.pk, "msg": "hi"}
            )
            return over_rest, pushed, over_socket

    over_rest, pushed, over_socket = run(scenario())
    sent = Message.objects.get(pk="fromRest00000001")
    result = result_frame(over_rest)
    assert result == {
        "msg": "result",
        "id": "7",
        "result": {
            "_id": "fromRest00000001",
            "rid": room.pk,
            "msg": "hi",
            "ts": {"$date": epoch_ms(sent.ts)},
            "u": {"_id": bob.pk, "username": "bob", "name": "Bob"},
            "_updatedAt": {"$date": epoch_ms(sent.updated_at)},
        },
    }
    # What the room's subscribers were sent, and what a socket's sendMessage answers.
    assert pushed["fields"]["args"] == [result["result"]]
    from_socket = Message.objects.get(pk="fromSocket000001")

    def own(message: dict[str, Any], m: Message) -> dict[str, Any]:
        times = {"ts": {"$date": epoch_ms(m.ts)}, "_updatedAt": {"$date": epoch_ms(m.updated_at)}}
        assert {k: message[k] for k in times} == times
        return {k: v for k, v in message.items() if k not in ("_id", *times)}

    assert set(over_socket) == {"msg", "id", "result"}
    assert own(over_socket["result"], from_socket) == own(result["result"], sent)


def test_method_call_answers_the_sockets_meteor_errors_in_a_200(api, alice, bob, room):
    closed = RoomFactory(name="closed", t=Room.Type.GROUP)
    SubscriptionFactory(room=closed, user=alice)
    token = issue_login_token(user=bob)

    def call(path_name: str, body: dict[str, str]) -> dict[str, Any]:
        return result_frame(
            run(rest(api, "post", f"/api/v1/method.call/{path_name}", bob, token, body))
        )

    hidden = call("sendMessage", frame("sendMessage", {"rid": closed.pk, "msg": "let me in"}))
    assert hidden == {
        "msg": "result",
        "id": "7",
        "error": meteor_error("error-room-not-found", "Room not found.", {"method": "sendMessage"}),
    }
    assert call("nope", frame("nope")) == {
        "msg": "result",
        "id": "7",
        "error": meteor_error(404, "Method 'nope' not found"),
    }
    assert call("loadHistory", frame("loadHistory", 42)) == {
        "msg": "result",
        "id": "7",
        "error": meteor_error(
            "error-invalid-params", "Invalid parameters", {"method": "loadHistory"}
        ),
    }
    assert not Message.objects.filter(room=closed).exists()

    async def over_the_socket():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            return await ddp.call("sendMessage", {"rid": closed.pk, "msg": "let me in"})

    assert run(over_the_socket())["error"] == hidden["error"]  # the socket's very words
    # The valid call still works.
    posted = call("sendMessage", frame("sendMessage", {"rid": room.pk, "msg": "ok"}))
    assert posted["result"]["msg"] == "ok"


def test_method_call_takes_a_slash_in_the_name_as_the_web_client_writes_it(api, bob, room):
    token = issue_login_token(user=bob)
    answer = run(rest(api, "post", "/api/v1/method.call/rooms:get", bob, token, frame("rooms/get")))
    result = result_frame(answer)
    assert [r["_id"] for r in result["result"]] == [room.pk]


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (
            {},
            v1_refusal(
                "must have required property 'message' [invalid-params]",
                "must have required property 'message'",
                "invalid-params",
                "message: must have required property 'message'",
            ),
        ),
        (
            {"message": 42},
            v1_refusal(
                "must be string [invalid-params]",
                "must be string",
                "invalid-params",
                "message: must be string",
            ),
        ),
        ({"message": "{nope"}, invalid_method_call("The message is not JSON text.")),
        (
            {"message": json.dumps({"msg": "method", "method": "sendMessage", "params": []})},
            invalid_method_call(
                "The message must be a DDP method frame: "
                '{"msg": "method", "id", "method", "params"}.'
            ),
        ),
        (
            {"message": json.dumps(["method"])},
            invalid_method_call(
                "The message must be a DDP method frame: "
                '{"msg": "method", "id", "method", "params"}.'
            ),
        ),
        (
            {
                "message": json.dumps(
                    {"msg": "sub", "id": "1", "method": "sendMessage", "params": []}
                )
            },
            invalid_method_call('"msg" must be "method", and "id" and "method" strings.'),
        ),
        (
            {
                "message": json.dumps(
                    {"msg": "method", "id": "1", "method": "sendMessage", "params": {}}
                )
            },
            invalid_method_call('"params" must be an array.'),
        ),
        (
            frame("deleteMessage", {"_id": "x"}),
            invalid_method_call(
                "The path names the method 'sendMessage', the message calls 'deleteMessage'."
            ),
        ),
    ],
)
def test_method_call_refuses_a_body_that_is_not_the_named_method_frame(
    api, bob, room, body, answer
):
    token = issue_login_token(user=bob)
    path = "/api/v1/method.call/sendMessage"
    refused = run(rest(api, "post", path, bob, token, body))
    assert refused.status_code == 400
    assert {k: v for k, v in refused.json().items() if k != "request_id"} == answer
    assert not Message.objects.exists()
    ok = run(
        rest(api, "post", path, bob, token, frame("sendMessage", {"rid": room.pk, "msg": "a"}))
    )
    assert result_frame(ok)["result"]["msg"] == "a"


def test_method_call_needs_a_login(api, room):
    answer = api.post(
        "/api/v1/method.call/sendMessage",
        frame("sendMessage", {"rid": room.pk, "msg": "anonymous"}),
        format="json",
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "You must be logged in to do this."
    assert not Message.objects.exists()


def test_method_call_logout_revokes_the_token_that_called(api, bob):
    token = issue_login_token(user=bob)
    answer = run(rest(api, "post", "/api/v1/method.call/logout", bob, token, frame("logout")))
    assert result_frame(answer) == {"msg": "result", "id": "7"}
    assert verify_login_token(token) is None
    again = run(rest(api, "get", "/api/v1/me", bob, token))
    assert again.status_code == 401


def test_call_anon_refuses_methods_that_need_a_login_whatever_the_headers(api, bob, room):
    token = issue_login_token(user=bob)
    body = frame("sendMessage", {"rid": room.pk, "msg": "sneaky"})
    anonymous = api.post("/api/v1/method.callAnon/sendMessage", body, format="json")
    with_headers = run(rest(api, "post", "/api/v1/method.callAnon/sendMessage", bob, token, body))
    refusal = {
        "msg": "result",
        "id": "7",
        "error": meteor_error("error-invalid-user", "Invalid user", {"method": "sendMessage"}),
    }
    assert result_frame(anonymous) == refusal
    assert result_frame(with_headers) == refusal
    assert not Message.objects.exists()


def test_call_anon_login_answers_a_token_that_signs_the_client_in(api, db):
    UserFactory(username="carol", password="Correct-Horse-9")
    wrong = api.post(
        "/api/v1/method.callAnon/login",
        frame("login", {"user": {"username": "carol"}, "password": "nope"}),
        format="json",
    )
    assert result_frame(wrong) == {
        "msg": "result",
        "id": "7",
        "error": {"isClientSafe": True, "error": 401, "reason": "User not found"}
        | {"message": "User not found [401]", "errorType": "Meteor.Error"},
    }
    answer = api.post(
        "/api/v1/method.callAnon/login",
        frame("login", {"user": {"username": "carol"}, "password": "Correct-Horse-9"}),
        format="json",
    )
    result = result_frame(answer)
    carol_token = verify_login_token(result["result"]["token"])
    assert carol_token is not None
    assert result == {
        "msg": "result",
        "id": "7",
        "result": {
            "id": carol_token.user_id,
            "token": result["result"]["token"],
            "tokenExpires": {"$date": epoch_ms(carol_token.expires_at)},
            "type": "password",
        },
    }
    me = api.get(
        "/api/v1/me",
        HTTP_X_AUTH_TOKEN=result["result"]["token"],
        HTTP_X_USER_ID=carol_token.user_id,
    )
    assert me.status_code == 200 and me.json()["username"] == "carol"


def test_call_anon_answers_login_free_methods(api, db):
    answer = api.post(
        "/api/v1/method.callAnon/public-settings:get",
        frame("public-settings/get"),
        format="json",
    )
    result = result_frame(answer)
    assert set(result) == {"msg", "id", "result"} and isinstance(result["result"], list)


def too_many_requests(ms: int) -> dict[str, Any]:
    reason = (
        "Error, too many requests. Please slow down. "
        f"You must wait {math.ceil(ms / 1000)} seconds before trying again."
    )
    return meteor_error("too-many-requests", reason, {"timeToReset": ms})


@pytest.mark.rate_limited
def test_method_call_spends_the_users_socket_budgets(settings, clock, api, bob, room):
    settings.REALTIME_SEND_RATE = "4/s"
    settings.RATELIMIT_RATE = "100/s"
    token = issue_login_token(user=bob)

    def send_over_rest(text: str) -> Any:
        body = frame("sendMessage", {"rid": room.pk, "msg": text})
        return rest(api, "post", "/api/v1/method.call/sendMessage", bob, token, body)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            answers = [
                await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 1"}),
                result_frame(await send_over_rest("rest 1")),
                await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 2"}),
                result_frame(await send_over_rest("rest 2")),
                await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 3"}),
                result_frame(await send_over_rest("rest 3")),
            ]
            clock.advance(1)
            answers.append(result_frame(await send_over_rest("rest 4")))
            return answers

    answers = run(scenario())
    outcomes = [answer.get("error", "sent") for answer in answers]
    # 4 at once, then one every 250 ms, whichever way they come
    assert outcomes == ["sent"] * 4 + [too_many_requests(250)] * 2 + ["sent"]
    texts = list(room.messages.order_by("ts").values_list("msg", flat=True))
    assert texts == ["socket 1", "rest 1", "socket 2", "rest 2", "rest 4"]


@pytest.mark.rate_limited
def test_call_anon_logins_spend_the_address_budget_of_socket_logins(settings, clock, api, db):
    settings.REALTIME_METHOD_RATE = "2/s"

    def attempt() -> dict[str, Any]:
        body = frame("login", {"user": {"username": "nobody"}, "password": "x"})
        return result_frame(api.post("/api/v1/method.callAnon/login", body, format="json"))

    async def over_the_socket():
        async with DDPClient() as ddp:
            return await ddp.call("login", {"user": {"username": "nobody"}, "password": "x"})

    first = attempt()
    socket = run(over_the_socket())
    third = run(in_thread(attempt))
    assert first["error"]["error"] == 401
    assert socket["error"]["error"] == 401
    assert third["error"] == too_many_requests(500)


@pytest.mark.rate_limited
def test_a_send_over_method_call_spends_the_rest_send_budget_once(settings, clock, api, bob, room):
    """The request is not counted apart: the method spends its twin route's budget (shared with
    chat.postMessage), once, as the socket's sendMessage does."""
    settings.RATELIMIT_RATE = "3/s"
    settings.RATELIMIT_BURST = 3
    settings.REALTIME_SEND_RATE = "100/s"
    token = issue_login_token(user=bob)

    def send_over_rest(text: str) -> Any:
        body = frame("sendMessage", {"rid": room.pk, "msg": text})
        return rest(api, "post", "/api/v1/method.call/sendMessage", bob, token, body)

    def post(text: str) -> Any:
        body = {"roomId": room.pk, "text": text}
        return rest(api, "post", "/api/v1/chat.postMessage", bob, token, body)

    async def scenario():
        return [
            await send_over_rest("call 1"),
            await send_over_rest("call 2"),
            await post("post 1"),
            await post("post 2"),
        ]

    call_1, call_2, post_1, post_2 = run(scenario())
    assert [result_frame(call).get("error", "sent") for call in (call_1, call_2)] == ["sent"] * 2
    assert "X-Ratelimit-Remaining" not in call_1  # counted by the method, not as a request
    assert (post_1.status_code, post_1["X-Ratelimit-Remaining"]) == (200, "0")
    assert post_2.status_code == 429
