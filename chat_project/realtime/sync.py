"""Database work for sockets, done in a thread pool so the event loop never waits on it.

Each call is treated like one request: Django's stale connections are closed before and after
(as its request_started/request_finished signals do for HTTP), so a database that went away and
came back is reconnected to, and CONN_MAX_AGE is honoured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections

T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.REALTIME_THREADS, thread_name_prefix="realtime"
        )
    return _executor


def _as_request(func: Callable[..., T], *args: Any) -> T:
    close_old_connections()
    try:
        return func(*args)
    finally:
        close_old_connections()


async def run(func: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor(), _as_request, func, *args)
