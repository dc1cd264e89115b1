from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.servers.basehttp import WSGIServer
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import issue_login_token
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"

# The live server's listen backlog (Django's is 10): the concurrency tests open 32 connections at
# once, and on a busy machine the ones beyond the backlog were reset by the kernel before the
# server ever read them.
WSGIServer.request_queue_size = 128


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.FastRocketChatArgon2PasswordHasher"]


@pytest.fixture
def hashing(monkeypatch) -> list[int]:
    """How many times a password was hashed or checked (one entry each)."""
    from tests.hashers import FastRocketChatArgon2PasswordHasher

    calls: list[int] = []
    for method in ("encode", "verify"):
        original = getattr(FastRocketChatArgon2PasswordHasher, method)

        def spy(self, *args, _original=original):
            calls.append(1)
            return _original(self, *args)

        monkeypatch.setattr(FastRocketChatArgon2PasswordHasher, method, spy)
    return calls


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db) -> User:
    return UserFactory(username="sing", email="sing@example.com", name="Sing")


@pytest.fixture
def admin(db) -> User:
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def alice(db) -> User:
    return UserFactory(username="alice", name="Alice")


@pytest.fixture
def bob(db) -> User:
    return UserFactory(username="bob", name="Bob")


@pytest.fixture
def auth_headers() -> Callable[[User], dict[str, str]]:
    """The Rocket.Chat header pair for a fresh token of `user`, as APIClient keyword args."""

    def headers(user: User) -> dict[str, str]:
        return {"HTTP_X_AUTH_TOKEN": issue_login_token(user=user), "HTTP_X_USER_ID": user.pk}

    return headers


@pytest.fixture
def as_user(api, auth_headers) -> Callable[[User], APIClient]:
    """Signs the API client in as the given user (a fresh token) and returns it:
    `as_user(bob).get(...)`. Signing in as another user replaces the first."""

    def sign_in(user: User) -> APIClient:
        api.credentials(**auth_headers(user))
        return api

    return sign_in


@pytest.fixture
def signed_in(as_user, user) -> APIClient:
    """The API client signed in as `user`."""
    return as_user(user)


@pytest.fixture
def counted_client(signed_in) -> APIClient:
    """`signed_in`, its token's first use already behind it: that use records last_used_at (a
    write), which the query-count tests must not count in the request they measure."""
    signed_in.get("/api/publicRooms")
    return signed_in


def pytest_report_header(config):
    from django.conf import settings

    return (
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )


@pytest.fixture(autouse=True)
def clients_serve_as_the_servers_do(monkeypatch):
    """The test client (django.test.Client, and so DRF's APIClient) builds its middleware chain
    and resolves paths as every server process's handler does (chat_project.serving.handlers): /api/
    requests go without the browser-only middlewares, the rest with all of settings.MIDDLEWARE,
    and paths resolved lately are remembered."""
    from django.test.client import ClientHandler

    from chat_project.serving.handlers import load_middleware, resolve_request

    monkeypatch.setattr(ClientHandler, "load_middleware", load_middleware)
    monkeypatch.setattr(ClientHandler, "resolve_request", resolve_request)


@pytest.fixture
def clock(monkeypatch):
    """The rate limits' clock (Redis's or the process's, chat_project.http.gcra), under the
    test's control: time passes without sleeping, and no budget refills during a test by chance."""

    class Clock:
        now = 1_700_000_000_000_000  # microseconds

        def advance(self, seconds):
            self.now += round(seconds * 1_000_000)

    controlled = Clock()
    monkeypatch.setattr("chat_project.http.gcra.clock", lambda: controlled.now)
    return controlled


@pytest.fixture(autouse=True)
def rate_limits_off_unless_asked(settings, request):
    """Tests fire requests faster than 10 a second; the rate-limit tests turn limits back on
    (`@pytest.mark.rate_limited`) and start from an empty cache."""
    from django.core.cache import cache

    settings.RATELIMIT_ENABLE = request.node.get_closest_marker("rate_limited") is not None
    cache.clear()
    yield
    cache.clear()


# Stored secrets never leave the server: no password hash and no login token digest in any body.
PASSWORD_HASH_PREFIXES = (b"rc_argon2$", b"argon2$", b"pbkdf2_", b"bcrypt$", b"bcrypt_sha256$")


@pytest.fixture(autouse=True)
def no_stored_secret_in_any_response(monkeypatch):
    """Every /api/ response a test's client gets (django.test.Client, and so DRF's APIClient) is
    scanned for a stored password hash's prefix and for the digest of any login token made
    during the test (recorded as accounts.tokens computes them: no query). A leak fails the
    test that caused it, whatever it was testing. (The Django admin, for staff only, shows
    token digests by design, so only the API is scanned.)"""
    from django.test.client import Client

    import accounts.tokens

    digests: set[bytes] = set()
    real_digest = accounts.tokens.token_digest
    real_request = Client.request

    def recording_digest(secret: str) -> str:
        digest = real_digest(secret)
        digests.add(digest.encode())
        return digest

    def scanned_request(self, **request):
        response = real_request(self, **request)
        api = str(request.get("PATH_INFO", "")).startswith("/api")
        if api and not getattr(response, "streaming", False):
            body = response.content
            leaked = [p for p in PASSWORD_HASH_PREFIXES if p in body]
            leaked += [d for d in digests if d in body]
            assert not leaked, f"{request.get('PATH_INFO')} answered stored secrets: {leaked}"
        return response

    monkeypatch.setattr(accounts.tokens, "token_digest", recording_digest)
    monkeypatch.setattr(Client, "request", scanned_request)


@pytest.fixture(autouse=True)
def realtime_threads_closed():
    """The realtime API's worker threads hold database connections of their own; each test
    ends with them closed (the test database can then be flushed or dropped) and a fresh pool."""
    yield
    from chat_project.realtime import sync

    executor, sync._executor = sync._executor, None
    if executor is None:
        return
    from django.db import connections

    count = executor._max_workers
    barrier = threading.Barrier(count)

    def close_mine() -> None:
        connections.close_all()
        barrier.wait(timeout=5)  # every thread takes exactly one of these

    for future in [executor.submit(close_mine) for _ in range(count)]:
        future.result(timeout=10)
    executor.shutdown(wait=True)


@pytest.fixture(autouse=True)
def settings_snapshot_forgotten():
    """A test's setting changes are rolled back with its transaction, but a process keeps what
    it read (accounts.site_settings): each test starts and ends with nothing kept."""
    from accounts import site_settings

    site_settings.forget_snapshot()
    yield
    site_settings.forget_snapshot()
