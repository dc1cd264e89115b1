"""Every server process runs chat_project.serving.handlers.ChatWSGIHandler: Django's handler, whose
/api/ requests skip the session, CSRF, session-user and flash-message middlewares (the API
signs in by token and its views are exempt from CSRF), while the admin keeps all of them. The
test client builds its chain the same way (tests/conftest.py), so every test runs the chain the
servers run. It also remembers the paths it resolved lately, each with its own answer."""

import pytest
from django.test import Client

from chat_project import asgi, wsgi
from chat_project.serving.handlers import BROWSER_ONLY_MIDDLEWARE, ChatWSGIHandler, resolved_path
from rooms.models import Message, Room
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db


def test_both_entry_points_serve_with_the_split_handler():
    assert isinstance(wsgi.application, ChatWSGIHandler)
    assert isinstance(asgi.wsgi_application, ChatWSGIHandler)


def test_the_browser_only_middlewares_are_still_installed_for_the_site(settings):
    assert set(BROWSER_ONLY_MIDDLEWARE) <= set(settings.MIDDLEWARE)


def test_an_api_answer_carries_no_cookie_and_every_security_header(api, user, auth_headers):
    api.credentials(**auth_headers(user))

    response = api.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"]


def test_the_admin_keeps_its_csrf_protection_and_session():
    browser = Client(enforce_csrf_checks=True)

    page = browser.get("/admin/login/")
    forged = browser.post("/admin/login/", {"username": "x", "password": "y"})

    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert forged.status_code == 403  # no CSRF token: refused, as Django refuses it


def test_a_post_to_the_api_needs_no_csrf_token_even_from_a_browser_session(api, user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)  # an admin session cookie: the API neither needs nor reads it

    response = browser.post(
        "/api/login",
        {"user": user.username, "password": "correct horse battery staple"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_api_requests_skip_the_browser_only_middlewares_and_the_admin_does_not(api, monkeypatch):
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.middleware.csrf import CsrfViewMiddleware
    from django.middleware.security import SecurityMiddleware

    ran = []
    for middleware in (
        SessionMiddleware,
        CsrfViewMiddleware,
        MessageMiddleware,
        SecurityMiddleware,
    ):
        real = middleware.process_request

        def recording(self, request, real=real, name=middleware.__name__):
            ran.append((request.path, name))
            return real(self, request)

        monkeypatch.setattr(middleware, "process_request", recording)

    api.get("/api/info")
    api.get("/admin/login/")

    assert [name for path, name in ran if path == "/api/info"] == ["SecurityMiddleware"]
    # (The admin's login view runs the CSRF checks once more itself: csrf_protect.)
    assert {name for path, name in ran if path == "/admin/login/"} == {
        "SecurityMiddleware",
        "SessionMiddleware",
        "CsrfViewMiddleware",
        "MessageMiddleware",
    }


def test_a_path_resolved_lately_is_answered_from_memory(api, user, auth_headers):
    api.credentials(**auth_headers(user))
    resolved_path.cache_clear()

    first = api.get("/api/rooms/GENERAL/messages")
    second = api.get("/api/rooms/GENERAL/messages")

    assert first.status_code == second.status_code == 200
    assert (resolved_path.cache_info().misses, resolved_path.cache_info().hits) == (1, 1)


class ResolverMatchVandal:
    """A middleware that notes the resolver_match each request arrives with, then, once the
    view has answered, changes it every way it can."""

    seen: list[tuple] = []

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        self.seen.append(
            (match.func, match.args, dict(match.kwargs), match.route, list(match.app_names))
        )
        match.kwargs["room_id"] = "elsewhere"
        match.kwargs["planted"] = True
        match.captured_kwargs["room_id"] = "elsewhere"
        match.app_names.append("planted")
        match.namespaces.append("planted")
        match.args = ("planted",)
        match.route = "planted"
        return response


def test_a_request_that_changes_its_resolver_match_leaves_the_next_ones_alone(
    signed_in, settings, monkeypatch
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ResolverMatchVandal"]
    monkeypatch.setattr(ResolverMatchVandal, "seen", [])
    resolved_path.cache_clear()

    first = signed_in.get("/api/rooms/GENERAL/messages")
    second = signed_in.get("/api/rooms/GENERAL/messages")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert (resolved_path.cache_info().misses, resolved_path.cache_info().hits) == (1, 1)
    before, after = ResolverMatchVandal.seen
    assert before == after
    assert before[1:] == (
        (),
        {"room_id": "GENERAL"},
        "api/rooms/(?P<room_id>[^/]+)/messages/?$",
        [],
    )


def test_remembered_paths_keep_their_own_room_ids(api, user, auth_headers):
    other = RoomFactory(name="other", t=Room.Type.CHANNEL)
    api.credentials(**auth_headers(user))
    for room_id in ("GENERAL", other.pk):
        api.post(f"/api/rooms/{room_id}/join")

    for room_id in ("GENERAL", other.pk, "GENERAL", other.pk):
        sent = api.post(f"/api/rooms/{room_id}/send", {"msg": f"to {room_id}"}, format="json")
        assert sent.json()["data"]["rid"] == room_id

    assert Message.objects.filter(room_id="GENERAL").count() == 2
    assert Message.objects.filter(room=other).count() == 2


def test_an_unknown_path_is_a_404_every_time(api):
    for _ in range(2):
        response = api.get("/api/no/such/thing")

        assert response.status_code == 404
        assert response.json()["status"] == "error"
