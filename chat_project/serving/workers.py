"""gunicorn's worker class for `make run`: uvicorn (ASGI, websockets) with our settings."""

from __future__ import annotations

import gc
import signal
from typing import Any

from django.conf import settings
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]
from websockets.protocol import State


class ChatWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets (sans-I/O) protocol, plus one ASGI extension for the realtime hub,
    which writes each event to hundreds of sockets at once: scope["extensions"][SEND_TEXT_NOW]
    is `send_text_now(data: bytes) -> bool`, which writes a text frame (UTF-8 `data`) to the
    socket there and then, as `await send({"type": "websocket.send", ...})` would, and answers
    True; or writes nothing and answers False when the socket is not open or its write buffer is
    full (above the transport's high-water mark), and the caller then uses the ordinary `send`,
    which waits. The bytes on the wire are the same either way."""

    def handle_connect(self, event: Any) -> None:
        from chat_project.realtime.ddp import SEND_TEXT_NOW  # once Django's apps are loaded

        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and not self.handshake_complete:  # a 101 the app has yet to accept
            scope["extensions"][SEND_TEXT_NOW] = self.send_text_now

    def send_text_now(self, data: bytes) -> bool:
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        if self.conn.extensions:  # permessage-deflate: websockets compresses, per socket
            self.conn.send_text(data)
            self.transport.write(b"".join(self.conn.data_to_send()))
            return True
        # An unmasked, unfragmented text frame (RFC 6455 5.2), as websockets would frame it.
        size = len(data)
        if size < 126:
            head = bytes((0x81, size))
        elif size < 65536:
            head = bytes((0x81, 126)) + size.to_bytes(2, "big")
        else:
            head = bytes((0x81, 127)) + size.to_bytes(8, "big")
        self.transport.write(head + data)
        return True


class ChatUvicornWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        "lifespan": "on",  # starts the realtime hub with the worker
        "ws": ChatWebSocketProtocol,
        "ws_max_size": settings.REALTIME_MAX_FRAME_BYTES,  # larger frames close the socket (1009)
        # chat_project.http.ratelimit decides whose X-Forwarded-For to believe
        "proxy_headers": False,
        "server_header": False,
        "date_header": True,
    }

    sockets: list[Any]  # gunicorn's listeners (Worker.__init__)
    serving_announced = False

    def init_signals(self) -> None:
        """Ctrl-C reaches the workers with the master (one process group). uvicorn's own handler
        shuts a worker down gracefully while it serves, then sends the signal again so that the
        process dies of it; with SIGINT at its default, gunicorn's master then warned "Worker
        was sent SIGINT!" at every Ctrl-C. Ignored outside uvicorn's handler, the worker ends
        with its shutdown instead (the master stops a worker still booting with SIGQUIT)."""
        super().init_signals()
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def run(self) -> None:
        # uvloop detaches a listening socket when it closes a server, but only if the socket is
        # a socket.socket: gunicorn's wrapper (gunicorn.sock) it closes a second time, after
        # libuv has closed the descriptor, and every stop logged "Error while closing socket
        # [Errno 9] Bad file descriptor". uvicorn gets the sockets themselves.
        self.sockets = [getattr(listener, "sock", listener) for listener in self.sockets]
        super().run()

    async def callback_notify(self) -> None:
        """uvicorn calls this first once the worker serves (then every few seconds, for the
        master's heartbeat); the first call tells the application (serve's GunicornServer)."""
        if not self.serving_announced:
            self.serving_announced = True
            worker_serving = getattr(self.app, "worker_serving", None)
            if worker_serving is not None:
                worker_serving()
        await super().callback_notify()

    def load_wsgi(self) -> None:
        """Loads the application, then takes what loading made out of the garbage collector's
        sight (gc.freeze). Django, the URLconf, the models and the libraries are about 86,000
        objects that live as long as the process, and every full collection walked them all: a
        pause of tens of milliseconds (more on busy cores) that every request in flight on the
        worker waited out. Under wrk (16 connections, five workers on 2 cores) a page's p99 went
        from 75-175 ms to 20-40 ms, its p50 unchanged; with the collector off altogether,
        30-36 ms. What requests make is collected as before."""
        super().load_wsgi()
        gc.freeze()
