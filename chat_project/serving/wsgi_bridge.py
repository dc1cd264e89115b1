"""Django's synchronous views under ASGI: a pool of threads, one hand-over each way a request."""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# A response up to this size is written whole by the thread and handed to the event loop in
# one go; past it, the rest goes piece by piece (each piece a hand-over, as a stream should).
BUFFERED_RESPONSE_BYTES = 1024 * 1024


# The request body read on the event loop before the application runs: all of it for nearly
# every request; a larger body's rest is read as the application asks for it.
PREREAD_BODY_BYTES = 64 * 1024


class WsgiBridge:
    """An ASGI application running a WSGI one (Django) in a pool of `threads` threads.

    The request body is read on the event loop first (up to PREREAD_BODY_BYTES; the rest, and
    a body declared larger than that, only as the application reads it, so that it may refuse
    one unread); the thread then runs the application and writes the response
    into memory, and the event loop sends it. So a request costs one hand-over to a thread and
    one back, where a bridge that reads and writes through the event loop from the thread
    (a2wsgi) waits on the loop for every read and every write, each a wake-up of the loop and a
    sleep of the thread. A response larger than BUFFERED_RESPONSE_BYTES (a static file, a
    stream) is sent piece by piece from there on. Headers whose names hold an underscore are
    dropped, as gunicorn does: in the environ `X_User_Id` would pass for `X-User-Id`.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], threads: int) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"not an HTTP request: {scope['type']}")
        loop = asyncio.get_running_loop()
        body = RequestBody(loop, receive)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if not (declared.isdigit() and int(declared) > PREREAD_BODY_BYTES):
            await body.preread()
        if body.disconnected:
            return  # nobody to answer
        response = Response(loop, send)
        environ = wsgi_environ(scope, body)
        context = contextvars.copy_context()
        await loop.run_in_executor(self.executor, context.run, response.run, self.app, environ)
        await response.finish()


class RequestBody:
    """wsgi.input: what was read on the loop, then (rarely) more, read through the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receive: Any) -> None:
        self.loop = loop
        self.receive = receive
        self.buffer = bytearray()
        self.more = True
        self.disconnected = False

    async def preread(self) -> None:
        while self.more and len(self.buffer) < PREREAD_BODY_BYTES:
            self.take(await self.receive())

    def take(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.disconnect":
            self.more, self.disconnected = False, True
            return
        self.buffer += message.get("body", b"")
        self.more = message.get("more_body", False)

    def fill(self, size: int) -> None:
        """Read through the loop until the buffer holds `size` bytes (-1: all) or the end."""
        while self.more and (size < 0 or len(self.buffer) < size):
            self.take(asyncio.run_coroutine_threadsafe(self.receive(), self.loop).result())

    def read(self, size: int = -1) -> bytes:
        self.fill(size)
        if size < 0 or size >= len(self.buffer):
            data = bytes(self.buffer)
            self.buffer.clear()
        else:
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
        return data

    def readline(self, size: int = -1) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0 or not self.more or (0 <= size <= len(self.buffer)):
                break
            self.fill(len(self.buffer) + 1)
        cut = end + 1 if end >= 0 else len(self.buffer)
        if 0 <= size < cut:
            cut = size
        data = bytes(self.buffer[:cut])
        del self.buffer[:cut]
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class Response:
    """One response: written into memory by the application's thread, sent by the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Any) -> None:
        self.loop = loop
        self.send = send
        self.start: dict[str, Any] | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.streaming = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self.streaming:
            raise exc_info[1].with_traceback(exc_info[2])
        self.start = {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [
                (name.strip().lower().encode("latin1"), value.strip().encode("latin1"))
                for name, value in headers
            ],
        }
        return self.write

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.streaming:
            self.hand_over({"type": "http.response.body", "body": chunk, "more_body": True})
            return
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > BUFFERED_RESPONSE_BYTES:
            self.streaming = True
            self.hand_over(self.start)
            self.hand_over(
                {"type": "http.response.body", "body": b"".join(self.chunks), "more_body": True}
            )
            self.chunks = []

    def hand_over(self, message: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result()

    def run(self, app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> None:
        iterable = app(environ, self.start_response)
        try:
            for chunk in iterable:
                self.write(chunk)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    async def finish(self) -> None:
        if self.streaming:
            await self.send({"type": "http.response.body", "body": b""})
            return
        if self.start is None:
            raise RuntimeError("the application gave no response")
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": b"".join(self.chunks)})


def wsgi_environ(scope: dict[str, Any], body: RequestBody) -> dict[str, Any]:
    """PEP 3333's environ for an ASGI HTTP scope."""
    script_name = scope.get("root_path", "").encode("utf8").decode("latin1")
    path_info = scope["path"].encode("utf8").decode("latin1")
    if path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope["query_string"].decode("ascii"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin1")
        if "_" in name:
            continue
        value = raw_value.decode("latin1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            value = environ[key] + "," + value  # repeated headers, as PEP 3333 joins them
        environ[key] = value
    return environ
