"""Who is online: Rocket.Chat's presence, shared by every server process.

Each signed-in socket is a *connection* of its user, `online` until its client says `away`
(UserPresence:away). A user's status follows Rocket.Chat's presence service
(processPresenceAndStatus): `offline` without a live connection; otherwise the status they chose
(`statusDefault`: away, busy, or offline to look invisible) unless they chose `online`, in which
case the best of their connections (online beats away).

With REDIS_URL it is kept in Redis, where each connection has a deadline PRESENCE_TTL_SECONDS
ahead that its process pushes back every third of that time. A process that dies without
closing its sockets (kill -9) stops pushing; the next sweep (every live process sweeps, every
third of the TTL) finds the deadline passed, drops the connection and announces the user
offline. Each change runs as one Lua script, so two processes never race each other into
contradicting announcements. Without REDIS_URL the same is kept in this process's memory.

Every change of a user's status or status text is published as Rocket.Chat's listeners
publish `presence.status`: `stream-notify-logged` `user-status` [[uid, username, code,
statusText, name, roles]] and `stream-user-presence` `<uid>` [[username, code, statusText]],
with the codes 0 offline, 1 online, 2 away, 3 busy.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from accounts.models import User
from chat_project.http.errors import ApiError, ServiceUnavailable
from chat_project.realtime import bus, events, sync
from chat_project.realtime.events import NOTIFY_LOGGED, USER_PRESENCE

if TYPE_CHECKING:
    from chat_project.realtime.ddp import Connection
    from chat_project.realtime.hub import Hub

logger = logging.getLogger(__name__)

ONLINE, AWAY, BUSY, OFFLINE = "online", "away", "busy", "offline"
STATUSES = (ONLINE, AWAY, BUSY, OFFLINE)
WATCH_MAX = 1000  # users one stream-user-presence subscription may watch
CODES = {OFFLINE: 0, ONLINE: 1, AWAY: 2, BUSY: 3}  # Rocket.Chat's STATUS_MAP
STATUS_TEXT_MAX_LENGTH = 120  # Rocket.Chat's normalizeStatusText
INVALID_STATUS = "Valid status types include online, away, offline, and busy."
CHANGES_KEPT_SECONDS = 600  # users.presence?from= answers changes of the last 10 minutes


@dataclass(frozen=True)
class Presence:
    user_id: str
    status: str  # what everyone sees
    connection: str  # the best of the user's connections (Rocket.Chat's statusConnection)
    text: str
    changed: bool  # the update changed `status` or `text`, and was announced


def status_of(best_connection: str, chosen: str) -> str:
    """Rocket.Chat's processStatus: offline without a connection, else the chosen status unless
    that is `online`. (The Lua script below applies the same rule inside Redis.)"""
    if best_connection == OFFLINE or chosen == ONLINE:
        return best_connection
    return chosen


# --- where it is kept -----------------------------------------------------------------------
# Operations: connect/disconnect (cid), touch (cid: push its deadline back; nothing when it is
# gone), expire (cid: drop it if its deadline has passed; nothing otherwise), connection (cid,
# online|away), choose (status or "", text or None), read. Each returns the user's presence
# after it, or None when it did nothing.

Op = tuple[str, str, tuple[Any, ...]]  # (operation, user id, arguments)

UPDATE_SCRIPT = """
local P, op, uid = ARGV[1], ARGV[2], ARGV[3]
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local conns, deadlines = P .. ':conns:' .. uid, P .. ':deadlines'
local member = uid .. ' ' .. (ARGV[6] or '')
local text_changed = false
if op == 'connect' then
  redis.call('HSET', conns, ARGV[6], 'online')
  redis.call('ZADD', deadlines, now + ttl, member)
elseif op == 'disconnect' then
  redis.call('HDEL', conns, ARGV[6])
  redis.call('ZREM', deadlines, member)
elseif op == 'touch' then
  if not redis.call('ZSCORE', deadlines, member) then return false end
  redis.call('ZADD', deadlines, now + ttl, member)
