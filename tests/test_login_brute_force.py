"""Logins are limited before any password is checked, per account and per address."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.rate_limited]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def only_the_login_guard(settings):
    """The general per-address API limit (10 a second) would also stop these bursts; lifting it
    for the login endpoint leaves the login guard as the one being tested."""
    settings.RATELIMIT_RATES = {"login": "1000/s", "v1-login": "1000/s", "users.update": "1000/s"}


@pytest.fixture
def generous_attempts(settings):
    """Lifts the per-address attempt rate so that the failure counters are what is tested."""
    settings.LOGIN_RATE = "1000/m"


def login(api, user="sing", password="wrong", address="203.0.113.7", path="/api/login", **extra):
    return api.post(
        path,
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


@pytest.mark.parametrize("path", ["/api/login", "/api/v1/login"])
def test_the_username_and_the_email_share_one_count(api, user, generous_attempts, path):
    """Counted per account, so naming it both ways gives no more guesses."""
    names = ["sing", "SING@example.com"] * 5

    answers = [login(api, user=name, path=path) for name in names]
    blocked = login(api, user="sing@example.com", password=PASSWORD, path=path)

    assert [a.status_code for a in answers] == [401] * 10
    assert blocked.status_code == 429
    assert blocked.json()["errorType"] == "error-login-blocked-for-user"
    assert blocked.json()["message"] == "Too many failed logins for this user. Try again later."
    assert login(api, user="sing", password=PASSWORD, path=path).status_code == 429


def test_the_0_1_and_v1_logins_share_one_count(api, user, generous_attempts):
    for n in range(10):
        login(api, user="sing", path="/api/v1/login" if n % 2 else "/api/login")

    assert login(api, user="sing", password=PASSWORD, path="/api/v1/login").status_code == 429


def shown(response):
    """What a client sees of an answer: status, Retry-After and body (but the request id)."""
    body = response.json()
    del body["request_id"]
    return response.status_code, response.get("Retry-After"), body


@pytest.mark.parametrize("unknown", ["nobody", "nobody@example.com"])
def test_a_name_matching_no_account_is_blocked_as_an_account_is(
    api, user, generous_attempts, hashing, unknown
):
    """The block tells nobody which names exist: the same answers, in the same order, after the
    same hashing work (one hash a failure, none once blocked)."""

    def attempts(name):
        answers = []
        for _ in range(11):
            before = len(hashing)
            answers.append((*shown(login(api, user=name)), len(hashing) - before))
        return answers

    for_the_account = attempts("sing")
    for_no_account = attempts(unknown)

    assert for_no_account == for_the_account
    assert [(status, hashes) for status, _, _, hashes in for_no_account] == [(401, 1)] * 10 + [
        (429, 0)
    ]
    assert for_no_account[-1][1:3] == (
        "300",
        {
            "success": False,
            "status": "error",
            "message": "Too many failed logins for this user. Try again later.",
            "error": "Too many failed logins for this user. Try again later.",
            "errorType": "error-login-blocked-for-user",
            "detailed_error": "",
            "status_code": 429,
        },
    )


def test_a_name_matching_no_account_is_counted_in_any_case(api, user, generous_attempts):
    for n in range(10):
        login(api, user="Nobody" if n % 2 else "nobody ")

    blocked = login(api, user="NOBODY")

    assert blocked.status_code == 429
    assert blocked.json()["errorType"] == "error-login-blocked-for-user"
    assert login(api, user="sing", password=PASSWORD).status_code == 200


def test_the_current_password_of_users_update_is_guessed_no_faster_than_a_login(
    api, user, auth_headers, generous_attempts
):
    """A stolen token does not buy unguarded guesses at its owner's password."""

    def change_password(current):
        return api.post(
            "/api/v1/users.update",
            {
                "userId": user.pk,
                "data": {"password": "a whole new passphrase", "currentPassword": current},
            },
            format="json",
            REMOTE_ADDR="203.0.113.7",
            **auth_headers(user),
        )

    wrong = [change_password("wrong") for _ in range(5)]
    wrong += [login(api, user="sing@example.com") for _ in range(5)]
    refused = change_password(PASSWORD)

    assert [a.status_code for a in wrong] == [400] * 5 + [401] * 5
    assert wrong[0].json()["errorType"] == "error-invalid-password"
    assert refused.status_code == 429
    assert refused.json()["errorType"] == "error-login-blocked-for-user"
    assert login(api, password=PASSWORD).status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # unchanged


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
