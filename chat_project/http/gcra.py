"""Budgets of a rate plus a burst, as Mattermost's limiter has them, by the generic cell rate
algorithm (GCRA).

A budget of `rate` (N requests per period) and `burst` (B) lets B requests come at once, then
one every period/N: a bucket of B tokens refilled one every period/N. GCRA keeps one number per
caller, the theoretical arrival time (TAT) of their next request if they kept exactly to the
rate; a request is allowed when taking one more token would leave the TAT no further than B
tokens' worth ahead of now.

With Redis (REDIS_URL) the number lives there and one Lua script reads, decides and writes it in
one round trip, atomically, on Redis's own clock (so hosts whose clocks differ agree). Without
it, the in-process cache holds it under a lock: each process then counts for itself, as the
single-machine mode is documented to.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache as once
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^(\d+)/(\d*)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MICROSECONDS = 1_000_000

# KEYS[1]: the caller's TAT, in microseconds on Redis's clock. ARGV: the emission interval and
# the tolerance (burst x interval), in microseconds, and the time if not Redis's own (tests).
# Returns {allowed (1/0), TAT - now}. A TAT is kept a second longer than it matters (an expired one
# is a full bucket, which it would then be anyway).
# Lua's numbers are doubles: exact for integers up to 2^53, 285 years of microseconds.
SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - tolerance > now then
  return {0, tat - now}
end
local keep_ms = math.ceil((next_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', keep_ms)
return {1, next_tat - now}
"""


@dataclass(frozen=True, slots=True)
class Budget:
    """`limit` requests at once, refilled one every `interval` microseconds."""

    limit: int
    interval: int

    @classmethod
    def of(cls, rate: str, burst: int | None = None) -> Budget:
        """From a rate such as `10/s` or `100/5m` and a burst; without a burst, the rate's own
        count may come at once (`20/m`: 20 at once, then one every 3 seconds)."""
        count, period = parse_rate(rate)
        limit = count if burst is None else burst
        if limit < 1:
            raise ImproperlyConfigured(f"a burst must be at least 1, not {limit}")
        return cls(limit=limit, interval=max(1, round(period * MICROSECONDS / count)))

    @property
    def tolerance(self) -> int:
        return self.limit * self.interval


@dataclass(frozen=True, slots=True)
class Usage:
    limit: int
    remaining: int
    reset: int  # whole seconds until one more request is allowed (0: one is allowed now)
    exceeded: bool
    wait_ms: int = 0  # the same in milliseconds (Meteor's timeToReset)

    def headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Reset": str(self.reset),
        }


def parse_rate(rate: str) -> tuple[int, int]:
    """(requests, seconds) of `10/s`, `100/5m`, `1000/h`."""
    match = _RATE.match(rate.strip())
    if not match or int(match.group(1)) == 0 or match.group(2) == "0":
        raise ImproperlyConfigured(f"a rate looks like 10/s or 100/5m, not {rate!r}")
    return int(match.group(1)), int(match.group(2) or 1) * _UNITS[match.group(3)]


def usage_of(budget: Budget, allowed: bool, ahead: int) -> Usage:
    """Where a caller stands, from whether the request was allowed and how far (microseconds)
    their TAT now lies ahead of the clock."""
    slack = budget.tolerance - ahead  # tokens' worth of time left in the bucket
    remaining = max(0, min(budget.limit, slack // budget.interval))
    # The next token comes when the slack reaches one more interval; a full bucket waits for none.
    wait = 0 if remaining >= budget.limit else (remaining + 1) * budget.interval - slack
    return Usage(
        limit=budget.limit,
        remaining=remaining,
        reset=math.ceil(max(0, wait) / MICROSECONDS),
        exceeded=not allowed,
        wait_ms=math.ceil(max(0, wait) / 1000),
    )


def spend(key: str, budget: Budget) -> Usage | None:
    """Takes one request from `key`'s budget. None when the store cannot be reached (the caller
    decides whether that means yes or no)."""
    try:
        if uses_redis():
            allowed, ahead = spend_in_redis(key, budget)
        else:
            allowed, ahead = spend_in_process(key, budget)
    except Exception:
        logger.warning("rate limit store unavailable", exc_info=True)
        return None
    return usage_of(budget, allowed, ahead)


@once
def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def spend_in_redis(key: str, budget: Budget) -> tuple[bool, int]:
    """EVALSHA on the thread's own connection (chat_project.realtime.bus.ThreadConnection); the
    script itself, once, when Redis does not know it yet (a restart, SCRIPT FLUSH)."""
    from redis.exceptions import NoScriptError

    args = (1, redis_key(key), budget.interval, budget.tolerance, "" if clock is None else clock())
    try:
        allowed, ahead = redis_commands().execute("EVALSHA", SCRIPT_SHA, *args)
    except NoScriptError:
        allowed, ahead = redis_commands().execute("EVAL", SCRIPT, *args)
    return bool(allowed), int(ahead)


SCRIPT_SHA = hashlib.sha1(SCRIPT.encode(), usedforsecurity=False).hexdigest()


@once
def redis_commands() -> Any:
    from chat_project.realtime.bus import ThreadConnection

    return ThreadConnection()


def redis_key(key: str) -> str:
    # Under the cache's prefix and version, in its database: clearing the cache clears them too.
    return cache.make_key(f"gcra:{key}")


_local_lock = threading.Lock()
# The time in microseconds, when something other than the store's own clock should say it (the
# tests, to let time pass without sleeping); None: Redis's clock, or this process's without it.
clock: Callable[[], int] | None = None


def spend_in_process(key: str, budget: Budget) -> tuple[bool, int]:
    """The script's arithmetic, on this process's clock, in the in-process cache."""
    name = f"gcra:{key}"
    with _local_lock:
        now = time.time_ns() // 1000 if clock is None else clock()
        tat = max(cache.get(name, now), now)
        next_tat = tat + budget.interval
        if next_tat - budget.tolerance > now:
            return False, tat - now
        cache.set(name, next_tat, timeout=math.ceil((next_tat - now) / MICROSECONDS) + 1)
        return True, next_tat - now
