"""Every error under /api/ is the one JSON envelope, whatever raised it."""

import pytest
from django.test import Client

import accounts.views

pytestmark = pytest.mark.django_db


def envelope(response, *, status, message, error_type, detailed_error="", state="error"):
    return {
        "success": False,
        "status": state,
        "message": message,
        "error": message,
        "errorType": error_type,
        "detailed_error": detailed_error,
        "request_id": response["X-Request-Id"],
        "status_code": status,
    }


def test_malformed_json(api, user):
    response = api.post(
        "/api/login", '{"user": "sing", "password": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == envelope(
        response,
        status=400,
        message="Malformed request body.",
        error_type="error-invalid-body",
        detailed_error=body["detailed_error"],
        state="fail",
    )
    assert body["detailed_error"].startswith("JSON parse error")


def test_a_json_body_that_is_not_an_object(api, user):
    response = api.post("/api/login", "[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid data. Expected a dictionary, but got list."


def test_an_unknown_api_url(api):
    response = api.get("/api/no/such/thing")

    assert response.status_code == 404
    assert response.json() == envelope(
        response,
        status=404,
        message="API endpoint does not exist",
        error_type="error-not-found",
        detailed_error="No endpoint at this path. Every endpoint is listed at /api/docs/ (OpenAPI).",
    )


def test_an_unknown_v1_endpoint_points_to_the_docs(api, user, auth_headers):
    """A typo in a method name (Rocket.Chat's are case-sensitive), signed in or not."""
    for response in (
        api.post("/api/v1/chat.postmessage", {"text": "hi"}, format="json"),
        api.get("/api/v1/channels.List", **auth_headers(user)),
    ):
        assert response.status_code == 404
        assert response.json()["detailed_error"] == (
            "No endpoint at this path. Every endpoint is listed at /api/docs/ (OpenAPI)."
        )


def test_an_unknown_api_url_in_debug_mode_is_still_json(api, settings):
    settings.DEBUG = True

    response = api.get("/api/no/such/thing")

    assert response.status_code == 404
    assert response.json()["message"] == "API endpoint does not exist"
    assert response.json()["detailed_error"] == (
        "No endpoint at this path. Every endpoint is listed at /api/docs/ (OpenAPI)."
    )


def test_a_wrong_method(api):
    response = api.delete("/api/login")

    assert response.status_code == 405
    assert response.json() == envelope(
        response,
        status=405,
        message='Method "DELETE" not allowed.',
        error_type="error-method-not-allowed",
    )
    assert response["Allow"] == "POST, OPTIONS"


def test_an_unsupported_content_type(api):
    response = api.post("/api/login", "user=sing", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["errorType"] == "error-unsupported-media-type"


def test_an_unhandled_exception_is_a_500_without_traceback(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts.views.VersionView, "get", explode)
    client = Client(raise_request_exception=False)

    response = client.get("/api/version")

    assert response.status_code == 500
    assert response.json() == envelope(
        response, status=500, message="Internal server error", error_type="error-internal"
    )
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_an_unhandled_exception_in_debug_mode_is_still_json(monkeypatch, settings):
    settings.DEBUG = True

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts.views.VersionView, "get", explode)
    response = Client(raise_request_exception=False).get("/api/version")

    assert response.status_code == 500
    assert response.json()["message"] == "Internal server error"


def test_a_body_over_the_size_cap_is_413(api, settings):
    settings.REQUEST_MAX_BYTES = 2048

    response = api.post("/api/login", {"user": "sing", "password": "x" * 4096}, format="json")

    assert response.status_code == 413
    assert response.json() == envelope(
        response,
        status=413,
        message="Request body too large.",
        error_type="error-request-too-large",
        detailed_error="The limit is 2048 bytes.",
    )


def test_a_non_numeric_content_length_is_400(api):
    response = api.generic("POST", "/api/login", b"user=sing", CONTENT_LENGTH="lots")

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid Content-Length header."


def test_curls_empty_form_body_is_harmless(api):
    """curl -d "{}" sends a form whose only key is "{}": the request is judged on its merits."""
    response = api.post("/api/login", "{}", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert response.json()["message"] == "password: This field is required."


def test_the_request_id_header_equals_the_bodys_request_id(api):
    response = api.get("/api/logout")

    assert len(response["X-Request-Id"]) == 26
    assert response.json()["request_id"] == response["X-Request-Id"]


def test_a_sane_incoming_request_id_is_kept(api):
    response = api.get("/api/logout", HTTP_X_REQUEST_ID="proxy-1234.abc_DEF")

    assert response["X-Request-Id"] == "proxy-1234.abc_DEF"
    assert response.json()["request_id"] == "proxy-1234.abc_DEF"


@pytest.mark.parametrize("incoming", ["", "x" * 65, "a b", "<script>", "id\u00e9"])
def test_an_unsafe_incoming_request_id_is_replaced(api, incoming):
    response = api.get("/api/version", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-Id"] != incoming
    assert len(response["X-Request-Id"]) == 26


def test_every_response_carries_request_id_and_version(api, settings):
    for response in (api.get("/api/version"), api.get("/api/nothing"), api.get("/admin/login/")):
        assert response["X-Version-Id"] == settings.VERSION
        assert response["X-Request-Id"]


def test_api_responses_are_not_cached(api):
    assert api.get("/api/version")["Cache-Control"] == "no-store"
    assert api.get("/api/nothing")["Cache-Control"] == "no-store"


def test_pages_outside_the_api_keep_djangos_404(api):
    response = api.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*", ""])
def test_answers_are_json_whatever_the_accept_header(api, accept):
    response = api.get("/api/version", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_a_host_not_allowed_is_a_400_in_the_envelope(api):
    response = api.get("/api/version", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid Host header: not in ALLOWED_HOSTS."


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_crash(api, depth):
    body = '{"user": ' + "[" * depth + "]" * depth + ', "password": "x"}'

    response = api.post("/api/login", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errorType"] == "error-invalid-body"
    assert response.json()["detailed_error"] == "JSON parse error - nested too deeply"
