"""POST /api/login: who may log in, with what, and what a failure looks like."""

import pytest

from accounts.models import LoginToken
from tests.factories import UserFactory
from tests.hashers import FastRocketChatArgon2PasswordHasher

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def unauthorized(response):
    return response.json() == {
        "success": False,
        "status": "error",
        "message": "Unauthorized",
        "error": "Unauthorized",
        "errorType": "unauthorized",
        "detailed_error": "",
        "request_id": response["X-Request-Id"],
        "status_code": 401,
    }


@pytest.mark.parametrize(
    "credentials",
    [
        {"user": "sing"},
        {"user": "SING"},
        {"user": "sing@example.com"},
        {"user": "Sing@Example.COM"},
        {"username": "sing"},
        {"email": "sing@example.com"},
    ],
    ids=["user", "user-any-case", "user-as-email", "email-any-case", "username", "email"],
)
def test_login_accepts_username_or_email_as_json(api, user, credentials):
    response = api.post("/api/login", credentials | {"password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["userId"] == user.pk


def test_login_answers_a_wrong_password_with_401_unauthorized(api, user):
    response = api.post("/api/login", {"user": "sing", "password": "wrong"}, format="json")

    assert response.status_code == 401
    assert unauthorized(response)
    assert not LoginToken.objects.exists()


def test_login_answers_an_unknown_user_exactly_like_a_wrong_password(api, user):
    wrong_password = api.post("/api/login", {"user": "sing", "password": "wrong"})
    unknown_user = api.post("/api/login", {"user": "nobody", "password": PASSWORD})

    assert unknown_user.status_code == wrong_password.status_code == 401
    assert unknown_user.json() | {"request_id": ""} == wrong_password.json() | {"request_id": ""}


def test_login_does_the_same_hashing_work_for_unknown_users(api, user, monkeypatch):
    """Timing is judged by work done, not by a stopwatch: one Argon2 run either way."""
    calls = []
    for method in ("encode", "verify"):
        original = getattr(FastRocketChatArgon2PasswordHasher, method)

        def spy(self, *args, _original=original, _method=method):
            calls.append(_method)
            return _original(self, *args)

        monkeypatch.setattr(FastRocketChatArgon2PasswordHasher, method, spy)

    api.post("/api/login", {"user": "sing", "password": "wrong"})
    wrong_password_work = list(calls)
    calls.clear()
    api.post("/api/login", {"user": "nobody", "password": "wrong"})

    assert wrong_password_work == ["verify"]
    assert calls == ["encode"]


def test_login_refuses_an_inactive_user_with_the_same_401(api):
    UserFactory(username="gone", is_active=False)

    response = api.post("/api/login", {"user": "gone", "password": PASSWORD})

    assert response.status_code == 401
    assert unauthorized(response)


def test_login_without_password_is_a_400_naming_it(api, user):
    response = api.post("/api/login", {"user": "sing"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "fail"
    assert body["message"] == "password: This field is required."
    assert body["errorType"] == "invalid-params"


def test_login_without_any_identifier_is_a_400(api, user):
    response = api.post("/api/login", {"password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "One of user, username or email is required."


def test_login_rejects_non_string_credentials(api, user):
    response = api.post("/api/login", {"user": {"$ne": None}, "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "user: Not a valid string."


def test_login_keeps_whitespace_in_passwords(api):
    UserFactory(username="spacey", password="  padded secret  ")

    assert (
        api.post("/api/login", {"user": "spacey", "password": "padded secret"}).status_code == 401
    )
    assert (
        api.post("/api/login", {"user": "spacey", "password": "  padded secret  "}).status_code
        == 200
    )


def test_login_records_last_login(api, user):
    assert user.last_login is None

    api.post("/api/login", {"user": "sing", "password": PASSWORD})

    user.refresh_from_db()
    assert user.last_login is not None
