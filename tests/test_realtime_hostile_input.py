"""Nothing a client sends over the socket is a 500: every method, with parameters of every
wrong shape, answers a result or a Meteor error of the client's making."""

from __future__ import annotations

import pytest

from accounts.tokens import issue_login_token
from chat_project.realtime.methods import REGISTRY
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import DDPClient, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    2**70,
    1.5,
    "",
    "x" * 300,
    "GENERAL",
    "\x00",
    "' OR 1=1 --",
    [],
    [None],
    {},
    {"$date": "soon"},
    {"$date": 10**20},
    {"rid": 7, "msg": ["x"], "_id": {}},
    {"rid": "GENERAL", "msg": None},
    {"limit": -5, "skip": "many"},
]

# login and logout change the connection itself; they have tests of their own.
METHODS = sorted(name for name in REGISTRY if name not in {"login", "logout"})


@pytest.mark.parametrize("method", METHODS)
def test_every_method_answers_odd_parameters_without_a_server_error(settings, method):
    settings.REALTIME_METHOD_RATE = "1000/s"
    settings.REALTIME_SEND_RATE = "1000/s"
    user = UserFactory()
    room = RoomFactory()
    SubscriptionFactory(room=room, user=user)
    token = issue_login_token(user=user)
    shapes = [[]] + [[value] for value in ODD_VALUES]
    shapes += [[room.pk, value] for value in ODD_VALUES]
    shapes += [[value, value, value, value] for value in ODD_VALUES]

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            return [(params, await ddp.call(method, *params)) for params in shapes]

    for params, answer in run(scenario()):
        assert answer["msg"] == "result", (params, answer)  # a result may be empty (undefined)
        if "error" in answer:
            assert answer["error"]["error"] != 500, (method, params, answer)
            assert answer["error"]["errorType"] == "Meteor.Error"


STREAMS = [
    "stream-room-messages",
    "stream-notify-room",
    "stream-notify-user",
    "stream-notify-logged",
    "stream-user-presence",
]


def test_every_stream_answers_odd_subscriptions_with_ready_or_nosub_never_a_server_error():
    user = UserFactory()
    token = issue_login_token(user=user)

    async def scenario():
        answers = []
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            for name in STREAMS:
                for value in [*ODD_VALUES, "/", f"{user.pk}/", "GENERAL/typing/x", "../../etc"]:
                    sub_id = f"odd{len(answers)}"
                    await ddp.send({"msg": "sub", "id": sub_id, "name": name, "params": [value]})
                    frame = await ddp.wait_for(
                        lambda f, sub_id=sub_id: (
                            f.get("id") == sub_id or sub_id in f.get("subs", [])
                        )
                    )
                    answers.append((name, value, frame))
        return answers

    for name, value, frame in run(scenario()):
        assert frame["msg"] in ("ready", "nosub"), (name, value, frame)
        if "error" in frame:
            assert frame["error"]["error"] != 500, (name, value, frame)
