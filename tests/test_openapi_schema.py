"""The OpenAPI schema: generated without a warning, covering every /api/ route, served at
/api/schema/ and browsable at /api/docs/ without a login."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

METHODS = ("get", "post", "put", "patch", "delete")


def api_routes() -> set[tuple[str, str]]:
    """(path, method) for every route of the URLconf under /api/, as the schema names them:
    without the optional trailing slash, `{name}` for a captured part."""
    routes = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            regex = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, regex)
                continue
            assert isinstance(pattern, URLPattern)
            path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex)
            path = path.removesuffix("/?").replace("\\.", ".")
            if not path.startswith("/api/") or path.rstrip("/") in ("/api/schema", "/api/docs"):
                continue
            view = getattr(pattern.callback, "view_class", None)
            if view is None:  # a plain Django view (GET /api/health)
                routes.add((path, "get"))
                continue
            for method in METHODS:
                if hasattr(view, method):
                    routes.add((path, method))

    walk(get_resolver().url_patterns, "")
    return routes


@pytest.fixture(scope="module")
def schema() -> dict:
    generator = SchemaGenerator()
    result = generator.get_schema(request=None, public=True)
    validate_schema(result)
    return result


def test_every_api_route_is_in_the_schema(schema):
    routes = api_routes()
    assert len(routes) > 90  # the walk found the URLconf
    documented = {
        (path, method) for path, operations in schema["paths"].items() for method in operations
    }
    assert routes - documented == set()
    assert documented - routes == set()


def test_the_schema_generates_without_warnings(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    assert "Warning" not in capsys.readouterr().err


def test_every_operation_answers_errors_in_the_envelope_with_the_rate_headers(schema):
    responses = schema["components"]["responses"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            statuses = operation["responses"]
            assert {"400", "429", "500"} <= set(statuses), (path, method)
            for status, response in statuses.items():
                if status >= "400" and (path, status) != ("/api/health", "503"):
                    assert response == {"$ref": f"#/components/responses/{status}"}
                    answer = responses[status]
                else:
                    answer = response
                    assert "X-Ratelimit-Remaining" in answer["headers"], (path, method)
            if operation.get("security") != [{}]:
                assert operation["security"] == [
                    {"authToken": [], "userId": []},
                    {"bearerAuth": []},
                ], (path, method)
                assert {"401", "403"} <= set(statuses), (path, method)
    envelope = responses["400"]["content"]["application/json"]["schema"]
    assert envelope == {"$ref": "#/components/schemas/Error"}
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "success",
        "status",
        "message",
        "error",
        "errorType",
        "detailed_error",
        "request_id",
        "status_code",
    }


def test_public_endpoints_take_no_credentials(schema):
    public = {
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if operation["security"] == [{}]
    }
    assert public == {
        "/api/health",
        "/api/version",
        "/api/info",
        "/api/login",
        "/api/v1/login",
        "/api/v1/users.register",
        "/api/v1/settings.public",
        "/api/v1/service.configurations",
        "/api/v1/users.forgotPassword",
        "/api/v1/method.callAnon/{name}",
    }


@pytest.mark.django_db
def test_the_schema_and_its_docs_are_served_without_login(api):
    answer = api.get("/api/schema/")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert "/api/v1/channels.info" in answer.json()["paths"]
    assert "X-Ratelimit-Limit" in answer.headers or answer.status_code == 200

    yaml = api.get("/api/schema/?format=yaml")
    assert yaml.status_code == 200
    assert yaml.content.startswith(b"openapi: 3")

    page = api.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html  # its files are served here (drf-spectacular-sidecar)


def test_the_methods_over_rest_are_documented(schema):
    for path in ("/api/v1/method.call/{name}", "/api/v1/method.callAnon/{name}"):
        operation = schema["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/MethodCallRequest"}
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/MethodResult"}
    assert schema["components"]["schemas"]["MethodCallRequest"]["required"] == ["message"]
    assert set(schema["components"]["schemas"]["MethodResult"]["properties"]) == {
        "message",
        "success",
    }
