"""One DDP connection: Meteor's protocol over an ASGI websocket, plain or in SockJS framing.

The reader handles frames in order, as Meteor does: a method's `result` (and then `updated`)
is sent before the next frame is looked at. Everything the server sends goes through one
bounded queue and one writer task, so frames never interleave and a client that stops reading
is cut off (1013) when its queue fills, in frames (REALTIME_SOCKET_QUEUE) or in bytes
(REALTIME_SOCKET_QUEUE_BYTES), rather than holding the hub back; the hub also keeps the sum of
all queues under REALTIME_QUEUES_MAX_BYTES by cutting off the clients furthest behind.
When the server offers it (chat_project.serving.workers), a frame for a socket with nothing
queued and nothing being sent is written there and then, without waking the writer: the hub's
fan-out then costs one write per socket. The order of frames, and the bytes, are the same
either way. A heartbeat pings a quiet client and closes it if the pong does not come, and closes a
connection whose login has expired.

An address may hold REALTIME_SOCKETS_PER_ADDRESS sockets per process (more are refused at the
handshake, with 403), and a socket not signed in within REALTIME_LOGIN_WITHIN seconds of opening
(or of logging out) is closed with 1008.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings

from chat_project.db.ids import random_id
from chat_project.realtime.hub import Frame, Hub, dumps, get_hub

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = ("1", "pre2", "pre1")
CLOSE = object()  # queued last: the writer closes the socket after what came before
# The ASGI extension (scope["extensions"]) that writes a text frame at once, if it can:
# `send_text_now(utf8: bytes) -> bool` (chat_project.serving.workers.ChatWebSocketProtocol).
SEND_TEXT_NOW = "chat.websocket.send_text_now"


class Connection:
    def __init__(self, scope: dict[str, Any], receive: Any, send: Any, *, sockjs: bool) -> None:
        self.scope, self.receive, self._send, self.sockjs = scope, receive, send, sockjs
        self.id = random_id()
        self.address = client_address(scope)
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=settings.REALTIME_SOCKET_QUEUE)
        self.connected = False
        self.closed = False
        self.subs: dict[str, Any] = {}
        self.user_id: str | None = None
        self.username: str | None = None
        self.token_id: int | None = None
        self.token_expires: datetime | None = None
        self.last_heard = time.monotonic()
        self.ping_sent: float | None = None
        self.hub: Hub | None = None
        self.queued_bytes = 0  # the size of what waits in `queue` (Hub.queued_bytes sums them)
        self.queue_bytes_limit = settings.REALTIME_SOCKET_QUEUE_BYTES
        self.login_timer: asyncio.TimerHandle | None = None
        self.close_code = 1000
        self.tasks: list[asyncio.Task[Any]] = []
        extensions = scope.get("extensions") or {}
        self.send_now: Callable[[bytes], bool] | None = extensions.get(SEND_TEXT_NOW)
        self.sending = False  # the writer holds a frame it has not finished sending

    def __repr__(self) -> str:
        return f"<Connection {self.id} user={self.user_id}>"

    # --- sending ----------------------------------------------------------------------------

    def push(self, item: Frame | str) -> None:
        """Sends a frame (or DDP text) at once if the server can and nothing is ahead of it, else
        queues it for the writer; a full queue disconnects the client."""
        if self.closed:
            return
        if self.send_now is not None and not self.sending and self.queue.empty():
            try:
                if self.send_now(self.encoded(item)):
                    return
            except Exception:  # the writer's awaited send will meet the same trouble, and say so
                logger.debug("realtime: immediate write to %r failed", self, exc_info=True)
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            logger.warning("realtime: %r is not reading; disconnected", self)
            self.abort(1013, "Too slow")
            return
        # Counted, not copied: a hub frame is one object shared by every queue it waits in.
        size = len(item.data) if isinstance(item, Frame) else len(item)
        self.queued_bytes += size
        hub = self.hub
        if hub is not None:
            hub.queued_bytes += size
        if self.queued_bytes > self.queue_bytes_limit:
            logger.warning("realtime: %r is %d bytes behind; disconnected", self, self.queued_bytes)
            self.abort(1013, "Too slow")
        elif hub is not None and hub.queued_bytes > hub.queues_max_bytes:
            hub.shed_slowest()

    def send_json(self, body: dict[str, Any]) -> None:
        self.push(dumps(body))

    def text(self, item: Frame | str) -> str:
        """What goes on the wire for a queued item: SockJS wraps DDP messages in an array."""
        if isinstance(item, Frame):
            return item.sockjs if self.sockjs else item.text
        if self.sockjs and item not in ("o", "h") and not item.startswith("c["):
            return "a" + dumps([item])
        return item

    def encoded(self, item: Frame | str) -> bytes:
        if isinstance(item, Frame):
            return item.sockjs_data if self.sockjs else item.data
        return self.text(item).encode()

    async def writer(self) -> None:
        while True:
            item = await self.queue.get()
            self.unqueued(item)
            if item is CLOSE:
                await self.really_close()
                return
            self.sending = True
            try:
                await self._send({"type": "websocket.send", "text": self.text(item)})
            finally:
                self.sending = False

    def unqueued(self, item: Any) -> None:
        if isinstance(item, Frame | str):
            size = len(item.data) if isinstance(item, Frame) else len(item)
            self.queued_bytes -= size
            if self.hub is not None:
                self.hub.queued_bytes -= size

    def abort(self, code: int, reason: str) -> None:
        """Closes at once, dropping whatever is still queued (for clients that fell behind): the
        frames are let go of now, not when the client finally goes."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        for task in self.tasks:
            task.cancel()
        while not self.queue.empty():
            self.unqueued(self.queue.get_nowait())
        asyncio.get_running_loop().create_task(self.really_close(reason))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes after the frames already queued have been sent."""
        if self.closed:
            return
        self.close_code = code
        try:
            self.queue.put_nowait(CLOSE)
        except asyncio.QueueFull:
            self.abort(code, reason)
            return
        self.closed = True

    async def really_close(self, reason: str = "") -> None:
        self.closed = True
        try:
            if self.sockjs:
                await self._send({"type": "websocket.send", "text": dumps_close(self.close_code)})
            await self._send({"type": "websocket.close", "code": self.close_code, "reason": reason})
        except Exception:  # noqa: S110 - the client may be gone already
            pass

    # --- the connection's life --------------------------------------------------------------

    async def serve(self) -> None:
        first = await self.receive()
        if first["type"] != "websocket.connect":
            return
        self.hub = hub = await get_hub()
        if not hub.add_connection(self):
            logger.warning("realtime: too many sockets from %s; refused", self.address)
            await self._send({"type": "websocket.close", "code": 1008})  # before accept: a 403
            return
        try:
            await self._send({"type": "websocket.accept"})
            await hub.follow()
            self.tasks = [
                asyncio.create_task(self.writer()),
                asyncio.create_task(self.heartbeat()),
            ]
            self.expect_login()
            if self.sockjs:
                self.push("o")
            self.send_json({"server_id": "0"})
            await self.read()
        finally:
            self.closed = True
            if self.login_timer is not None:
                self.login_timer.cancel()
            await hub.remove_connection(self)
            if self.tasks:
                writer, heartbeat = self.tasks
                heartbeat.cancel()
                try:
                    await asyncio.wait_for(asyncio.shield(writer), timeout=1)
                except (TimeoutError, asyncio.CancelledError, Exception):
                    writer.cancel()

    async def read(self) -> None:
        from chat_project.realtime.protocol import handle

        limit = settings.REALTIME_MAX_FRAME_BYTES
        while True:
            message = await self.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", "replace")
            if len(text) > limit:
                await self.close(1009, "Frame too large")
                return
            self.last_heard = time.monotonic()
            self.ping_sent = None
            if self.sockjs:
                for inner in sockjs_messages(text):
                    if self.closed:
                        return
                    await handle(self, inner)
            else:
                await handle(self, text)
            if self.closed:
                return

    async def heartbeat(self) -> None:
        """Meteor's heartbeat: ping after REALTIME_PING_SECONDS of silence, close after
        REALTIME_PING_TIMEOUT more without a pong. Also ends logins whose token expired."""
        interval = settings.REALTIME_PING_SECONDS
        timeout = settings.REALTIME_PING_TIMEOUT
        step = max(min(interval, timeout) / 4, 0.05)
        while not self.closed:
            await asyncio.sleep(step)
            now = time.monotonic()
            if self.ping_sent is not None and now - self.ping_sent > timeout:
                await self.close(1001, "Heartbeat timeout")
                return
            if self.ping_sent is None and now - self.last_heard > interval:
                self.ping_sent = now
                if self.sockjs:
                    self.push("h")
                self.send_json({"msg": "ping"})
            if self.token_expires is not None and login_expired(self.token_expires):
                self.end_login()

    # --- login state --------------------------------------------------------------------------

    def expect_login(self) -> None:
        """Closes the connection (1008) unless it is signed in REALTIME_LOGIN_WITHIN seconds from
        now: a socket that never logs in holds a file descriptor and memory for nothing."""
        if self.login_timer is not None:
            self.login_timer.cancel()
        self.login_timer = asyncio.get_running_loop().call_later(
            settings.REALTIME_LOGIN_WITHIN, self.login_deadline
        )

    def login_deadline(self) -> None:
        self.login_timer = None
        if self.user_id is None and not self.closed:
            asyncio.get_running_loop().create_task(self.close(1008, "Login timeout"))

    async def set_login(
        self, *, user_id: str, username: str, token_id: int, token_expires: datetime
    ) -> None:
        assert self.hub is not None
        if self.user_id is not None:
            await self.log_out_locally()
        self.user_id, self.username = user_id, username
        self.token_id, self.token_expires = token_id, token_expires
        await self.hub.attach_user(self)

    async def log_out_locally(self) -> None:
        """The connection stays up, signed out, its subscriptions ended (as Meteor's logout)."""
        assert self.hub is not None
        for sub in list(self.subs.values()):
            self.hub.remove_subscription(sub)
            self.send_json({"msg": "nosub", "id": sub.id})
        await self.hub.detach_user(self)
        self.user_id = self.username = self.token_id = self.token_expires = None
        self.expect_login()

    def end_login(self) -> None:
        """The login was revoked or expired: the socket is closed, as Rocket.Chat does, and a
        reconnecting client must log in again."""
        if not self.closed:
            asyncio.get_running_loop().create_task(self.close(4001, "Logged out"))


def login_expired(expires: datetime) -> bool:
    from django.utils import timezone

    return expires <= timezone.now()


def dumps_close(code: int) -> str:
    return "c" + dumps([3000 if code < 3000 else code, "Go away!"])


def sockjs_messages(text: str) -> list[str]:
    """A SockJS client frame is a JSON array of DDP messages as strings (or one string)."""
    try:
        outer = json.loads(text)
    except (ValueError, RecursionError):
        return [text]  # not SockJS framing: let the DDP parser answer it
    if isinstance(outer, str):
        return [outer]
    if isinstance(outer, list) and all(isinstance(item, str) for item in outer):
        return outer
    return [text]


def client_address(scope: dict[str, Any]) -> str:
    """The client's address, by the REST API's rule (X-Forwarded-For only from TRUSTED_PROXIES)."""
    from chat_project.http.ratelimit import forwarded_client

    client = scope.get("client") or ("", 0)
    headers = scope.get("headers", ())
    forwarded = b",".join(value for name, value in headers if name == b"x-forwarded-for")
    return forwarded_client(str(client[0] or "") or "unknown", forwarded.decode("latin-1"))


async def serve(scope: dict[str, Any], receive: Any, send: Any, *, sockjs: bool) -> None:
    await Connection(scope, receive, send, sockjs=sockjs).serve()