elseif op == 'expire' then
  local deadline = redis.call('ZSCORE', deadlines, member)
  if not deadline or tonumber(deadline) > now then return false end
  redis.call('ZREM', deadlines, member)
  redis.call('HDEL', conns, ARGV[6])
elseif op == 'connection' then
  if redis.call('HEXISTS', conns, ARGV[6]) == 0 then return false end
  redis.call('HSET', conns, ARGV[6], ARGV[7])
elseif op == 'choose' then
  if ARGV[6] == 'online' then redis.call('HDEL', P .. ':chosen', uid)
  elseif ARGV[6] ~= '' then redis.call('HSET', P .. ':chosen', uid, ARGV[6]) end
  if ARGV[7] == '1' then
    local old = redis.call('HGET', P .. ':text', uid) or ''
    if old ~= ARGV[8] then
      text_changed = true
      if ARGV[8] == '' then redis.call('HDEL', P .. ':text', uid)
      else redis.call('HSET', P .. ':text', uid, ARGV[8]) end
    end
  end
end
local best = 'offline'
local fields = redis.call('HGETALL', conns)
for i = 1, #fields, 2 do
  local deadline = redis.call('ZSCORE', deadlines, uid .. ' ' .. fields[i])
  if deadline and tonumber(deadline) > now then
    if fields[i + 1] == 'online' then best = 'online'
    elseif best == 'offline' then best = fields[i + 1] end
  end
end
local chosen = redis.call('HGET', P .. ':chosen', uid) or 'online'
local status = best
if best ~= 'offline' and chosen ~= 'online' then status = chosen end
local old = redis.call('HGET', P .. ':shown', uid) or 'offline'
if status == 'offline' then redis.call('HDEL', P .. ':shown', uid)
else redis.call('HSET', P .. ':shown', uid, status) end
local changed = 0
if status ~= old or text_changed then
  changed = 1
  redis.call('ZADD', P .. ':changed', now, uid)
