from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import issue_login_token
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.FastRocketChatArgon2PasswordHasher"]


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db) -> User:
    return UserFactory(username="sing", email="sing@example.com", name="Sing")


@pytest.fixture
def admin(db) -> User:
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def auth_headers() -> Callable[[User], dict[str, str]]:
    """The Rocket.Chat header pair for a fresh token of `user`, as APIClient keyword args."""

    def headers(user: User) -> dict[str, str]:
        return {"HTTP_X_AUTH_TOKEN": issue_login_token(user=user), "HTTP_X_USER_ID": user.pk}

    return headers


def pytest_report_header(config):
    from django.conf import settings

    return (
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )


@pytest.fixture(autouse=True)
def rate_limits_off_unless_asked(settings, request):
    """Tests fire requests faster than 10 a second; the rate-limit tests turn limits back on
    (`@pytest.mark.rate_limited`) and start from an empty cache."""
    from django.core.cache import cache

    settings.RATELIMIT_ENABLE = request.node.get_closest_marker("rate_limited") is not None
    cache.clear()
    yield
    cache.clear()
