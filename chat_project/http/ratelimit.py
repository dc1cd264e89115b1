"""Rate limits: every budget, REST's and the realtime API's, is spent through `spend`.

A budget is named (`api`, `api:<route>`, `ddp:<method>`) and counted per caller: the signed-in
user's id, or else the client's address (`caller_key`). The counters live in the shared cache
(Redis in production, so every process and host draws on the same budget). REST counts each
/api/ request once, in its route's budget (`route_budget`); a realtime method with a REST twin
counts in that route's budget too, so a user's REST sends and socket `sendMessage` calls draw
from one budget (chat_project.realtime.methods). Holders of api-bypass-rate-limit are not
counted. A REST response tells the client where it stands with the Mattermost headers; over the
limit it gets a 429 in the envelope with Retry-After.

`spend` is the one place that knows how a budget is counted (today django-ratelimit's fixed
windows): a different algorithm changes it alone.

If the cache cannot be reached, API requests are served without limits (and without headers)
rather than refused: reads keep working while Redis recovers. Logins fail closed instead; see
accounts.login_guard.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django_ratelimit.core import get_usage

from chat_project.http.errors import RateLimited, is_api_request, render_error

logger = logging.getLogger(__name__)

# Monitors and load balancers probe this; they must never be refused.
HEALTH_PATH = re.compile(r"^/api/health/?$")

# Who is calling: (user, token) for a request with valid credentials, else None, never raising
# (accounts registers it: identify_callers_with). And whether that user skips the limits
# (permissions registers it: exempt_callers_when). The ground knows no users or permissions.
CallerOf = Callable[..., Any]
_caller_of: CallerOf | None = None
_exempt: Callable[[Any], bool] = lambda user: False  # noqa: E731 - until an app says otherwise


def identify_callers_with(caller_of: CallerOf) -> None:
    """`caller_of(request, quiet=True)`: the request's (user, token), or None."""
    global _caller_of
    _caller_of = caller_of


def exempt_callers_when(exempt: Callable[[Any], bool]) -> None:
    """`exempt(user)`: true for a user whose requests are not counted."""
    global _exempt
    _exempt = exempt


def caller_of(request: HttpRequest) -> Any:
    if _caller_of is None:
        raise ImproperlyConfigured("no app registered how to identify a request's caller")
    login = _caller_of(request, quiet=True)
    return login[0] if login else None


@dataclass(frozen=True)
class Usage:
    limit: int
    remaining: int
    reset: int  # seconds until the window starts afresh
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Reset": str(self.reset),
        }


def trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless that is one of TRUSTED_PROXIES, in which case
    the nearest X-Forwarded-For hop that is not a trusted proxy (what a client sends itself,
    further left, is never believed)."""
    return forwarded_client(
        request.META.get("REMOTE_ADDR", "") or "unknown",
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
    )


def forwarded_client(address: str, forwarded_for: str) -> str:
    """client_address's rule for any transport (the websocket API's too)."""
    if not trusted_proxy(address):
        return address
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not trusted_proxy(hop):
            return hop
    return address


def caller_key(user: Any, address: str) -> str | None:
    """Whose budgets a caller spends: the signed-in user's, else the address's; None for a user
    who is not counted (api-bypass-rate-limit)."""
    if user is not None:
        return None if _exempt(user) else f"user:{user.pk}"
    return f"ip:{address}"


def route_budget(route: str | None) -> tuple[str, str]:
    """(budget, rate) of a REST route, by its URL name: its own when RATELIMIT_RATES names it,
    else the API's shared one (RATELIMIT_RATE)."""
    if route and route in settings.RATELIMIT_RATES:
        return f"api:{route}", settings.RATELIMIT_RATES[route]
    return "api", settings.RATELIMIT_RATE


def spend(budget: str, caller: str, *, rate: str) -> Usage | None:
    """Spends one from `caller`'s `budget`, allowed `rate` (a django-ratelimit rate: "10/s",
    "100/5m"); answers where the caller then stands. None when limits are switched off
    (RATELIMIT_ENABLE) or the cache cannot be reached (see the module docstring). Blocking (one
    or two cache round trips): the realtime API calls it from its worker threads."""
    try:
        usage = get_usage(
            None, group=budget, key=lambda _group, _request: caller, rate=rate, increment=True
        )
    except Exception:  # the cache is down: serve rather than refuse (see the module docstring)
        logger.warning("rate limit cache unavailable; serving without limits", exc_info=True)
        return None
    if usage is None:
        return None
    limit, count = int(usage["limit"]), int(usage["count"])
    return Usage(
        limit=limit,
        remaining=max(0, limit - count),
        # django-ratelimit's window ends at the *end* of the second it names (time_left 0 means
        # "during this second"), so the budget comes back time_left + 1 seconds from now: 1 for
        # the seed's 10/s, as its example headers show.
        reset=max(0, int(usage["time_left"])) + 1,
        exceeded=bool(usage["should_limit"]),
    )


def too_many_requests(request: HttpRequest, usage: Usage) -> HttpResponse:
    limited = RateLimited()
    limited.retry_after = usage.reset
    return render_error(request, limited)


class ApiRateLimitMiddleware:
    """Applies RATELIMIT_RATE (or a RATELIMIT_RATES override for the endpoint) to every /api/
    request, before the view runs, and puts the rate headers on whatever answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not settings.RATELIMIT_ENABLE
            or not is_api_request(request)
            or HEALTH_PATH.match(request.path_info)
        ):
            return self.get_response(request)
        key = caller_key(caller_of(request), client_address(request))
        if key is None:
            return self.get_response(request)
        budget, rate = route_budget(self.route_of(request))
        usage = spend(budget, key, rate=rate)
        if usage is None:
            return self.get_response(request)
        response = too_many_requests(request, usage) if usage.exceeded else None
        response = response or self.get_response(request)
        for header, value in usage.headers().items():
            response[header] = value
        return response

    @staticmethod
    def route_of(request: HttpRequest) -> str | None:
        try:
            return resolve(request.path_info).url_name
        except Resolver404:
            return None
