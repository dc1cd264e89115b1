"""What a caller may spend over the socket: method budgets per user (per address before login)
whichever socket they come through, shared with REST for the same action; sockets per address;
how long a socket may stay without logging in; and the bytes a client that stops reading may
keep waiting in the server.

The realtime API runs in-process here (tests/realtime.py); the same with real servers, across
processes and with Redis, is in tests/test_realtime_budgets_live.py."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import tracemalloc
from typing import Any

import pytest

from accounts.tokens import issue_login_token
from chat_project.realtime.hub import current_hub
from rooms.models import Room
from tests.factories import RoomFactory, SubscriptionFactory, UserFactory
from tests.realtime import AsgiSocket, DDPClient, SocketClosed, rest, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def too_many_requests(ms: int) -> dict[str, Any]:
    """Meteor's DDPRateLimiter refusal, as Rocket.Chat sends it: `ms` until one more call."""
    reason = (
        "Error, too many requests. Please slow down. "
        f"You must wait {math.ceil(ms / 1000)} seconds before trying again."
    )
    return {
        "isClientSafe": True,
        "error": "too-many-requests",
        "reason": reason,
        "details": {"timeToReset": ms},
        "message": f"{reason} [too-many-requests]",
        "errorType": "Meteor.Error",
    }


@pytest.fixture
def room(alice, bob):
    room = RoomFactory(name="lobby", t=Room.Type.CHANNEL)
    SubscriptionFactory(room=room, user=alice)
    SubscriptionFactory(room=room, user=bob)
    return room


def outcome(answer: dict[str, Any]) -> Any:
    return answer.get("error", "sent")


@pytest.mark.rate_limited
def test_send_message_budget_is_one_per_user_across_all_their_sockets(
    settings, clock, alice, bob, room
):
    settings.REALTIME_SEND_RATE = "5/s"
    bob_token, alice_token = issue_login_token(user=bob), issue_login_token(user=alice)

    async def scenario():
        async with DDPClient() as one, DDPClient() as two, DDPClient() as three:
            for ddp in (one, two, three):
                await ddp.login_resume(bob_token)
            sockets = [one, two, three] * 3
            answers = [
                await ddp.call("sendMessage", {"rid": room.pk, "msg": f"m{i}"})
                for i, ddp in enumerate(sockets[:7])
            ]
            async with DDPClient() as alices:
                await alices.login_resume(alice_token)
                others = await alices.call("sendMessage", {"rid": room.pk, "msg": "mine"})
            clock.advance(1)
            later = await three.call("sendMessage", {"rid": room.pk, "msg": "later"})
            return answers, others, later

    answers, others, later = run(scenario())
    # 5 at once, then one every 200 ms
    assert [outcome(a) for a in answers] == ["sent"] * 5 + [too_many_requests(200)] * 2
    assert outcome(others) == "sent"  # alice's budget is her own
    assert outcome(later) == "sent"  # the next window
    texts = list(room.messages.order_by("ts").values_list("msg", flat=True))
    assert texts == ["m0", "m1", "m2", "m3", "m4", "mine", "later"]


@pytest.mark.rate_limited
def test_rest_sends_and_socket_sends_draw_from_one_budget(settings, clock, api, bob, room):
    settings.RATELIMIT_RATE = "4/s"
    settings.RATELIMIT_BURST = 4
    settings.REALTIME_SEND_RATE = "100/s"
    token = issue_login_token(user=bob)

    def post(text: str) -> Any:
        body = {"roomId": room.pk, "text": text}
        return rest(api, "post", "/api/v1/chat.postMessage", bob, token, body)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            first_rest = await post("rest 1")
            first_socket = await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 1"})
            second_rest = await post("rest 2")
            second_socket = await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 2"})
            over_socket = await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 3"})
            over_rest = await post("rest 3")
            clock.advance(1)
            again = await ddp.call("sendMessage", {"rid": room.pk, "msg": "socket 4"})
            return (
                first_rest,
                first_socket,
                second_rest,
                second_socket,
                over_socket,
                over_rest,
                again,
            )

    first_rest, first_socket, second_rest, second_socket, over_socket, over_rest, again = run(
        scenario()
    )
    assert first_rest.status_code == 200
    assert first_rest["X-Ratelimit-Remaining"] == "3"
    assert outcome(first_socket) == "sent"
    assert second_rest.status_code == 200
    assert second_rest["X-Ratelimit-Remaining"] == "1"  # the socket's send counted
    assert outcome(second_socket) == "sent"
    assert outcome(over_socket) == too_many_requests(250)
    assert over_rest.status_code == 429
    assert over_rest.json() == {
        "success": False,
        "error": "limit exceeded",
        "errorType": "error-too-many-requests",
    } | {k: v for k, v in over_rest.json().items() if k not in ("success", "error", "errorType")}
    assert outcome(again) == "sent"
    texts = list(room.messages.order_by("ts").values_list("msg", flat=True))
    assert texts == ["rest 1", "socket 1", "rest 2", "socket 2", "socket 4"]


