"""One hub per server process: every event arrives here once and goes out to the sockets.

The hub holds the only Redis subscription of its process while the process has sockets (or
listens on the in-process bus),
an index of this process's subscriptions by (collection, event name), and, for
`__my_messages__`, an index by room of the subscriptions of that room's members. Each event's
`changed` frame is serialised once, however many sockets get it, and put on each socket's own
bounded queue; a socket whose queue is full is disconnected instead of slowing the others. The
hub keeps the sum of the queues' bytes (each frame counted in every queue it waits in, so the
memory they take is at most that) under REALTIME_QUEUES_MAX_BYTES: past it, the sockets with the
most bytes queued are disconnected (1013) first. It also counts each address's sockets, for
REALTIME_SOCKETS_PER_ADDRESS.

Everything here runs on the event loop and never blocks: database work happens in the methods'
and streams' threads (chat_project.realtime.sync), never in the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from chat_project.realtime import bus
from chat_project.realtime.events import MY_MESSAGES, ROOM_MESSAGES

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection

logger = logging.getLogger(__name__)

# A process left without sockets keeps its Redis subscription this long (sockets come and go).
IDLE_SECONDS = 60.0
# How long a socket that opened as the subscription was being made waits for it, at most.
SUBSCRIBE_WAIT_SECONDS = 2.0


dumps = bus.encode  # compact JSON, UTF-8 as is


class Frame:
    """A `changed` frame, serialised (and encoded to UTF-8) once; its SockJS form is made on
    first demand."""

    __slots__ = ("_sockjs", "_sockjs_data", "data", "text")

    def __init__(self, collection: str, event_name: str, args: list[Any]) -> None:
        fields = {"eventName": event_name, "args": args}
        self.text = dumps(
            {"msg": "changed", "collection": collection, "id": "id", "fields": fields}
        )
        self.data = self.text.encode()
        self._sockjs: str | None = None
        self._sockjs_data: bytes | None = None

    @property
    def sockjs(self) -> str:
        if self._sockjs is None:
            self._sockjs = "a" + dumps([self.text])
        return self._sockjs

    @property
    def sockjs_data(self) -> bytes:
        if self._sockjs_data is None:
            self._sockjs_data = self.sockjs.encode()
        return self._sockjs_data


class Subscription:
    """One DDP `sub` of one connection. `room` is the room it is about, if any. It hears the
    event `event_name`, or each of `event_names` when given (one sub watching several users'
    presence)."""

    __slots__ = ("collection", "conn", "event_name", "event_names", "id", "room")

    def __init__(
        self,
        conn: Connection,
        sub_id: str,
        collection: str,
        event_name: str,
        room: str | None,
        event_names: list[str] | None = None,
    ) -> None:
        self.conn, self.id = conn, sub_id
        self.collection, self.event_name, self.room = collection, event_name, room
        self.event_names = event_names

    @property
    def keys(self) -> list[tuple[str, str]]:
        names = self.event_names if self.event_names is not None else [self.event_name]
        return [(self.collection, name) for name in names]


Hook = Callable[["Connection"], Awaitable[None]]


class Hub:
    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], set[Subscription]] = defaultdict(set)
        self.my_by_room: dict[str, set[Subscription]] = defaultdict(set)
        self.my_rooms: dict[Subscription, set[str]] = {}
        self.by_user: dict[str, set[Connection]] = defaultdict(set)
        self.connections: set[Connection] = set()
        self.by_address: Counter[str] = Counter()
        self.queued_bytes = 0  # the sum of the connections' queued_bytes
        self.queues_max_bytes = settings.REALTIME_QUEUES_MAX_BYTES
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None
        self.stop_listening: Callable[[], None] | None = None
        self.redis_connected = asyncio.Event()
        self.on_login: list[Hook] = []  # presence (accounts) signs users in and out here
        self.on_logout: list[Hook] = []
        self.jobs: list[Callable[[], Coroutine[Any, Any, None]]] = []  # run while it runs
        self.job_tasks: list[asyncio.Task[None]] = []
        self.delivered = 0  # frames queued to sockets, for the benchmark
        self.idle_task: asyncio.Task[None] | None = None
        self.subscribed_by = 0.0  # when a new subscription should be up, on the loop's clock

    # --- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.loop is not None:
            return
        self.loop = asyncio.get_running_loop()
        if not bus.uses_redis():
            loop = self.loop

            def hear(raw: str) -> None:  # called from whichever thread published
                loop.call_soon_threadsafe(self.dispatch_raw, raw)

            self.stop_listening = bus.listen(hear)
        self.job_tasks = [asyncio.create_task(job()) for job in self.jobs]

    async def follow(self) -> None:
        """With Redis, subscribes unless subscribed already (a socket has opened): a process
        without sockets has nobody to hand an event to, so it holds no subscription and reads
        no event (with several processes, each would otherwise read every event sent)."""
        if self.idle_task is not None:
            self.idle_task.cancel()
            self.idle_task = None
        if not bus.uses_redis():
            return
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.follow_redis(), name="realtime-hub")
            self.subscribed_by = loop.time() + SUBSCRIBE_WAIT_SECONDS
        # The sockets that opened meanwhile should not miss events: give the new subscription a
        # moment (not a Redis that has gone away: sockets stay up and wait for it without this).
        wait = self.subscribed_by - loop.time()
        if wait > 0 and not self.redis_connected.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.redis_connected.wait(), timeout=wait)

    async def unfollow_when_idle(self) -> None:
        """Drops the subscription once the process has had no socket for IDLE_SECONDS."""
        await asyncio.sleep(IDLE_SECONDS)
        self.idle_task = None
        if not self.connections:
            await self.unfollow()

    async def unfollow(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.redis_connected.clear()

    async def stop(self) -> None:
        for job in self.job_tasks:
            job.cancel()
        self.job_tasks = []
        if self.idle_task is not None:
            self.idle_task.cancel()
            self.idle_task = None
        await self.unfollow()
        if self.stop_listening is not None:
            self.stop_listening()
        for conn in list(self.connections):
            await conn.close(1001, "Server shutting down")
        self.loop = self.task = self.stop_listening = None

    async def follow_redis(self) -> None:
        """Holds the process's one subscription to the event channel, resubscribing by itself
        (after 0.1 s, doubling up to 5 s) whenever Redis goes away. Sockets stay up meanwhile;
        events published while it is away are lost."""
        from redis import asyncio as aioredis

        delay = 0.1
        while True:
            client = aioredis.Redis.from_url(
                settings.REDIS_URL,
                socket_connect_timeout=1,
                socket_keepalive=True,
                health_check_interval=5,
            )
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(bus.channel())
                    self.redis_connected.set()
                    if delay > 0.1:
                        logger.warning("realtime: subscribed to Redis again")
                    delay = 0.1
                    while True:
                        message = await pubsub.get_message(timeout=5.0)
                        if message is not None and message["type"] == "message":
                            self.dispatch_raw(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.redis_connected.clear()
                logger.warning(
                    "realtime: Redis subscription lost (%s); retrying in %.1fs", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):  # a dead connection may not close cleanly
                    await client.aclose()

    # --- connections and subscriptions ------------------------------------------------------

    def add_connection(self, conn: Connection) -> bool:
        """Takes `conn` in, unless its address holds REALTIME_SOCKETS_PER_ADDRESS sockets here
        already (False). Counted per process: see docs/realtime.md."""
        if self.by_address[conn.address] >= settings.REALTIME_SOCKETS_PER_ADDRESS:
            return False
        self.by_address[conn.address] += 1
        self.connections.add(conn)
        return True

    async def remove_connection(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            self.by_address[conn.address] -= 1
            if self.by_address[conn.address] <= 0:
                del self.by_address[conn.address]
        for sub in list(conn.subs.values()):
            self.remove_subscription(sub)
        await self.detach_user(conn)
        if not self.connections and self.task is not None and self.idle_task is None:
            self.idle_task = asyncio.create_task(self.unfollow_when_idle())

    async def attach_user(self, conn: Connection) -> None:
        assert conn.user_id is not None
        self.by_user[conn.user_id].add(conn)
        for hook in self.on_login:
            await hook(conn)

    async def detach_user(self, conn: Connection) -> None:
        user_id = conn.user_id
        if user_id is None or conn not in self.by_user.get(user_id, ()):
            return
        self.by_user[user_id].discard(conn)
        if not self.by_user[user_id]:
            del self.by_user[user_id]
        for hook in self.on_logout:
            await hook(conn)

    def add_subscription(self, sub: Subscription, my_rooms: set[str] | None = None) -> None:
        sub.conn.subs[sub.id] = sub
        for key in sub.keys:
            self.by_key[key].add(sub)
        if my_rooms is not None:
            self.my_rooms[sub] = set(my_rooms)
            for rid in my_rooms:
                self.my_by_room[rid].add(sub)

    def remove_subscription(self, sub: Subscription) -> None:
        sub.conn.subs.pop(sub.id, None)
        for key in sub.keys:
            subs = self.by_key.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.by_key[key]
        for rid in self.my_rooms.pop(sub, ()):
            self.unroute_my(sub, rid)

    def unroute_my(self, sub: Subscription, rid: str) -> None:
        members = self.my_by_room.get(rid)
        if members is not None:
            members.discard(sub)
            if not members:
                del self.my_by_room[rid]

    def shed_slowest(self) -> None:
        """The queues hold more than REALTIME_QUEUES_MAX_BYTES: disconnects (1013) the sockets
        with the most bytes queued, the readers furthest behind, until they hold less. Runs only
        past the ceiling; each run drops at least one socket."""
        for conn in sorted(self.connections, key=lambda c: c.queued_bytes, reverse=True):
            if self.queued_bytes <= self.queues_max_bytes or conn.queued_bytes <= 0:
                return
            logger.warning(
                "realtime: queues over %d bytes; %r (%d bytes behind) disconnected",
                self.queues_max_bytes,
                conn,
                conn.queued_bytes,
            )
            conn.abort(1013, "Too slow")

    # --- events -----------------------------------------------------------------------------

    def dispatch_raw(self, raw: str | bytes) -> None:
        try:
            event = orjson.loads(raw)
            if "ctl" in event:
                self.control(event)
            else:
                self.dispatch(event)
        except Exception:
            logger.exception("realtime: event not delivered: %.200r", raw)

    def dispatch(self, event: dict[str, Any]) -> None:
        collection, event_name, args = event["c"], event["e"], event["a"]
        origin = event.get("origin")
        subs = self.by_key.get((collection, event_name))
        if subs:
            if "to" in event:  # only these users may hear it (a private group's members)
                audience = set(event["to"])
                subs = {sub for sub in subs if sub.conn.user_id in audience}
            if subs:
                self.deliver(Frame(collection, event_name, args), subs, origin)
        if "my" in event:
            members = self.my_by_room.get(event["rid"])
            if members:
                frame = Frame(ROOM_MESSAGES, MY_MESSAGES, [*args, event["my"]])
                self.deliver(frame, members, origin)

    def deliver(self, frame: Frame, subs: set[Subscription], origin: str | None) -> None:
        # A connection may hold the same stream twice (two subs); it gets the frame once.
        seen: set[Connection] = set()
        for sub in list(subs):
            conn = sub.conn
            if conn in seen or conn.id == origin:
                continue
            seen.add(conn)
            conn.push(frame)
        self.delivered += len(seen)

    def control(self, event: dict[str, Any]) -> None:
        kind = event["ctl"]
        if kind == "batch":
            for item in event["events"]:
                if "ctl" in item:
                    self.control(item)
                else:
                    self.dispatch(item)
        elif kind == "membership":
            for user_id, rid in event.get("joined", ()):
                for conn in self.by_user.get(user_id, ()):
                    for sub in conn.subs.values():
                        if sub in self.my_rooms:
                            self.my_rooms[sub].add(rid)
                            self.my_by_room[rid].add(sub)
            for user_id, rid in event.get("left", ()):
                for conn in list(self.by_user.get(user_id, ())):
                    self.end_room_subscriptions(conn, rid)
        elif kind == "room-gone":
            rid = event["rid"]
            for conn in list(self.connections):
                self.end_room_subscriptions(conn, rid)
        elif kind == "room-closed":
            rid, members = event["rid"], set(event["members"])
            for conn in list(self.connections):
                if conn.user_id not in members:
                    self.end_room_subscriptions(conn, rid)
        elif kind == "logout":
            tokens, users = set(event.get("tokens", ())), set(event.get("users", ()))
            origin = event.get("origin")
            for conn in list(self.connections):
                if conn.id == origin:
                    continue
                if conn.token_id in tokens or conn.user_id in users:
                    conn.end_login()

    def end_room_subscriptions(self, conn: Connection, rid: str) -> None:
        """`conn` may no longer read room `rid`: its subscriptions to the room end (`nosub`),
        and its __my_messages__ stops carrying the room."""
        for sub in list(conn.subs.values()):
            if sub.room == rid:
                self.remove_subscription(sub)
                conn.send_json({"msg": "nosub", "id": sub.id})
            elif sub in self.my_rooms and rid in self.my_rooms[sub]:
                self.my_rooms[sub].discard(rid)
                self.unroute_my(sub, rid)


_hub: Hub | None = None
# What the apps attach to each process's hub as it is made (accounts: presence's tracker),
# registered from their AppConfig.ready() with attach_to_every_hub.
ATTACHMENTS: list[Callable[[Hub], None]] = []


def attach_to_every_hub(attach: Callable[[Hub], None]) -> None:
    if attach not in ATTACHMENTS:
        ATTACHMENTS.append(attach)


async def get_hub() -> Hub:
    """This process's hub, started on first use."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is not None and _hub.loop is not None and _hub.loop is not loop:
        # The loop it ran on is gone (a test's, or a server's that was restarted in-process).
        if _hub.stop_listening is not None:
            _hub.stop_listening()
        _hub = None
    if _hub is None:
        _hub = Hub()
        for attach in ATTACHMENTS:
            attach(_hub)
    await _hub.start()
    return _hub


def current_hub() -> Hub | None:
    return _hub
