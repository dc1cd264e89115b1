"""v1 sessions: login (with data.me, or resume), logout, me, and /api/info."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_v1_login_answers_the_01_body_with_me(api, user):
    response = api.post("/api/v1/login", {"user": "sing", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "data", "success"}
    assert (body["status"], body["success"]) == ("success", True)
    assert set(body["data"]) == {"authToken", "userId", "me"}
    me = body["data"]["me"]
    assert (me["_id"], me["username"], me["name"], me["status"], me["active"]) == (
        user.pk,
        "sing",
        "Sing",
        "offline",
        True,
    )
    assert me["emails"] == [{"address": "sing@example.com", "verified": False}]
    assert me["roles"] == ["user"]


def test_v1_login_takes_a_form_too(api, user):
    response = api.post("/api/v1/login", {"username": "sing", "password": PASSWORD})

    assert response.json()["data"]["userId"] == user.pk


def test_v1_login_resume_checks_a_token(api, user):
    token = api.post("/api/v1/login", {"user": "sing", "password": PASSWORD}).json()["data"][
        "authToken"
    ]

    resumed = api.post("/api/v1/login", {"resume": token}, format="json")

    assert resumed.status_code == 200
    assert resumed.json()["data"]["authToken"] == token
    assert resumed.json()["data"]["userId"] == user.pk


def test_v1_login_resume_with_a_bad_token_is_401(api, user):
    response = api.post("/api/v1/login", {"resume": "x" * 43}, format="json")

    assert response.status_code == 401
    assert (response.json()["error"], response.json()["message"]) == (
        "Unauthorized",
        "Unauthorized",
    )


def test_v1_login_wrong_password_is_401_unauthorized(api, user):
    response = api.post("/api/v1/login", {"user": "sing", "password": "nope"}, format="json")

    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert response.json()["error"] == "Unauthorized"


def test_v1_me_and_logout(api, user, auth_headers):
    api.credentials(**auth_headers(user))

    me = api.get("/api/v1/me").json()
    assert me["success"] is True
    assert me["username"] == "sing"
    assert "password" not in me

    out = api.post("/api/v1/logout")
    assert out.json() == {
        "status": "success",
        "data": {"message": "You've been logged out!"},
        "success": True,
    }
    assert api.get("/api/v1/me").status_code == 401


def test_info_shows_build_details_to_holders_of_view_statistics(api, auth_headers, settings):
    plain = api.get("/api/info", **auth_headers(UserFactory())).json()
    admin = api.get("/api/info", **auth_headers(UserFactory(roles=["admin"]))).json()
    anonymous = api.get("/api/info", HTTP_X_AUTH_TOKEN="garbage", HTTP_X_USER_ID="x").json()

    assert (
        plain
        == anonymous
        == {
            "version": settings.ROCKETCHAT_API_VERSION,
            "serverVersion": settings.VERSION,
            "success": True,
        }
    )
    assert admin["version"] == admin["info"]["version"] == settings.ROCKETCHAT_API_VERSION
    assert admin["info"]["serverVersion"] == settings.VERSION
    assert set(admin["info"]["build"]) == {
        "pythonVersion",
        "djangoVersion",
        "platform",
        "arch",
        "osRelease",
        "cpus",
    }
