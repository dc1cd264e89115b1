"""Login tokens: many per user, revoked one at a time, expiring, and never stored in clear."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core import serializers
from django.utils import timezone

from accounts.models import LoginToken
from accounts.tokens import token_digest

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def log_in(api):
    data = api.post("/api/login", {"user": "sing", "password": PASSWORD}).json()["data"]
    return {"HTTP_X_AUTH_TOKEN": data["authToken"], "HTTP_X_USER_ID": data["userId"]}


def test_two_logins_give_two_working_tokens(api, user):
    phone, laptop = log_in(api), log_in(api)

    assert phone["HTTP_X_AUTH_TOKEN"] != laptop["HTTP_X_AUTH_TOKEN"]
    assert LoginToken.objects.filter(user=user).count() == 2
    assert api.post("/api/logout", **phone).status_code == 200
    assert api.post("/api/logout", **laptop).status_code == 200


def test_logout_revokes_only_the_calling_token(api, user):
    phone, laptop = log_in(api), log_in(api)

    api.post("/api/logout", **phone)

    again = api.post("/api/logout", **phone)
    assert again.status_code == 401
    assert again.json()["message"] == "You must be logged in to do this."
    assert LoginToken.objects.filter(user=user).count() == 1
    assert api.get("/api/logout", **laptop).status_code == 200


def test_an_expired_token_gets_401(api, user):
    headers = log_in(api)
    LoginToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api.get("/api/logout", **headers)

    assert response.status_code == 401
    assert response.json()["message"] == "You must be logged in to do this."


def test_tokens_expire_after_login_token_ttl(api, user, settings):
    settings.LOGIN_TOKEN_TTL = timedelta(hours=2)
    before = timezone.now()

    log_in(api)

    token = LoginToken.objects.get()
    assert before + timedelta(hours=2) <= token.expires_at <= timezone.now() + timedelta(hours=2)


def test_logging_in_clears_the_users_expired_tokens(api, user):
    log_in(api)
    LoginToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    log_in(api)

    assert LoginToken.objects.count() == 1
    assert not LoginToken.objects.get().is_expired


def test_the_secret_itself_appears_nowhere_in_the_database(api, user):
    secret = log_in(api)["HTTP_X_AUTH_TOKEN"]

    everything = serializers.serialize(
        "json", [row for model in apps.get_models() for row in model.objects.all()]
    )
    assert secret not in everything
    assert token_digest(secret) in everything
    assert LoginToken.objects.get().digest == token_digest(secret)


def test_a_deactivated_users_tokens_stop_working(api, user):
    headers = log_in(api)
    user.is_active = False
    user.save()

    assert api.get("/api/logout", **headers).status_code == 401
