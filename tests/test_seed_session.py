"""The first calls of the seed document (rocketchat-rest-api-beta.txt), exactly as written there."""

import pytest

pytestmark = pytest.mark.django_db


def test_version_needs_no_login(api):
    response = api.get("/api/version")

    assert response.status_code == 200
    assert response.json() == {"status": "success", "versions": {"api": "0.1", "rocketchat": "0.5"}}


def test_version_ignores_bad_credentials(api):
    response = api.get("/api/version", HTTP_X_AUTH_TOKEN="garbage", HTTP_X_USER_ID="nobody")

    assert response.status_code == 200


def test_login_with_form_data_as_curl_sends_it(api, user):
    response = api.post(
        "/api/login",
        "password=correct+horse+battery+staple&user=sing",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "success",
        "data": {"authToken": body["data"]["authToken"], "userId": user.pk},
    }
    assert len(body["data"]["authToken"]) == 43


@pytest.mark.parametrize("method", ["get", "post"])
def test_logout_by_get_and_by_post(api, user, method):
    login = api.post("/api/login", {"user": "sing", "password": "correct horse battery staple"})
    token = login.json()["data"]["authToken"]

    response = getattr(api, method)("/api/logout", HTTP_X_AUTH_TOKEN=token, HTTP_X_USER_ID=user.pk)

    assert response.status_code == 200
    assert response.json() == {"status": "success", "data": {"message": "You've been logged out!"}}


def test_info_gives_the_full_version(api, settings):
    response = api.get("/api/info")

    assert response.status_code == 200
    # The seed's full X.Y.Z version: the Rocket.Chat version whose API we follow, on which
    # clients switch features on (issue 21); ours alongside.
    assert response.json() == {
        "version": settings.ROCKETCHAT_API_VERSION,
        "serverVersion": settings.VERSION,
        "success": True,
    }
    assert settings.ROCKETCHAT_API_VERSION.count(".") == settings.VERSION.count(".") == 2


def test_trailing_slash_is_tolerated(api):
    assert api.get("/api/version/").status_code == 200