@pytest.mark.rate_limited
def test_holders_of_api_bypass_rate_limit_are_not_counted_on_the_socket(settings, clock, room):
    settings.REALTIME_SEND_RATE = "2/s"
    settings.RATELIMIT_RATE = "2/s"
    bot = UserFactory(username="relay", roles=["bot"])
    SubscriptionFactory(room=room, user=bot)
    token = issue_login_token(user=bot)

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.login_resume(token)
            return [
                await ddp.call("sendMessage", {"rid": room.pk, "msg": f"b{i}"}) for i in range(6)
            ]

    assert [outcome(a) for a in run(scenario())] == ["sent"] * 6


@pytest.mark.rate_limited
def test_before_login_calls_count_per_address_across_sockets(settings, clock):
    settings.REALTIME_METHOD_RATE = "3/s"

    async def scenario():
        async with (
            DDPClient() as one,
            DDPClient() as two,
            DDPClient(client=("192.0.2.7", 40000)) as elsewhere,
        ):
            calls = [await ddp.call("public-settings/get") for ddp in (one, two, one, two)]
            return calls, await elsewhere.call("public-settings/get")

    calls, elsewhere = run(scenario())
    assert ["result" in answer for answer in calls[:3]] == [True] * 3
    assert calls[3]["error"] == too_many_requests(334)  # one every third of a second
    assert "result" in elsewhere


def test_an_address_may_hold_so_many_sockets(settings):
    settings.REALTIME_SOCKETS_PER_ADDRESS = 3

    async def scenario():
        sockets = [AsgiSocket() for _ in range(4)]
        answers = [await socket.open() for socket in sockets]
        other = AsgiSocket(client=("192.0.2.8", 40000))
        other_answer = await other.open()
        await sockets[0].close()
        again = AsgiSocket()
        again_answer = await again.open()
        for socket in [*sockets[1:3], other, again]:
            await socket.close()
        return answers, other_answer, again_answer

    answers, other_answer, again_answer = run(scenario())
    accepted = {"type": "websocket.accept"}
    # Refused before the handshake completes: the server answers 403, no socket opens.
    assert answers == [accepted] * 3 + [{"type": "websocket.close", "code": 1008}]
    assert other_answer == accepted  # another address counts for itself
    assert again_answer == accepted  # a socket that closed frees its place


def test_a_socket_not_signed_in_in_time_is_closed(settings, bob):
    settings.REALTIME_LOGIN_WITHIN = 1
    token, other_token = issue_login_token(user=bob), issue_login_token(user=bob)

    async def scenario():
        async with DDPClient() as idle, DDPClient() as signed_in, DDPClient() as leaving:
            await signed_in.login_resume(token)
            await leaving.login_resume(other_token)  # logout revokes the token it used
            with pytest.raises(SocketClosed) as closed:
                await idle.recv_raw(timeout=5)
            await leaving.call("logout")
            with pytest.raises(SocketClosed) as closed_after_logout:
                await leaving.recv_raw(timeout=5)
            # Well past the deadline, the signed-in socket is still up and answering.
            await signed_in.send({"msg": "ping", "id": "still"})
            pong = await signed_in.wait_for(lambda f: f.get("msg") == "pong")
            return closed.value.code, closed_after_logout.value.code, pong

    idle_code, logout_code, pong = run(scenario())
    assert idle_code == 1008
    assert logout_code == 1008
    assert pong == {"msg": "pong", "id": "still"}


