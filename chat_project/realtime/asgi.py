"""The ASGI application: the realtime API's websockets and the REST API on one port.

- `/websocket`: DDP over a plain websocket (what Rocket.Chat's SDKs and bots use).
- `/sockjs/<server>/<session>/websocket`: the same in SockJS framing (Meteor's own client),
  with `GET /sockjs/info` telling it that websockets are available.
- everything else: Django. Its views are synchronous, and Django's own ASGI handler would run
  them one at a time per process (thread_sensitive); our WSGI bridge
  (chat_project/serving/wsgi_bridge.py) runs them in a pool of WEB_THREADS threads instead, as
  a threaded WSGI server would.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any

from chat_project.realtime import ddp
from chat_project.realtime.hub import current_hub, get_hub

logger = logging.getLogger(__name__)

WEBSOCKET_PATHS = ("/websocket", "/websocket/")
SOCKJS_WEBSOCKET = re.compile(r"^/sockjs/[^/.]+/[^/.]+/websocket/?$")
SOCKJS_INFO = re.compile(r"^/sockjs/info/?$")


class Router:
    def __init__(self, http: Any) -> None:
        self.http = http

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "websocket":
            path = scope["path"]
            if path in WEBSOCKET_PATHS:
                await ddp.serve(scope, receive, send, sockjs=False)
            elif SOCKJS_WEBSOCKET.match(path):
                await ddp.serve(scope, receive, send, sockjs=True)
            else:
                await send({"type": "websocket.close", "code": 1008})
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "http" and SOCKJS_INFO.match(scope["path"]):
            await sockjs_info(send)
        else:
            await self.http(scope, receive, send)

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await get_hub()
                except Exception as exc:
                    logger.exception("realtime hub did not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                hub = current_hub()
                if hub is not None:
                    await hub.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def sockjs_info(send: Any) -> None:
    body = json.dumps(
        {
            "websocket": True,
            "origins": ["*:*"],
            "cookie_needed": False,
            "entropy": secrets.randbelow(2**32),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json; charset=UTF-8"),
                (b"cache-control", b"no-store, no-cache, must-revalidate, max-age=0"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def application_for(wsgi_app: Any, threads: int) -> Router:
    from chat_project.serving.wsgi_bridge import WsgiBridge

    return Router(WsgiBridge(wsgi_app, threads))
