"""gunicorn's worker class for `make run`: uvicorn (ASGI, websockets) with our settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from uvicorn_worker import UvicornWorker


class ChatUvicornWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        "lifespan": "on",  # starts the realtime hub with the worker
        "ws_max_size": settings.REALTIME_MAX_FRAME_BYTES,  # larger frames close the socket (1009)
        "proxy_headers": False,  # chat_project.ratelimit decides whose X-Forwarded-For to believe
        "server_header": False,
        "date_header": True,
    }