class StalledClient(AsgiSocket):
    """A client that stops reading: once `stall()` is called, the server's sends to it never
    complete (as when its TCP window is full), so what follows waits in the server's queue. A
    close frame is noted as the server sends it."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[str] = []
        self.reading = True

    async def open(self) -> dict[str, Any]:
        self.task = asyncio.create_task(self.app(self.scope, self.to_app.get, self.app_send))
        await self.to_app.put({"type": "websocket.connect"})
        return await asyncio.wait_for(self.from_app.get(), 3)

    async def app_send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            if not self.reading:
                await asyncio.Event().wait()  # never: the server's send waits for good
            self.frames.append(message["text"])
        elif message["type"] == "websocket.close":
            self.close_code = message["code"]
        else:
            await self.from_app.put(message)

    async def subscribe_to(self, token: str, rid: str) -> None:
        for frame in (
            {"msg": "connect", "version": "1", "support": ["1"]},
            {"msg": "method", "id": "1", "method": "login", "params": [{"resume": token}]},
            {"msg": "sub", "id": "s1", "name": "stream-room-messages", "params": [rid, False]},
        ):
            await self.send(json.dumps(frame))
        await until(lambda: any('"ready"' in frame for frame in self.frames))
        self.reading = False


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def frames_held() -> int:
    """Bytes the process holds in event frames (made in the hub and the bus), as tracemalloc
    sees them."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(True, "*/chat_project/realtime/hub.py"),
            tracemalloc.Filter(True, "*/chat_project/realtime/bus.py"),
        ]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_slow_readers_are_dropped_by_bytes_and_their_frames_let_go(settings, alice, bob, room):
    settings.REALTIME_SOCKET_QUEUE = 100_000  # frames: never the limit here
    settings.REALTIME_SOCKET_QUEUE_BYTES = 200_000
    settings.REALTIME_QUEUES_MAX_BYTES = 300_000
    alice_token, bob_token = issue_login_token(user=alice), issue_login_token(user=bob)
    text = "x" * 4000  # a frame of about 4.3 KB

    async def scenario():
        async with DDPClient() as talker:
            await talker.login_resume(alice_token)
            first, second = StalledClient(), StalledClient()
            await first.open()
            await first.subscribe_to(bob_token, room.pk)
            tracemalloc.start()
            try:
                before = frames_held()
                for i in range(20):  # ~86 KB behind, for the first only
                    await talker.call("sendMessage", {"rid": room.pk, "msg": f"{i}{text}"})
                await second.open()
                await second.subscribe_to(bob_token, room.pk)
                hub = current_hub()
                assert hub is not None
                sent, peak, held = 20, 0, 0
                while first.close_code is None:  # the ceiling (300 KB) comes first
                    await talker.call("sendMessage", {"rid": room.pk, "msg": f"{sent}{text}"})
                    sent += 1
                    peak = max(peak, hub.queued_bytes)
                    if not held and hub.queued_bytes > 200_000:
                        held = frames_held()
                    assert sent < 200, "the first reader was never dropped"
                second_behind = hub.queued_bytes
                second_open = second.close_code is None
                while second.close_code is None:  # then its own queue's bound (200 KB)
                    await talker.call("sendMessage", {"rid": room.pk, "msg": f"{sent}{text}"})
                    sent += 1
                    assert sent < 300, "the second reader was never dropped"
                queued_after = hub.queued_bytes
                talker.inbox.clear()
                await first.close()
                await second.close()
                after = frames_held()
            finally:
                tracemalloc.stop()
            still_works = await talker.call("sendMessage", {"rid": room.pk, "msg": "still"})
            return (
                before,
                peak,
                held,
                after,
                second_open,
                second_behind,
                queued_after,
                still_works,
                (
                    first.close_code,
                    second.close_code,
                ),
            )

    before, peak, held, after, second_open, second_behind, queued_after, still_works, codes = run(
        scenario()
    )
    assert codes == (1013, 1013)
    # The first (furthest behind) went when the sum passed 300 KB; the second then held less
    # than its own bound, and went only when it passed that.
    assert second_open
    assert 0 < second_behind < 200_000
    assert 250_000 < peak <= 300_000  # never past the ceiling between two sends
    assert queued_after == 0
    # Their frames are let go of: what the process holds in frames, well over 100 KB while they
    # waited (the first reader's queue alone), is back to where it was.
    assert held - before > 100_000
    assert after - before < 20_000
    assert "result" in still_works
