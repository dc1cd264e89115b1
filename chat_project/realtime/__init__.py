"""The realtime transport: Rocket.Chat's realtime API as Meteor's DDP over a websocket on the
REST API's own port. What travels on it, the methods and who may subscribe to which stream, is
the apps' (accounts/realtime.py, permissions/realtime.py, rooms/realtime.py), registered here
from their AppConfig.ready().

- asgi: routes websockets to ddp and everything else to Django.
- ddp, protocol: one websocket connection (plain or SockJS-framed): handshake, heartbeats,
  subs, methods.
- events: what the services publish after their transaction commits (any process, sync code).
- bus: how events travel: Redis pub/sub with REDIS_URL, else within the process.
- hub: one per server process; receives every event once and fans its frame out to sockets.
- methods, streams: the registries the apps fill, and running a call or opening a sub.
- params: a method's parameters checked as Meteor's check() does. errors, ejson: the wire's.
- sync: running the apps' synchronous code in worker threads.

Part of the ground: it imports nothing from accounts, permissions or rooms.
"""