end
return {changed, status, best, redis.call('HGET', P .. ':text', uid) or ''}
"""


class Store(Protocol):
    def update(self, ops: Sequence[Op], now: float) -> list[Presence | None]: ...
    def expired(self, now: float, limit: int) -> list[tuple[str, str]]: ...
    def shown(self, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]: ...
    def not_offline(self) -> dict[str, tuple[str, str]]: ...
    def changed_since(self, since: float) -> list[str]: ...
    def forget_changes(self, before: float) -> None: ...


class RedisStore:
    """Keys under `<REALTIME_CHANNEL>:presence`: conns:<uid> (hash: connection -> online|away),
    deadlines (sorted set: "<uid> <connection>" -> unix time), chosen and text (hashes by
    user: statusDefault when not online, statusText), shown (hash by user: the status
    announced, for users not offline) and changed (sorted set: user -> time of last change)."""

    def __init__(self) -> None:
        self.client = bus.redis_client()
        self.prefix = f"{settings.REALTIME_CHANNEL}:presence"
        self.script = self.client.register_script(UPDATE_SCRIPT)

    def update(self, ops: Sequence[Op], now: float) -> list[Presence | None]:
        ttl = settings.PRESENCE_TTL_SECONDS
        pipe = self.client.pipeline(transaction=False)
        for op, user_id, args in ops:
            argv = [self.prefix, op, user_id, repr(now), ttl, *encode_args(op, args)]
            self.script(keys=[], args=argv, client=pipe)
        answers = pipe.execute()
        user_ids = [user_id for _, user_id, _ in ops]
        return [decode_answer(uid, answer) for uid, answer in zip(user_ids, answers, strict=True)]

    def expired(self, now: float, limit: int) -> list[tuple[str, str]]:
        members = self.client.zrangebyscore(
            f"{self.prefix}:deadlines", "-inf", now, start=0, num=limit
        )
        pairs = (as_str(member).split(" ", 1) for member in members)
        return [(uid, cid) for uid, cid in pairs]

    def shown(self, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        if not user_ids:
            return {}
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(f"{self.prefix}:shown", list(user_ids))
        pipe.hmget(f"{self.prefix}:text", list(user_ids))
        statuses, texts = pipe.execute()
        return {
            uid: (as_str(status) if status else OFFLINE, as_str(note) if note else "")
            for uid, status, note in zip(user_ids, statuses, texts, strict=True)
        }

    def not_offline(self) -> dict[str, tuple[str, str]]:
        shown = {
            as_str(uid): as_str(status)
            for uid, status in self.client.hgetall(f"{self.prefix}:shown").items()
        }
        notes = self.shown(list(shown))
        return {uid: (status, notes[uid][1]) for uid, status in shown.items()}

    def changed_since(self, since: float) -> list[str]:
        users = self.client.zrangebyscore(f"{self.prefix}:changed", since, "+inf")
        return [as_str(uid) for uid in users]

    def forget_changes(self, before: float) -> None:
        self.client.zremrangebyscore(f"{self.prefix}:changed", "-inf", before)


def encode_args(op: str, args: tuple[Any, ...]) -> list[str]:
    if op == "choose":
        status, note = args
        return [status or "", "0" if note is None else "1", note or ""]
    return [str(arg) for arg in args]


def decode_answer(user_id: str, answer: Any) -> Presence | None:
    if not answer:
        return None
    changed, status, best, note = answer
    return Presence(user_id, as_str(status), as_str(best), as_str(note), bool(changed))


def as_str(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LocalStore:
    """The same, in this process's memory (no REDIS_URL: one server process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conns: dict[str, dict[str, str]] = {}
        self.deadlines: dict[tuple[str, str], float] = {}
        self.chosen: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.shown_: dict[str, str] = {}
        self.changes: dict[str, float] = {}

    def update(self, ops: Sequence[Op], now: float) -> list[Presence | None]:
        with self.lock:
            return [self.apply(op, user_id, args, now) for op, user_id, args in ops]

    def apply(self, op: str, uid: str, args: tuple[Any, ...], now: float) -> Presence | None:
        ttl = settings.PRESENCE_TTL_SECONDS
        conns = self.conns.setdefault(uid, {})
        key = (uid, args[0]) if args else (uid, "")
        text_changed = False
        if op == "connect":
            conns[key[1]] = ONLINE
            self.deadlines[key] = now + ttl
        elif op == "disconnect":
            conns.pop(key[1], None)
            self.deadlines.pop(key, None)
        elif op == "touch":
            if key not in self.deadlines:
                return None
            self.deadlines[key] = now + ttl
        elif op == "expire":
            if self.deadlines.get(key, now + 1) > now:
                return None
            del self.deadlines[key]
            conns.pop(key[1], None)
        elif op == "connection":
            if key[1] not in conns:
                return None
            conns[key[1]] = args[1]
        elif op == "choose":
            status, note = args
            if status == ONLINE:
                self.chosen.pop(uid, None)
            elif status:
                self.chosen[uid] = status
            if note is not None and self.texts.get(uid, "") != note:
                text_changed = True
                self.texts[uid] = note
        best = OFFLINE
        for cid, connection in conns.items():
            if self.deadlines.get((uid, cid), 0) > now:
                best = ONLINE if connection == ONLINE else (connection if best == OFFLINE else best)
        if not conns:
            del self.conns[uid]
        status = status_of(best, self.chosen.get(uid, ONLINE))
        old = self.shown_.get(uid, OFFLINE)
        if status == OFFLINE:
            self.shown_.pop(uid, None)
        else:
            self.shown_[uid] = status
        changed = status != old or text_changed
        if changed:
            self.changes[uid] = now
        return Presence(uid, status, best, self.texts.get(uid, ""), changed)

    def expired(self, now: float, limit: int) -> list[tuple[str, str]]:
        with self.lock:
            return [key for key, deadline in self.deadlines.items() if deadline <= now][:limit]

    def shown(self, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        with self.lock:
            return {
                uid: (self.shown_.get(uid, OFFLINE), self.texts.get(uid, "")) for uid in user_ids
            }

    def not_offline(self) -> dict[str, tuple[str, str]]:
        with self.lock:
            return {uid: (status, self.texts.get(uid, "")) for uid, status in self.shown_.items()}

    def changed_since(self, since: float) -> list[str]:
        with self.lock:
            return [uid for uid, when in self.changes.items() if when >= since]

    def forget_changes(self, before: float) -> None:
        with self.lock:
            self.changes = {uid: when for uid, when in self.changes.items() if when >= before}


_store: Store | None = None
_store_lock = threading.Lock()
_local = LocalStore()


def store() -> Store:
    """Redis with REDIS_URL, else this process's memory."""
    global _store
    if not bus.uses_redis():
        return _local
    if _store is None:
        with _store_lock:
            if _store is None:
                _store = RedisStore()
    return _store


def reset_local_store() -> None:
    """Forgets everything kept in memory (for tests)."""
    global _local
    _local = LocalStore()


# --- changes and their announcements (in worker threads: they may query and publish) --------


def update(ops: Sequence[Op]) -> list[Presence | None]:
    """Applies `ops` and announces the changes they make."""
    if not ops:
        return []
    results = store().update(ops, time.time())
    announce([result for result in results if result is not None and result.changed])
    return results


def announce(changes: list[Presence]) -> None:
    """Publishes each change to `stream-notify-logged` `user-status` and to
    `stream-user-presence` `<uid>` (one query for the users' names and roles)."""
    if not changes:
        return
    users = User.objects.filter(pk__in={change.user_id for change in changes})
    by_id = {user.pk: user for user in users.prefetch_related("roles")}
    batch = []
    for change in changes:
        user = by_id.get(change.user_id)
        if user is None:
            continue
        code = CODES[change.status]
        roles = sorted(role.pk for role in user.roles.all())
        batch.append(
            events.stream(
                NOTIFY_LOGGED,
                "user-status",
                [[user.pk, user.username, code, change.text, user.name, roles]],
            )
        )
        batch.append(events.stream(USER_PRESENCE, user.pk, [[user.username, code, change.text]]))
    events.publish_many(batch)


def connection_opened(user_id: str, conn_id: str) -> None:
    update([("connect", user_id, (conn_id,))])


def connection_closed(user_id: str, conn_id: str) -> None:
    update([("disconnect", user_id, (conn_id,))])


def touch(live: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pushes back the deadlines of this process's live connections; answers those that were
    swept meanwhile (a process that stalled for longer than the TTL)."""
    results = update([("touch", uid, (cid,)) for uid, cid in live])
    return [pair for pair, result in zip(live, results, strict=True) if result is None]


def sweep(limit: int = 1000) -> None:
    """Drops connections whose deadline passed (their process died) and announces the users
    they leave offline. Every process sweeps; a connection is dropped, and announced, once."""
    now = time.time()
    expired = store().expired(now, limit)
    update([("expire", uid, (cid,)) for uid, cid in expired])
    store().forget_changes(now - CHANGES_KEPT_SECONDS)


# --- what users and endpoints ask ----------------------------------------------------------


def set_status(*, user_id: str, status: str | None = None, text: str | None = None) -> None:
    """Sets the status a user chose (Rocket.Chat's statusDefault; None leaves it) and their
    status text (trimmed to 120 characters; None leaves it, "" clears it), announcing the change.
    Raises ApiError (error-invalid-status) for a status other than online/away/busy/offline."""
    if status is not None and status not in STATUSES:
        raise ApiError(INVALID_STATUS, error_type="error-invalid-status")
    note = None if text is None else text.strip()[:STATUS_TEXT_MAX_LENGTH]
    with store_reachable():
        update([("choose", user_id, (status, note))])


def set_connection_status(*, user_id: str, conn_id: str, status: str) -> bool:
    """One connection's own status (online or away); False when it is not known."""
    (result,) = update([("connection", user_id, (conn_id, status))])
    return result is not None


def presence_of(user_id: str) -> Presence:
    """One user's presence, worked out afresh (announcing a change a sweep has not seen yet)."""
    with store_reachable():
        (result,) = update([("read", user_id, ())])
    assert result is not None
    return result


def statuses(user_ids: Iterable[str]) -> dict[str, str]:
    """The status of each user, by id, in one call to the store (for lists of users). While
    Redis cannot be reached everyone shows as offline, so that user objects are still served."""
    ids = list(user_ids)
    try:
        return {uid: status for uid, (status, _) in store().shown(ids).items()}
    except Exception:
        logger.warning("presence unavailable (Redis unreachable); showing offline", exc_info=True)
        return dict.fromkeys(ids, OFFLINE)


def not_offline() -> dict[str, tuple[str, str]]:
    """(status, text) of every user who is not offline, by id."""
    with store_reachable():
        return store().not_offline()


def changed_since(since: float) -> list[str]:
    """Users whose status changed at or after `since` (unix time; the last 10 minutes kept)."""
    with store_reachable():
        return store().changed_since(since)


@contextmanager
def store_reachable() -> Iterator[None]:
    """The presence endpoints' answer while Redis cannot be reached: a 503, not a 500."""
    try:
        yield
    except ApiError:
        raise
    except Exception:
        logger.warning("presence unavailable (Redis unreachable)", exc_info=True)
        raise ServiceUnavailable("Presence is unavailable for a moment.") from None


# --- the hub's side: connections signing in and out, and the refresh task --------------------


class Tracker:
    """One per hub: records its connections as they sign in and out, and every third of the
    TTL pushes their deadlines back and sweeps those of dead processes."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.locks: dict[str, asyncio.Lock] = {}  # per connection: opened/closed in order

    def lock(self, conn_id: str) -> asyncio.Lock:
        return self.locks.setdefault(conn_id, asyncio.Lock())

    async def signed_in(self, conn: Connection) -> None:
        user_id, conn_id = conn.user_id, conn.id
        assert user_id is not None
        async with self.lock(conn_id):
            await sync.run(connection_opened, user_id, conn_id)

    async def signed_out(self, conn: Connection) -> None:
        user_id, conn_id = conn.user_id, conn.id
        if user_id is None:
            return
        async with self.lock(conn_id):
            await sync.run(connection_closed, user_id, conn_id)
        self.locks.pop(conn_id, None)

    async def keep_alive(self) -> None:
        while True:
            await asyncio.sleep(settings.PRESENCE_TTL_SECONDS / 3)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: try again next time
                logger.warning("realtime: presence not refreshed: %s", exc)

    async def refresh(self) -> None:
        live = [(uid, conn.id) for uid, conns in self.hub.by_user.items() for conn in conns]
        for uid, conn_id in await sync.run(touch, live):
            async with self.lock(conn_id):
                if any(conn.id == conn_id for conn in self.hub.by_user.get(uid, ())):
                    await sync.run(connection_opened, uid, conn_id)
        await sync.run(sweep)


def attach(hub: Hub) -> None:
    """Called by get_hub for each new hub, before it starts (registered by AccountsConfig)."""
    tracker = Tracker(hub)
    hub.on_login.append(tracker.signed_in)
    hub.on_logout.append(tracker.signed_out)
    hub.jobs.append(tracker.keep_alive)


def shown_to_watchers(user_ids: list[str]) -> list[tuple[str, list[Any]]]:
    """For a stream-user-presence subscription watching these users: (uid, [[username, code,
    statusText]]) of each that exists, as its first frame (one query, one store read)."""
    names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))
    shown = store().shown(list(names))
    return [
        (uid, [[username, CODES[shown[uid][0]], shown[uid][1]]]) for uid, username in names.items()
    ]
