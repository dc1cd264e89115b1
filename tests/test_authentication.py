"""How a request proves who it is, and the 401 it gets when it cannot."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.authentication import LoginTokenAuthentication
from accounts.models import LoginToken
from accounts.tokens import issue_login_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


NO_CREDENTIALS = (
    "No credentials: send the X-Auth-Token and X-User-Id headers of a login (POST /api/v1/login), "
    "or the token alone as Authorization: Bearer <token>."
)
NOT_LIVE = (
    "The {} is not a live login token (unknown, expired or revoked, or its user deactivated): "
    "log in again for a new one."
)
TOKEN_NOT_LIVE = NOT_LIVE.format("X-Auth-Token")


def assert_not_logged_in(response, detailed_error=TOKEN_NOT_LIVE):
    """Rocket.Chat's 401 (the message clients read), and in detailed_error what was wrong: by
    default, a token that is no longer (or never was) a live login."""
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "status": "error",
        "message": "You must be logged in to do this.",
        "error": "You must be logged in to do this.",
        "errorType": "unauthorized",
        "detailed_error": detailed_error,
        "request_id": response["X-Request-Id"],
        "status_code": 401,
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_no_credentials_at_all(api):
    assert_not_logged_in(api.get("/api/logout"), NO_CREDENTIALS)


def test_no_credentials_at_all_in_v1(api):
    assert_not_logged_in(api.get("/api/v1/me"), NO_CREDENTIALS)


def test_a_token_without_the_user_id(api, user):
    assert_not_logged_in(
        api.get("/api/logout", HTTP_X_AUTH_TOKEN=issue_login_token(user=user)),
        "The X-User-Id header is missing: send it with X-Auth-Token, "
        "or the token alone as Authorization: Bearer <token>.",
    )


def test_a_user_id_without_the_token(api, user):
    assert_not_logged_in(
        api.get("/api/v1/me", HTTP_X_USER_ID=user.pk),
        "The X-Auth-Token header is missing: send it with X-User-Id.",
    )


def test_a_valid_token_with_another_users_id(api, user):
    other = UserFactory()
    token = issue_login_token(user=user)

    assert_not_logged_in(
        api.get("/api/logout", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=other.pk),
        "The X-Auth-Token is not X-User-Id's: they must come from the same login.",
    )
    # the token itself is untouched and still works for its owner
    assert (
        api.get("/api/logout", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk).status_code == 200
    )


@pytest.mark.parametrize(
    "token",
    ["garbage", "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq", "x" * 5000, "ç" * 43, "' OR 1=1 --"],
    ids=["short", "well-formed-but-unknown", "huge", "non-ascii", "sql"],
)
def test_a_garbage_token(api, user, token):
    assert_not_logged_in(
        api.get("/api/logout", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk),
        TOKEN_NOT_LIVE,
    )


def test_a_revoked_token_says_to_log_in_again(api, user):
    token = issue_login_token(user=user)
    headers = {"HTTP_X_AUTH_TOKEN": token, "HTTP_X_USER_ID": user.pk}
    assert api.post("/api/v1/logout", **headers).status_code == 200

    assert_not_logged_in(api.get("/api/v1/me", **headers), TOKEN_NOT_LIVE)


def test_bearer_token_identifies_its_user(api, user):
    token = issue_login_token(user=user)

    response = api.post("/api/logout", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert not LoginToken.objects.exists()


def test_bearer_scheme_is_case_insensitive(api, user):
    token = issue_login_token(user=user)

    assert api.post("/api/logout", HTTP_AUTHORIZATION=f"bearer {token}").status_code == 200


def test_a_garbage_bearer_token(api, user):
    assert_not_logged_in(
        api.get("/api/logout", HTTP_AUTHORIZATION="Bearer nonsense"),
        NOT_LIVE.format("bearer token"),
    )


def test_a_bearer_without_its_token(api, user):
    assert_not_logged_in(
        api.get("/api/logout", HTTP_AUTHORIZATION="Bearer "),
        "The Authorization header has no token after Bearer.",
    )


def test_other_authorization_schemes_are_not_logins(api, user):
    assert_not_logged_in(
        api.get("/api/logout", HTTP_AUTHORIZATION="Basic c2luZzpNeVNFQ1JFVA=="), NO_CREDENTIALS
    )


def test_authentication_is_one_query_loading_the_user(user, django_assert_num_queries):
    token = issue_login_token(user=user)
    LoginToken.objects.update(last_used_at=timezone.now())
    request = APIRequestFactory().get("/", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk)

    with django_assert_num_queries(1):
        authenticated_user, login = LoginTokenAuthentication().authenticate(Request(request))
        assert authenticated_user.username == "sing"

    assert login.user_id == user.pk


def test_authentication_records_last_use_at_most_once_a_minute(
    user, django_assert_num_queries, settings
):
    settings.ACCESS_CACHE_SECONDS = 0  # the token read each time (tests/test_access_cache.py)
    token = issue_login_token(user=user)

    def request():
        return Request(
            APIRequestFactory().get("/", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk)
        )

    with django_assert_num_queries(2):  # the read, and the first use recorded
        LoginTokenAuthentication().authenticate(request())
    with django_assert_num_queries(1):  # a later request within the minute: the read only
        LoginTokenAuthentication().authenticate(request())

    assert LoginToken.objects.get().last_used_at > timezone.now() - timedelta(seconds=5)


def test_one_request_looks_its_token_up_once_however_often_asked(user, django_assert_num_queries):
    token = issue_login_token(user=user)
    request = Request(APIRequestFactory().get("/", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk))

    with django_assert_num_queries(2):
        for _ in range(3):
            LoginTokenAuthentication().authenticate(request)


def test_a_failed_authentication_raises_for_drf_to_answer_401(user):
    request = APIRequestFactory().get("/", HTTP_X_AUTH_TOKEN="garbage", HTTP_X_USER_ID=user.pk)

    with pytest.raises(AuthenticationFailed):
        LoginTokenAuthentication().authenticate(Request(request))
