"""Drives the realtime API in-process: the real ASGI application, fed websocket events.

    def test_something(realtime_user):
        async def scenario():
            async with DDPClient() as ddp:
                await ddp.login_resume(token)
                ...
        run(scenario())

The methods and streams do their database work in worker threads, so tests using this need
`@pytest.mark.django_db(transaction=True, serialized_rollback=True)` (each thread has its own
connection and sees only committed rows; events are then published at once, as after a real
commit; serialized_rollback brings back the roles and rooms the migrations made). The test's
own thread runs the event loop, where Django refuses ORM calls: make data before run(), and
make REST calls from a thread (asyncio.to_thread).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from typing import Any

DEFAULT_TIMEOUT = 3.0


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class SocketClosed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"socket closed with code {code}")
        self.code = code


class AsgiSocket:
    """A websocket connection to chat_project.asgi.application, without a server."""

    def __init__(self, path: str = "/websocket", client: tuple[str, int] = ("127.0.0.1", 50000)):
        from chat_project.asgi import application

        self.app = application
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "client": client,
            "server": ("testserver", 80),
            "subprotocols": [],
        }
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None
        self.close_code: int | None = None

    async def open(self) -> dict[str, Any]:
        self.task = asyncio.create_task(self.app(self.scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "websocket.connect"})
        return await asyncio.wait_for(self.from_app.get(), DEFAULT_TIMEOUT)

    async def send(self, text: str) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": text})

    async def recv(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        if self.close_code is not None:
            raise SocketClosed(self.close_code)
        message = await asyncio.wait_for(self.from_app.get(), timeout)
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            raise SocketClosed(self.close_code)
        return message["text"]

    async def close(self) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, DEFAULT_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()


class DDPClient:
    """A DDP client over AsgiSocket: frames are dicts; whatever arrives while waiting for a
    particular answer is kept in `inbox` for later assertions."""

    ids = itertools.count(1)

    def __init__(
        self,
        path: str = "/websocket",
        *,
        connect: bool = True,
        client: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> None:
        self.socket = AsgiSocket(path, client)
        self.do_connect = connect
        self.inbox: list[dict[str, Any]] = []

    async def __aenter__(self) -> DDPClient:
        accepted = await self.socket.open()
        assert accepted["type"] == "websocket.accept", accepted
        assert await self.recv_raw() == {"server_id": "0"}
        if self.do_connect:
            await self.send({"msg": "connect", "version": "1", "support": ["1"]})
            connected = await self.recv_raw()
            assert connected["msg"] == "connected", connected
            self.session = connected["session"]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.socket.close()

    async def send(self, body: Any) -> None:
        await self.socket.send(body if isinstance(body, str) else json.dumps(body))

    async def recv_raw(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        return json.loads(await self.socket.recv(timeout))

    async def wait_for(self, predicate: Any, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The first frame (from the inbox, then from the socket) that satisfies predicate."""
        for index, frame in enumerate(self.inbox):
            if predicate(frame):
                return self.inbox.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no matching frame; inbox: {self.inbox}")
            frame = await self.recv_raw(left)
            if predicate(frame):
                return frame
            self.inbox.append(frame)

    async def call(self, method: str, *params: Any) -> dict[str, Any]:
        """Calls `method`; returns its `result` frame (with "result" or "error"), after checking
        that `updated` follows it."""
        method_id = str(next(self.ids))
        await self.send(
            {"msg": "method", "id": method_id, "method": method, "params": list(params)}
        )
        result = await self.wait_for(
            lambda f: f.get("msg") == "result" and f.get("id") == method_id
        )
        await self.wait_for(
            lambda f: f.get("msg") == "updated" and method_id in f.get("methods", [])
        )
        return result

    async def sub(self, name: str, event_name: str, *, expect: str = "ready") -> dict[str, Any]:
        sub_id = f"s{next(self.ids)}"
        params = [event_name, {"useCollection": False, "args": []}]
        await self.send({"msg": "sub", "id": sub_id, "name": name, "params": params})
        frame = await self.wait_for(
            lambda f: (
                (f.get("msg") == "ready" and sub_id in f.get("subs", []))
                or (f.get("msg") == "nosub" and f.get("id") == sub_id)
            )
        )
        assert frame["msg"] == expect, frame
        frame["sub_id"] = sub_id
        return frame

    async def changed(
        self, collection: str, event_name: str, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        return await self.wait_for(
            lambda f: (
                f.get("msg") == "changed"
                and f.get("collection") == collection
                and f["fields"]["eventName"] == event_name
            ),
            timeout,
        )

    async def nothing_more(self, seconds: float = 0.3) -> None:
        """Asserts that no frame other than pings arrives within `seconds`."""
        try:
            while True:
                frame = await self.recv_raw(seconds)
                if frame.get("msg") != "ping":
                    raise AssertionError(f"unexpected frame: {frame}")
        except TimeoutError:
            pass

    async def login_resume(self, token: str) -> dict[str, Any]:
        answer = await self.call("login", {"resume": token})
        assert "result" in answer, answer
        return answer["result"]

    async def login_password(self, username: str, password: str) -> dict[str, Any]:
        digest = hashlib.sha256(password.encode()).hexdigest()
        return await self.call(
            "login",
            {
                "user": {"username": username},
                "password": {"digest": digest, "algorithm": "sha-256"},
            },
        )


async def in_thread(func: Any, *args: Any) -> Any:
    """func(*args) in a worker thread, as a REST request or ORM call from a test's event loop
    must run; the thread's database connections are closed afterwards (the test database can
    then be dropped)."""
    from django.db import connections

    def call() -> Any:
        try:
            return func(*args)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


def rest(api: Any, method: str, path: str, user: Any, token: str, body: Any = None) -> Any:
    """A REST call (DRF's APIClient) as `user` with `token`, made from a worker thread."""
    headers = {"HTTP_X_AUTH_TOKEN": token, "HTTP_X_USER_ID": user.pk}

    def call() -> Any:
        if method == "get":
            return api.get(path, body or {}, **headers)
        return api.post(path, body or {}, format="json", **headers)

    return in_thread(call)


class BusTap:
    """Records the events published on the bus, as the hubs receive them: on the Redis channel
    with REDIS_URL, from the in-process bus without it."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    def __enter__(self) -> BusTap:
        from chat_project.realtime import bus

        if bus.uses_redis():
            import redis
            from django.conf import settings

            self.pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(
                ignore_subscribe_messages=True
            )
            self.pubsub.subscribe(bus.channel())
            # Redis's confirmation, read (and ignored) here: the tap listens from now on, and
            # events() does not take the confirmation for the end of the events.
            self.pubsub.get_message(timeout=5)
            self.stop = self.pubsub.close
        else:
            self.pubsub = None
            self.stop = bus.listen(self.heard.append)
        return self

    def events(self, settle: float = 0.2) -> list[str]:
        if self.pubsub is not None:
            while (message := self.pubsub.get_message(timeout=settle)) is not None:
                self.heard.append(message["data"].decode())
        return self.heard

    def __exit__(self, *exc: Any) -> None:
        self.stop()
