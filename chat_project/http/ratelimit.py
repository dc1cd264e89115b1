"""Rate limits: every budget, REST's and the realtime API's, is spent through `spend`: a rate
plus a burst (chat_project.http.gcra).

A budget is named (`api`, `api:<route>`, `ddp:<method>`) and counted per caller: the signed-in
user's id, or else the client's address (`caller_key`). The counters live in the shared cache
(Redis in production, so every process and host draws on the same budget). REST counts each
/api/ request once, in its route's budget (`route_budget`); a realtime method with a REST twin
counts in that route's budget too, so a user's REST sends and socket `sendMessage` calls draw
from one budget (chat_project.realtime.methods). Holders of api-bypass-rate-limit are not
counted. A REST response tells the client where it stands with the Mattermost headers; over the
limit it gets a 429 in the envelope with Retry-After.

Counting a request costs one Redis round trip in production and no database query: who the
caller is and whether they are exempt come from the access cache.

If the cache cannot be reached, API requests are served without limits (and without headers)
rather than refused: reads keep working while Redis recovers. Logins fail closed instead; see
accounts.login_guard.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver

from chat_project.http import gcra
from chat_project.http.errors import RateLimited, is_api_request, render_error
from chat_project.http.gcra import Budget, Usage
from chat_project.serving.handlers import resolved_path

logger = logging.getLogger(__name__)

# Monitors and load balancers probe this; they must never be refused.
HEALTH_PATH = re.compile(r"^/api/health/?$")
# Methods over REST spend the method's own budgets (per method, and its REST twin's: see
# chat_project.realtime.methods), as on the websocket; counting the request too would charge a
# REST sendMessage twice. Rocket.Chat leaves these routes out of its REST limiter alike.
METHOD_CALL_PATH = re.compile(r"^/api/v1/method\.call(Anon)?/")

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


def trusted_proxy(address: str) -> bool:
    if not settings.TRUSTED_PROXY_NETWORKS:
        return False  # the default: no address to parse
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


def caller_key(user: Any, address: str | Callable[[], str]) -> str | None:
    """Whose budgets a caller spends: the signed-in user's, else the address's (given, or the
    function that finds it: asked only for a caller who is not signed in); None for a user who
    is not counted (api-bypass-rate-limit)."""
    if user is not None:
        return None if _exempt(user) else f"user:{user.pk}"
    return f"ip:{address if isinstance(address, str) else address()}"


def route_budget(route: str | None) -> tuple[str, Budget]:
    """(name, budget) of a REST route, by its URL name: its own when RATELIMIT_RATES names it
    (`name=5/s`: 5 at once, then 5 a second; `name=5/s:20`: 20 at once), else the API's shared
    one (RATELIMIT_RATE after a burst of RATELIMIT_BURST)."""
    if route and route in settings.RATELIMIT_RATES:
        rate, _, burst = settings.RATELIMIT_RATES[route].partition(":")
        return f"api:{route}", budget_of(rate, int(burst) if burst else None)
    return "api", budget_of(settings.RATELIMIT_RATE, settings.RATELIMIT_BURST)


@functools.lru_cache(maxsize=64)
def budget_of(rate: str, burst: int | None = None) -> Budget:
    """A rate (`10/s`, `100/5m`) and a burst (without one, the rate's own count at once)."""
    return Budget.of(rate, burst)


def spend(budget: str, caller: str, allowed: Budget) -> Usage | None:
    """Spends one from `caller`'s `budget`, `allowed` so much; answers where the caller then
    stands. None when the store cannot be reached (see the module docstring). Blocking (one
    round trip): the realtime API calls it from its worker threads."""
    return gcra.spend(f"{budget}:{caller}", allowed)


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
            or METHOD_CALL_PATH.match(request.path_info)
        ):
            return self.get_response(request)
        key = caller_key(caller_of(request), lambda: client_address(request))
        if key is None:
            return self.get_response(request)
        budget, allowed = route_budget(self.route_of(request))
        usage = spend(budget, key, allowed)
        if usage is None:
            return self.get_response(request)
        response = too_many_requests(request, usage) if usage.exceeded else None
        response = response or self.get_response(request)
        for header, value in usage.headers().items():
            response[header] = value
        return response

    @staticmethod
    def route_of(request: HttpRequest) -> str | None:
        """The route's name, when some route has a budget of its own (resolving costs 20-70 us;
        the handler's memory of resolved paths makes it about 2)."""
        if not settings.RATELIMIT_RATES:
            return None
        try:
            return resolved_path(get_resolver(), request.path_info).url_name
        except Resolver404:
            return None
