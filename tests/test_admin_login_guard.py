"""The Django admin's login form, and its change-password form, are guarded as the API's logins
are: one count per account and per address, shared with the API, the same block, the same
hashing work whether the name exists or not. Posted as a browser posts them, CSRF token included.
"""

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.rate_limited]

ADDRESS = "203.0.113.7"
WRONG_PASSWORD = (
    "Please enter the correct username and password for a staff account. Note that both fields "
    "may be case-sensitive."
)
BLOCKED_USER = "Too many failed logins for this user. Try again later."


@pytest.fixture
def generous_attempts(settings):
    """Lifts the per-address attempt rate (and the API's own limit on its login) so that the
    failure counts are what is tested."""
    settings.LOGIN_RATE = "1000/m"
    settings.RATELIMIT_RATES = {"login": "1000/s"}


@pytest.fixture
def root(db):
    return UserFactory(
        username="root", email="root@example.com", is_superuser=True, is_staff=True, roles=["admin"]
    )


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def csrf_token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]


def admin_login(browser, username, password, address=ADDRESS):
    """Opens the admin's login page and submits it: (status, the form's error notes)."""
    page = browser.get("/admin/login/?next=/admin/", REMOTE_ADDR=address)
    answer = browser.post(
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
        REMOTE_ADDR=address,
    )
    notes = re.findall(r'<p class="errornote">\s*(.*?)\s*</p>', answer.content.decode(), re.S)
    return answer.status_code, notes


def signed_in(browser) -> bool:
    return browser.get("/admin/").status_code == 200


def api_login(user, password, address=ADDRESS):
    return Client().post(
        "/api/login",
        json.dumps({"user": user, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_the_right_password_signs_in_and_clears_the_count(browser, root, generous_attempts):
    for _ in range(9):
        assert admin_login(browser, "root", "wrong") == (200, [WRONG_PASSWORD])

    assert admin_login(browser, "root", PASSWORD)[0] == 302
    assert signed_in(browser)
    assert [api_login("root", "wrong").status_code for _ in range(10)] == [401] * 10


def test_failures_block_the_admin_login_even_for_the_right_password(
    browser, root, generous_attempts, hashing
):
    failures = [admin_login(browser, "root", "wrong") for _ in range(10)]
    hashed = len(hashing)

    assert failures == [(200, [WRONG_PASSWORD])] * 10
    assert admin_login(browser, "root", PASSWORD) == (200, [BLOCKED_USER])
    assert admin_login(browser, "ROOT@example.com", PASSWORD) == (200, [BLOCKED_USER])
    assert len(hashing) == hashed  # refused before any hashing, as the API refuses
    assert not signed_in(browser)


def test_admin_failures_block_the_api_and_the_apis_block_the_admin(
    browser, root, generous_attempts
):
    for n in range(10):
        if n % 2:
            assert admin_login(browser, "root@example.com", "wrong")[1] == [WRONG_PASSWORD]
        else:
            assert api_login("root", "wrong").status_code == 401

    blocked = api_login("root", PASSWORD)

    assert blocked.status_code == 429
    assert blocked.json()["errorType"] == "error-login-blocked-for-user"
    assert admin_login(browser, "root", PASSWORD) == (200, [BLOCKED_USER])
    assert not signed_in(browser)


def test_names_matching_no_account_are_answered_and_blocked_alike(
    browser, root, generous_attempts, hashing
):
    """Neither the answer, nor the hashing done for it, nor the block tells which names exist."""

    def attempts(name):
        answers = []
        for _ in range(11):
            before = len(hashing)
            answers.append((admin_login(browser, name, "wrong"), len(hashing) - before))
        return answers

    expected = [((200, [WRONG_PASSWORD]), 1)] * 10 + [((200, [BLOCKED_USER]), 0)]
    assert attempts("nobody") == expected
    assert attempts("root") == expected


def test_a_plain_users_right_password_opens_no_admin(browser, generous_attempts):
    UserFactory(username="sing")

    assert admin_login(browser, "sing", PASSWORD) == (200, [WRONG_PASSWORD])
    assert not signed_in(browser)


def test_too_many_attempts_from_one_address_are_refused(browser, root):
    for n in range(10):
        assert admin_login(browser, f"guess{n}", "wrong")[1] == [WRONG_PASSWORD]

    refused = admin_login(browser, "root", PASSWORD)

    assert refused == (200, ["Too many login attempts from this address. Try again later."])
    assert admin_login(browser, "root", PASSWORD, address="198.51.100.1")[0] == 302


def test_with_the_cache_down_the_admin_login_says_so(browser, root, monkeypatch):
    page = browser.get("/admin/login/", REMOTE_ADDR=ADDRESS)

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    answer = browser.post(
        "/admin/login/",
        {"csrfmiddlewaretoken": csrf_token(page), "username": "root", "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
    )

    assert answer.status_code == 200
    assert "Logging in is unavailable for a moment. Try again shortly." in answer.content.decode()


def change_password(browser, old):
    page = browser.get("/admin/password_change/", REMOTE_ADDR=ADDRESS)
    answer = browser.post(
        "/admin/password_change/",
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "old_password": old,
            "new_password1": "a whole new passphrase",
            "new_password2": "a whole new passphrase",
        },
        REMOTE_ADDR=ADDRESS,
    )
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', answer.content.decode())
    return answer.status_code, errors


def test_the_old_password_of_the_change_password_form_is_guarded(browser, root, generous_attempts):
    """A session left open does not buy unguarded guesses at its owner's password."""
    browser.force_login(root)
    incorrect = "Your old password was entered incorrectly. Please enter it again."

    assert [change_password(browser, "wrong") for _ in range(10)] == [(200, [incorrect])] * 10
    assert change_password(browser, PASSWORD) == (200, [BLOCKED_USER])
    assert api_login("root", PASSWORD).status_code == 429
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_the_change_password_form_takes_the_right_old_password(browser, root):
    browser.force_login(root)

    assert change_password(browser, PASSWORD)[0] == 302
    assert api_login("root", "a whole new passphrase").status_code == 200
