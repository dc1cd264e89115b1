"""Logins are limited before any password is checked, per username and per address."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection

from tests.hashers import FastRocketChatArgon2PasswordHasher

pytestmark = [pytest.mark.django_db, pytest.mark.rate_limited]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def hashing(monkeypatch):
    """How many times a password was hashed or checked."""
    calls = []
    for method in ("encode", "verify"):
        original = getattr(FastRocketChatArgon2PasswordHasher, method)

        def spy(self, *args, _original=original):
            calls.append(1)
            return _original(self, *args)

        monkeypatch.setattr(FastRocketChatArgon2PasswordHasher, method, spy)
    return calls


@pytest.fixture(autouse=True)
def only_the_login_guard(settings):
    """The general per-address API limit (10 a second) would also stop these bursts; lifting it
    for the login endpoint leaves the login guard as the one being tested."""
    settings.RATELIMIT_RATES = {"login": "1000/s"}


@pytest.fixture
def generous_attempts(settings):
    """Lifts the per-address attempt rate so that the failure counters are what is tested."""
    settings.LOGIN_RATE = "1000/m"


def login(api, user="sing", password="wrong", address="203.0.113.7", **extra):
    return api.post(
        "/api/login",
        json.dumps({"user": user, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=address,
        **extra,
    )


def test_ten_failures_block_the_username_before_the_password_is_checked(
    api, user, hashing, generous_attempts
):
    answers = [login(api) for _ in range(10)]
    assert [a.status_code for a in answers] == [401] * 10
    hashed_before = len(hashing)

    blocked = login(api, password=PASSWORD)  # even the right password

    assert blocked.status_code == 429
    assert blocked.json()["errorType"] == "error-login-blocked-for-user"
    assert int(blocked["Retry-After"]) == 300
    assert len(hashing) == hashed_before  # refused without hashing anything


def test_the_username_block_ignores_case_and_other_addresses(api, user, generous_attempts):
    for n in range(10):
        login(api, user="SING" if n % 2 else "sing", address=f"203.0.113.{n}")

    assert login(api, user="Sing", password=PASSWORD, address="198.51.100.1").status_code == 429


def test_two_usernames_in_json_bodies_use_two_buckets(api, user, generous_attempts):
    for _ in range(10):
        login(api, user="someone-else")

    assert login(api, user="sing", password=PASSWORD).status_code == 200


def test_a_success_resets_the_users_failure_count(api, user, generous_attempts):
    for _ in range(9):
        login(api)
    assert login(api, password=PASSWORD).status_code == 200

    assert [login(api).status_code for _ in range(10)] == [401] * 10
    assert login(api).status_code == 429


def test_fifty_failures_from_one_address_block_it(api, user, generous_attempts):
    for n in range(50):
        assert login(api, user=f"guess{n}").status_code == 401

    blocked = login(api, user="sing", password=PASSWORD)

    assert blocked.status_code == 429
    assert blocked.json()["errorType"] == "error-login-blocked-for-ip"
    assert login(api, user="sing", password=PASSWORD, address="198.51.100.1").status_code == 200


def test_ten_attempts_a_minute_per_address(api, user, hashing):
    answers = [login(api, user=f"probe{n}") for n in range(11)]

    assert [a.status_code for a in answers] == [401] * 10 + [429]
    assert answers[-1].json()["errorType"] == "error-too-many-requests"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60


def test_a_spoofed_forwarded_for_does_not_reset_the_address_limit(api, user):
    for n in range(10):
        login(api, user=f"probe{n}", HTTP_X_FORWARDED_FOR=f"10.1.1.{n}")

    assert login(api, user="probeX", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_form_logins_are_counted_the_same(api, user, generous_attempts):
    for _ in range(10):
        api.post("/api/login", {"user": "sing", "password": "wrong"}, REMOTE_ADDR="203.0.113.7")

    assert login(api, password=PASSWORD).status_code == 429


def test_with_the_cache_down_logins_are_refused(api, user, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)

    response = login(api, password=PASSWORD)

    assert response.status_code == 503
    assert response.json()["errorType"] == "error-service-unavailable"
    assert response["Retry-After"] == "5"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_wrong_passwords_never_exceed_the_failure_budget(live_server, settings):
    import urllib.error
    import urllib.request

    from tests.factories import UserFactory

    settings.LOGIN_RATE = "1000/m"
    UserFactory(username="target")

    def attempt(_):
        request = urllib.request.Request(
            f"{live_server.url}/api/login",
            data=json.dumps({"user": "target", "password": "wrong"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(attempt, range(24)))

    assert answers.count(401) == 10
    assert answers.count(429) == 14
