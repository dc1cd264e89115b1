"""CORS: off unless CORS_ALLOWED_ORIGINS names an origin; then a browser page from that origin
may call the API with the token headers."""

import pytest

APP = "https://chat.example.com"
PREFLIGHT = {
    "HTTP_ORIGIN": APP,
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "x-auth-token, x-user-id, authorization, content-type",
}


@pytest.fixture
def cors_for_app(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def listed(header_value):
    return {item.strip().lower() for item in header_value.split(",")}


@pytest.mark.django_db
def test_cors_is_off_by_default(api):
    preflight = api.options("/api/v1/chat.postMessage", **PREFLIGHT)
    response = api.get("/api/version", HTTP_ORIGIN=APP)

    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Headers" not in preflight
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_preflight_allows_the_token_headers_for_a_configured_origin(api, cors_for_app):
    response = api.options("/api/v1/chat.postMessage", **PREFLIGHT)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert {"x-auth-token", "x-user-id", "authorization", "content-type"} <= listed(
        response["Access-Control-Allow-Headers"]
    )
    assert "post" in listed(response["Access-Control-Allow-Methods"])
    assert "Access-Control-Allow-Credentials" not in response  # tokens travel in headers


@pytest.mark.django_db
def test_answers_let_a_configured_origin_read_the_rate_and_request_headers(api, cors_for_app):
    response = api.get("/api/version", HTTP_ORIGIN=APP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert {"x-request-id", "x-ratelimit-remaining", "retry-after"} <= listed(
        response["Access-Control-Expose-Headers"]
    )


@pytest.mark.django_db
def test_other_origins_stay_refused(api, cors_for_app):
    preflight = api.options(
        "/api/v1/chat.postMessage", **(PREFLIGHT | {"HTTP_ORIGIN": "https://evil.example"})
    )
    response = api.get("/api/version", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Origin" not in response
    assert api.get("/api/version", HTTP_ORIGIN=APP)["Access-Control-Allow-Origin"] == APP


@pytest.mark.django_db
@pytest.mark.rate_limited
def test_a_refused_request_still_carries_the_cors_headers(api, cors_for_app, settings):
    settings.RATELIMIT_RATE = "1/h"
    settings.RATELIMIT_BURST = 1
    assert api.get("/api/version", HTTP_ORIGIN=APP).status_code == 200

    preflight = api.options("/api/version", **PREFLIGHT)
    refused = api.get("/api/version", HTTP_ORIGIN=APP)

    assert preflight.status_code == 200  # preflights are not counted
    assert refused.status_code == 429
    assert refused["Access-Control-Allow-Origin"] == APP
