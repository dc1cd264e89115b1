"""Rate limits for every /api/ endpoint, in one place: a rate plus a burst (chat_project.http.gcra).

Each request is counted once, with one Redis round trip in production (so every process and host
draws on the same budget) and no database query (who the caller is and whether they are exempt
come from the access cache), under the signed-in user's id or else the client's address. The
response tells the client where it stands with the Mattermost headers; over the limit it gets a
429 in the envelope with Retry-After. Holders of api-bypass-rate-limit are not counted and get
no rate headers.

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

from chat_project.http.errors import RateLimited, is_api_request, render_error
from chat_project.http.gcra import Budget, Usage, spend
from chat_project.serving.handlers import resolved_path

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


def count_request(*, group: str, key: str, budget: Budget) -> Usage | None:
    """Takes this request from `key`'s budget in `group`. None when the store cannot be reached
    (see the module docstring)."""
    return spend(f"{group}:{key}", budget)


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
        user = caller_of(request)
        if user is not None and _exempt(user):
            return self.get_response(request)
        group, budget = self.budget_for(request)
        key = f"user:{user.pk}" if user is not None else f"ip:{client_address(request)}"
        usage = count_request(group=group, key=key, budget=budget)
        if usage is None:
            return self.get_response(request)
        response = too_many_requests(request, usage) if usage.exceeded else None
        response = response or self.get_response(request)
        for header, value in usage.headers().items():
            response[header] = value
        return response

    @staticmethod
    def budget_for(request: HttpRequest) -> tuple[str, Budget]:
        """(counter group, budget): an endpoint named in RATELIMIT_RATES has a budget of its own.
        (The path is resolved only when some endpoint has one: resolving costs 20-70 us.)"""
        if settings.RATELIMIT_RATES:
            try:
                name = resolved_path(get_resolver(), request.path_info).url_name
            except Resolver404:
                name = None
            if name and name in settings.RATELIMIT_RATES:
                return f"api:{name}", endpoint_budget(name)
        return "api", default_budget()


def default_budget() -> Budget:
    return budget_of(settings.RATELIMIT_RATE, settings.RATELIMIT_BURST)


def endpoint_budget(name: str) -> Budget:
    """RATELIMIT_RATES' `name=5/s` (5 at once, then 5 a second) or `name=5/s:20` (20 at once)."""
    rate, _, burst = settings.RATELIMIT_RATES[name].partition(":")
    return budget_of(rate, int(burst) if burst else None)


@functools.lru_cache(maxsize=64)
def budget_of(rate: str, burst: int | None) -> Budget:
    return Budget.of(rate, burst)
