"""GET /api/health: database and cache status for load balancers and monitors, no login."""

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from chat_project import __version__


class Unreachable:
    """Stands in for a database connection or cache whose server has gone away."""

    def cursor(self):
        raise OperationalError("connection refused")

    def get(self, *args, **kwargs):
        raise ConnectionError("connection refused")


@pytest.mark.django_db
def test_health_reports_database_and_cache_without_login(api):
    response = api.get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert isinstance(body["database"]["latency_ms"], float)
    assert body["cache"]["ok"] is True
    assert body["version"] == __version__
    assert body["success"] is True
    assert response["Cache-Control"] == "no-store"
    assert api.get("/api/health/").status_code == 200


@pytest.mark.django_db
def test_health_is_503_when_the_database_is_down(api, monkeypatch):
    monkeypatch.setattr("chat_project.http.health.connection", Unreachable())

    response = api.get("/api/health")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "status": "down",
        "database": {"ok": False},
        "cache": {"ok": True, "latency_ms": response.json()["cache"]["latency_ms"]},
        "version": __version__,
        "success": False,
    }


@pytest.mark.django_db
def test_health_is_degraded_but_200_when_the_cache_is_down(api, monkeypatch):
    monkeypatch.setattr("chat_project.http.health.cache", Unreachable())

    response = api.get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]["ok"], body["cache"]) == (
        "degraded",
        True,
        {"ok": False},
    )


@pytest.mark.django_db
def test_health_ignores_bad_credentials(api):
    response = api.get("/api/health", HTTP_X_AUTH_TOKEN="nonsense", HTTP_X_USER_ID="nobody")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_health_only_answers_reads():
    response = APIClient(enforce_csrf_checks=True).post("/api/health")

    assert response.status_code == 405
    assert response.json()["errorType"] == "error-method-not-allowed"
    assert response["Allow"] == "GET, HEAD"
    assert APIClient().head("/api/health").status_code == 200


# --- the database going away anywhere else is a 503 in the envelope, not a 500 ----------------


@pytest.mark.django_db
def test_database_error_in_a_view_is_503_in_the_envelope(user, auth_headers, monkeypatch):
    def database_gone():
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("rooms.views.public_rooms", database_gone)
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/publicRooms", **auth_headers(user))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert (body["success"], body["status"], body["message"], body["errorType"]) == (
        False,
        "error",
        "Service unavailable",
        "error-service-unavailable",
    )
    assert body["status_code"] == 503


@pytest.mark.django_db
@pytest.mark.rate_limited
def test_database_error_in_a_middleware_is_503_in_the_envelope(user, auth_headers, monkeypatch):
    def database_gone(*args, **kwargs):
        raise OperationalError("could not connect to server")

    # The rate limits look the token up before any view runs.
    monkeypatch.setattr("chat_project.http.ratelimit._caller_of", database_gone)
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/publicRooms", **auth_headers(user))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["errorType"] == "error-service-unavailable"
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
@pytest.mark.rate_limited
def test_health_is_never_rate_limited(client):
    answers = [client.get("/api/health") for _ in range(15)]

    assert {answer.status_code for answer in answers} == {200}
    assert "X-Ratelimit-Limit" not in answers[-1]
