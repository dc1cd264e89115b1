"""GET /api/health: can this server answer, and are its database and cache reachable?

For load balancers and monitors: no login, no rate-limit refusal worth the name (a probe every
second is well inside any budget), and nothing but two cheap round trips. The answer:

    {"status": "ok" | "degraded" | "down",
     "database": {"ok": true, "latency_ms": 0.4}, "cache": {"ok": true, "latency_ms": 0.2},
     "version": "0.9.0", "success": true}

200 while the API can serve: "ok", or "degraded" when only the cache is gone (reads are then
served without rate limits, and logins refused with 503; see chat_project.http.ratelimit). 503 with
Retry-After when the database is down, since then nearly every endpoint fails.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from chat_project.http.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


def probe_database() -> dict[str, Any]:
    """One `SELECT 1` on the default database, timed. Never raises."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not usable", whatever the driver calls it
        logger.warning("health: database unavailable: %s", exc)
        return {"ok": False}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def probe_cache() -> dict[str, Any]:
    """One read from the shared cache, timed. Never raises."""
    started = time.perf_counter()
    try:
        cache.get("health:probe")
    except Exception as exc:  # django-redis raises its own ConnectionInterrupted, among others
        logger.warning("health: cache unavailable: %s", exc)
        return {"ok": False}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_health() -> dict[str, Any]:
    """/api/health's body: "ok", "degraded" (the cache is gone) or "down" (the database is),
    with each probe's answer and our version. The page at `/` shows the same."""
    database, cache_state = probe_database(), probe_cache()
    if not database["ok"]:
        status = "down"
    elif not cache_state["ok"]:
        status = "degraded"
    else:
        status = "ok"
    return {
        "status": status,
        "database": database,
        "cache": cache_state,
        "version": settings.VERSION,
        "success": status != "down",
    }


@csrf_exempt  # a read with no cookies: any other method is a 405, not a CSRF refusal
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    body = check_health()
    down = body["status"] == "down"
    response = JsonResponse(body, status=503 if down else 200)
    if down:
        response["Retry-After"] = str(ServiceUnavailable.retry_after)
        # This body is the answer a monitor reads: the envelope middleware must leave it be.
        response.is_api_error = True  # type: ignore[attr-defined]
    return response
