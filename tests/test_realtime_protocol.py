"""The DDP handshake, heartbeats and framing, as raw frames over the real ASGI application."""

from __future__ import annotations

import json

import pytest

from tests.realtime import AsgiSocket, DDPClient, SocketClosed, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_connect_answers_connected_with_a_session_id():
    async def scenario():
        async with DDPClient(connect=False) as ddp:
            await ddp.send({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]})
            connected = await ddp.recv_raw()
            assert connected["msg"] == "connected"
            assert isinstance(connected["session"], str) and len(connected["session"]) == 17

    run(scenario())


def test_an_unsupported_version_fails_naming_one_we_speak_then_closes():
    async def scenario():
        async with DDPClient(connect=False) as ddp:
            await ddp.send({"msg": "connect", "version": "2", "support": ["2", "pre1"]})
            assert await ddp.recv_raw() == {"msg": "failed", "version": "pre1"}
            with pytest.raises(SocketClosed):
                await ddp.recv_raw()

    run(scenario())


def test_ping_echoes_its_id():
    async def scenario():
        async with DDPClient() as ddp:
            await ddp.send({"msg": "ping", "id": "abc"})
            assert await ddp.recv_raw() == {"msg": "pong", "id": "abc"}
            await ddp.send({"msg": "ping"})
            assert await ddp.recv_raw() == {"msg": "pong"}

    run(scenario())


def test_bad_frames_get_an_error_frame_and_the_connection_stays_up():
    async def scenario():
        async with DDPClient() as ddp:
            await ddp.send("not json at all")
            assert await ddp.recv_raw() == {"msg": "error", "reason": "Parse error"}
            await ddp.send("[1, 2]")
            assert await ddp.recv_raw() == {
                "msg": "error",
                "reason": "Bad request",
                "offendingMessage": [1, 2],
            }
            await ddp.send({"msg": "method", "id": 5, "method": "login"})
            frame = await ddp.recv_raw()
            assert frame["reason"] == "Malformed method invocation"
            await ddp.send("[" * 100000 + "]" * 100000)
            assert (await ddp.recv_raw())["msg"] == "error"
            await ddp.send({"msg": "ping", "id": "still-here"})
            assert await ddp.recv_raw() == {"msg": "pong", "id": "still-here"}

    run(scenario())


def test_frames_before_connect_are_refused():
    async def scenario():
        async with DDPClient(connect=False) as ddp:
            await ddp.send({"msg": "ping", "id": "1"})
            frame = await ddp.recv_raw()
            assert frame == {
                "msg": "error",
                "reason": "Must connect first",
                "offendingMessage": {"msg": "ping", "id": "1"},
            }

    run(scenario())


def test_an_oversized_frame_closes_the_connection(settings):
    settings.REALTIME_MAX_FRAME_BYTES = 2048

    async def scenario():
        async with DDPClient() as ddp:
            await ddp.send(json.dumps({"msg": "ping", "id": "x" * 4096}))
            with pytest.raises(SocketClosed) as closed:
                await ddp.recv_raw()
            assert closed.value.code == 1009

    run(scenario())


def test_an_unknown_method_gets_meteors_404_then_updated():
    async def scenario():
        async with DDPClient() as ddp:
            await ddp.send({"msg": "method", "id": "7", "method": "no-such-thing", "params": []})
            assert await ddp.recv_raw() == {
                "msg": "result",
                "id": "7",
                "error": {
                    "isClientSafe": True,
                    "error": 404,
                    "reason": "Method 'no-such-thing' not found",
                    "message": "Method 'no-such-thing' not found [404]",
                    "errorType": "Meteor.Error",
                },
            }
            assert await ddp.recv_raw() == {"msg": "updated", "methods": ["7"]}

    run(scenario())


def test_the_server_pings_a_quiet_client_and_closes_it_without_a_pong(settings):
    settings.REALTIME_PING_SECONDS = 0.2
    settings.REALTIME_PING_TIMEOUT = 0.2

    async def scenario():
        async with DDPClient() as ddp:
            assert await ddp.recv_raw(timeout=2) == {"msg": "ping"}
            await ddp.send({"msg": "pong"})
            assert await ddp.recv_raw(timeout=2) == {"msg": "ping"}
            with pytest.raises(SocketClosed):
                await ddp.recv_raw(timeout=2)

    run(scenario())


def test_sockjs_framing_wraps_each_message():
    async def scenario():
        socket = AsgiSocket("/sockjs/123/abcdefgh/websocket")
        assert (await socket.open())["type"] == "websocket.accept"
        assert await socket.recv() == "o"
        assert await socket.recv() == 'a["{\\"server_id\\":\\"0\\"}"]'
        await socket.send(json.dumps([json.dumps({"msg": "connect", "version": "1"})]))
        frame = await socket.recv()
        assert frame.startswith("a[")
        assert json.loads(json.loads(frame[1:])[0])["msg"] == "connected"
        await socket.close()

    run(scenario())


def test_other_websocket_paths_are_refused():
    async def scenario():
        socket = AsgiSocket("/elsewhere")
        assert (await socket.open()) == {"type": "websocket.close", "code": 1008}

    run(scenario())
