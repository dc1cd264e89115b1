"""Drives the `rocketchat-async` client from PyPI, unchanged, for tests/test_realtime_rocketchat_async.py.

It runs in a virtualenv of its own (the client pins websockets<11), never imports the project,
reads one JSON command a line on stdin and writes JSON lines on stdout:

- the answer to each command: {"reply": <its "do">, "ok": true, ...} or {"ok": false, "error"};
- what the client's callbacks hear, whenever it arrives: {"event": "message", ...} and
  {"event": "room-changed", ...}.

Commands: start (url, username, password), resume (url, username, token), get_channels,
subscribe_messages (rid), subscribe_changes, send_message (rid, text), typing (rid), quit.
A subscription is answered once the server has it: the client does not wait for `ready`, but
the server handles a connection's frames in order, so a method called after the `sub` returns
after the subscription is in place (get_channels is that round trip).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from rocketchat_async import RocketChat


def emit(body: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


def on_message(channel_id, sender_id, msg_id, thread_id, msg, qualifier, unread, repeated):
    emit(
        {
            "event": "message",
            "rid": channel_id,
            "sender_id": sender_id,
            "msg_id": msg_id,
            "msg": msg,
            "at": time.time(),
        }
    )


def on_room_changed(channel_id, channel_type):
    emit({"event": "room-changed", "rid": channel_id, "t": channel_type, "at": time.time()})


class Driver:
    def __init__(self) -> None:
        self.client: RocketChat | None = None

    async def start(self, command: dict[str, Any]) -> dict[str, Any]:
        self.client = RocketChat()
        await self.client.start(command["url"], command["username"], command["password"])
        return {"user_id": self.client.user_id}

    async def resume(self, command: dict[str, Any]) -> dict[str, Any]:
        self.client = RocketChat()
        await self.client.resume(command["url"], command["username"], command["token"])
        return {"user_id": self.client.user_id}

    async def get_channels(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        return {"channels": [list(pair) for pair in await self.client.get_channels()]}

    async def subscribe_messages(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        sub_id = await self.client.subscribe_to_channel_messages(command["rid"], on_message)
        await self.client.get_channels()
        return {"sub_id": sub_id}

    async def subscribe_changes(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        sub_id = await self.client.subscribe_to_channel_changes(on_room_changed)
        await self.client.get_channels()
        return {"sub_id": sub_id}

    async def send_message(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        await self.client.send_message(command["text"], command["rid"])
        return {}

    async def typing(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        await self.client.send_typing_event(command["rid"])
        return {}


async def main() -> None:
    driver = Driver()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        name = command["do"]
        if name == "quit":
            emit({"reply": name, "ok": True})
            return
        try:
            answer = await asyncio.wait_for(getattr(driver, name)(command), timeout=15)
        except Exception as exc:  # reported to the test, which decides
            emit({"reply": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
        else:
            emit({"reply": name, "ok": True, **answer})


if __name__ == "__main__":
    asyncio.run(main())
