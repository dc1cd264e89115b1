"""The WSGI bridge that serves Django under `make run` (chat_project/serving/wsgi_bridge.py): a request
body read on the event loop (a large one's rest as the application reads it), the response
written in the thread and sent by the loop (a large one piece by piece), PEP 3333's environ."""

import asyncio
import contextvars
import json

import pytest

from chat_project.serving import wsgi_bridge
from chat_project.serving.wsgi_bridge import WsgiBridge


def scope(method="GET", path="/api/echo", query=b"", headers=()):
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": list(headers),
        "server": ("127.0.0.1", 3000),
        "client": ("10.0.0.7", 50123),
    }


def serve(app, request_scope, incoming):
    """Run one request through the bridge: (the messages sent, how many receives it made)."""
    incoming = list(incoming)
    sent, receives = [], []

    async def receive():
        receives.append(1)
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # a client with nothing more to say

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(request_scope, receive, send), 10))
    return sent, len(receives)


def body(data, more=False):
    return {"type": "http.request", "body": data, "more_body": more}


def echo(environ, start_response):
    """A WSGI application answering with what it was given."""
    data = environ["wsgi.input"].read()
    keys = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT")
    keys += ("REMOTE_ADDR", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_USER_ID", "HTTP_ACCEPT")
    shown = {key: environ.get(key) for key in keys}
    shown["body"] = data.decode()
    start_response("201 Created", [("Content-Type", "application/json"), ("X-Seen", "yes")])
    return [json.dumps(shown).encode()]


def test_a_request_is_handed_to_the_application_and_its_answer_sent_whole():
    sent, _ = serve(
        WsgiBridge(echo, threads=2),
        scope(
            "POST",
            query=b"a=1",
            headers=[
                (b"content-type", b"application/json"),
                (b"content-length", b"11"),
                (b"x-user-id", b"u1"),
                (b"accept", b"text/plain"),
                (b"accept", b"application/json"),
            ],
        ),
        [body(b'{"msg":"hi"}')],
    )

    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 201
    assert sent[0]["headers"] == [(b"content-type", b"application/json"), (b"x-seen", b"yes")]
    assert sent[1].get("more_body", False) is False
    assert json.loads(sent[1]["body"]) == {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/echo",
        "QUERY_STRING": "a=1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "REMOTE_ADDR": "10.0.0.7",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "11",
        "HTTP_X_USER_ID": "u1",
        "HTTP_ACCEPT": "text/plain,application/json",  # repeated headers joined, as PEP 3333 says
        "body": '{"msg":"hi"}',
    }


def test_a_header_with_an_underscore_is_dropped():
    sent, _ = serve(
        WsgiBridge(echo, threads=1),
        scope(headers=[(b"x_user_id", b"spoofed"), (b"x-user-id", b"real")]),
        [body(b"")],
    )
    assert json.loads(sent[1]["body"])["HTTP_X_USER_ID"] == "real"


def test_a_body_in_pieces_is_read_whole_before_the_application_runs():
    pieces = [body(b"one ", more=True), body(b"two ", more=True), body(b"three")]
    sent, receives = serve(WsgiBridge(echo, threads=1), scope("POST"), pieces)
    assert json.loads(sent[1]["body"])["body"] == "one two three"
    assert receives == 3


def test_a_large_body_is_read_on_as_the_application_asks(monkeypatch):
    monkeypatch.setattr(wsgi_bridge, "PREREAD_BODY_BYTES", 4)
    seen = {}

    def lines(environ, start_response):
        stream = environ["wsgi.input"]
        seen["first"] = stream.readline()
        seen["three"] = stream.read(3)
        seen["rest"] = list(stream)
        start_response("200 OK", [])
        return [b"ok"]

    pieces = [body(b"abcdef", more=True), body(b"\nghi", more=True), body(b"jk\nlm\n")]
    sent, receives = serve(WsgiBridge(lines, threads=1), scope("POST"), pieces)

    assert seen == {"first": b"abcdef\n", "three": b"ghi", "rest": [b"jk\n", b"lm\n"]}
    assert receives == 3
    assert sent[1]["body"] == b"ok"


def test_a_body_declared_large_is_left_to_the_application(monkeypatch):
    monkeypatch.setattr(wsgi_bridge, "PREREAD_BODY_BYTES", 4)

    def refuse(environ, start_response):  # as the API refuses a body over REQUEST_MAX_BYTES
        start_response("413 Request Entity Too Large", [])
        return [b"too large"]

    sent, receives = serve(
        WsgiBridge(refuse, threads=1),
        scope("POST", headers=[(b"content-length", b"5")]),
        [body(b"12345")],
    )
    assert (sent[0]["status"], receives) == (413, 0)


def test_a_client_gone_before_its_body_arrived_gets_nothing():
    called = []

    def app(environ, start_response):
        called.append(1)
        start_response("200 OK", [])
        return [b""]

    sent, _ = serve(
        WsgiBridge(app, threads=1),
        scope("POST"),
        [body(b"part", more=True), {"type": "http.disconnect"}],
    )
    assert (called, sent) == ([], [])


def test_a_large_answer_is_sent_piece_by_piece(monkeypatch):
    monkeypatch.setattr(wsgi_bridge, "BUFFERED_RESPONSE_BYTES", 10)

    def stream(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (f"piece {n};".encode() for n in range(4))

    sent, _ = serve(WsgiBridge(stream, threads=1), scope(), [body(b"")])

    assert sent[0]["type"] == "http.response.start"
    pieces = sent[1:]
    assert b"".join(m["body"] for m in pieces) == b"piece 0;piece 1;piece 2;piece 3;"
    assert len(pieces) > 2  # not one buffered body
    assert [m.get("more_body", False) for m in pieces] == [True] * (len(pieces) - 1) + [False]


def test_the_application_closes_its_answer():
    closed = []

    class Answer(list):
        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("204 No Content", [])
        return Answer([b""])

    sent, _ = serve(WsgiBridge(app, threads=1), scope(), [body(b"")])
    assert (sent[0]["status"], closed) == (204, [True])


def test_each_request_runs_in_a_context_of_its_own():
    marker = contextvars.ContextVar("marker", default="unset")
    seen = []

    def app(environ, start_response):
        seen.append(marker.get())
        marker.set(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b""]

    bridge = WsgiBridge(app, threads=1)  # one thread: the same thread serves both
    serve(bridge, scope(path="/first"), [body(b"")])
    serve(bridge, scope(path="/second"), [body(b"")])
    assert seen == ["unset", "unset"]


def test_only_http_is_bridged():
    with pytest.raises(ValueError, match="not an HTTP request"):
        serve(WsgiBridge(echo, threads=1), {"type": "websocket"}, [])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # Django runs in its thread
def test_django_answers_through_the_bridge(user):
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    from tests.conftest import PASSWORD

    bridge = WsgiBridge(get_wsgi_application(), threads=1)
    form = f"user={user.username}&password={PASSWORD}".encode()
    sent, _ = serve(
        bridge,
        scope(
            "POST",
            path="/api/login",
            headers=[
                (b"host", b"127.0.0.1:3000"),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(form)).encode()),
            ],
        ),
        [body(form)],
    )
    # The thread's database connection is kept for the next request: close it, for teardown.
    bridge.executor.submit(connections.close_all).result()
    bridge.executor.shutdown()
    answer = json.loads(sent[1]["body"])
    assert (sent[0]["status"], answer["status"], answer["data"]["userId"]) == (
        200,
        "success",
        user.pk,
    )
