"""Rocket.Chat's realtime API: Meteor's DDP over a websocket on the REST API's own port.

- events: what the services publish after their transaction commits (any process, sync code).
- bus: how events travel: Redis pub/sub with REDIS_URL, else within the process.
- hub: one per server process; receives every event once and fans its frame out to sockets.
- ddp: one websocket connection (plain or SockJS-framed): handshake, heartbeats, subs, methods.
- streams: who may subscribe to what.  methods: the DDP methods, over the REST services.
- presence: who is online, shared through Redis with expiry.
"""
