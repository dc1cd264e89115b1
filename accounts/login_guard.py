"""Brute-force protection for logins, decided before any password is checked.

Every password check goes through it, whatever the door (0.1, v1, the websocket's `login`, the
Django admin, users.update's current password): accounts.services.checked_password.

Per address, at most LOGIN_RATE attempts (10 a minute). Per account and per address, failures
are counted for LOGIN_BLOCK_SECONDS; past LOGIN_FAILURES_PER_USER (10) or
LOGIN_FAILURES_PER_ADDRESS (50) logins are refused for LOGIN_BLOCK_SECONDS (5 minutes), as
Rocket.Chat's defaults have it. An account is counted by its id, so its username and its e-mail
(in any case) share one count; a name that matches no account is counted by itself (trimmed,
any case), and is blocked after as many failures as an account would be, so the block does not
tell which names exist. Each attempt reserves its failure before the password is checked, so
N+1 wrong passwords racing each other get at most N "wrong password" answers; a success gives
the reservation back and clears the account's count.

The counters live in the shared cache. If it cannot be reached, logins are refused (503)
rather than left unguarded. RATELIMIT_ENABLE=false switches this off with the other limits.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django_ratelimit.core import get_usage

from chat_project.http.errors import (
    LoginBlockedForIp,
    LoginBlockedForUser,
    LoginUnavailable,
    RateLimited,
)


class LoginGuard:
    def __init__(self, *, account: str | None, identifier: str, address: str) -> None:
        """`account`: the id of the user `identifier` names, or None when it names no one."""
        if account is not None:
            who = f"account:{account}"
        else:  # hashed, so whatever a client types makes a tame cache key
            who = "name:" + hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
        self.address = address
        self.counters = [
            ("user", f"login:failures:{who}", settings.LOGIN_FAILURES_PER_USER),
            ("ip", f"login:failures:ip:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
        ]

    def admit(self) -> None:
        """Lets the attempt go on to the password check, its failure reserved, or raises
        LoginBlockedForUser / LoginBlockedForIp / RateLimited (429) or LoginUnavailable (503)."""
        if not settings.RATELIMIT_ENABLE:
            return
        try:
            self.refuse_if_blocked()
            self.count_attempt()
            for kind, key, allowed in self.counters:
                if self.bump(key) > allowed:
                    self.block(kind, key)
        except RateLimited:
            raise
        except Exception:
            raise LoginUnavailable() from None

    def succeeded(self) -> None:
        """The password was right: the account starts afresh, the address gets its attempt back."""
        if not settings.RATELIMIT_ENABLE:
            return
        try:
            (_, user_key, _), (_, address_key, _) = self.counters
            cache.delete(user_key)
            cache.decr(address_key)
        except Exception:  # noqa: S110 - a count not given back costs nothing but strictness
            pass

    def refuse_if_blocked(self) -> None:
        for kind, key, _ in self.counters:
            until = cache.get(f"{key}:blocked")
            if until is not None:
                raise self.blocked(kind, int(until - time.time()))

    def count_attempt(self) -> None:
        usage = get_usage(
            None,
            group="login",
            key=lambda _group, _request: self.address,
            rate=settings.LOGIN_RATE,
            increment=True,
        )
        if usage is None:
            raise LoginUnavailable()  # the cache could not count: see RATELIMIT_FAIL_OPEN
        if usage["should_limit"]:
            limited = RateLimited()
            limited.retry_after = int(usage["time_left"])
            raise limited

    @staticmethod
    def bump(key: str) -> int:
        """Adds one to a failure counter (made with a LOGIN_BLOCK_SECONDS lifetime), atomically."""
        for _ in range(3):
            cache.add(key, 0, settings.LOGIN_BLOCK_SECONDS)
            try:
                return int(cache.incr(key))
            except ValueError:  # it expired or was cleared between the two calls: again
                continue
        raise LoginUnavailable()

    def block(self, kind: str, key: str) -> None:
        # The counter is left to expire on its own: deleting it here would race other attempts.
        seconds = settings.LOGIN_BLOCK_SECONDS
        cache.add(f"{key}:blocked", time.time() + seconds, seconds)
        raise self.blocked(kind, seconds)

    @staticmethod
    def blocked(kind: str, seconds: int) -> RateLimited:
        error = LoginBlockedForUser() if kind == "user" else LoginBlockedForIp()
        error.retry_after = max(1, seconds)
        return error
