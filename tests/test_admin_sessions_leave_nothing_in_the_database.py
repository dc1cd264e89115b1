"""The Django admin's sessions live in a signed, HttpOnly cookie and nowhere in the database, so a
dump of the database signs no one in. What ends a session: a password change and a deactivation
at its next request, a logout in the browser, SESSION_COOKIE_AGE for any copy. CSRF still holds."""

from __future__ import annotations

import io
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db) -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True, roles=["admin", "user"])


def signed_in_browser(username: str = "root", password: str = PASSWORD) -> Client:
    """A browser that signed in through the admin's login form, CSRF token and all."""
    browser = Client(enforce_csrf_checks=True)
    browser.get("/admin/login/")
    signed = browser.post(
        "/admin/login/?next=/admin/",
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )
    assert signed.status_code == 302 and signed["Location"] == "/admin/", signed.content[:500]
    return browser


def is_signed_in(browser: Client) -> bool:
    page = browser.get("/admin/")
    return page.status_code == 200


def copy_of(browser: Client) -> Client:
    """Another browser holding the same cookies (a copy someone took)."""
    thief = Client(enforce_csrf_checks=True)
    for name, morsel in browser.cookies.items():
        thief.cookies[name] = morsel.value
    return thief


def test_a_signed_in_admin_leaves_no_session_in_the_database(root):
    browser = signed_in_browser()

    cookie = browser.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert Session.objects.count() == 0
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert cookie.value not in dump.getvalue()
    assert cookie.value.split(":")[0] not in dump.getvalue()  # nor its payload
    assert is_signed_in(browser)


def test_a_forged_or_altered_cookie_signs_no_one_in(root):
    browser = signed_in_browser()
    payload, _, signature = browser.cookies["sessionid"].value.partition(":")
    forger = Client()
    forger.cookies["sessionid"] = f"{payload}:{'A' * len(signature)}"

    assert not is_signed_in(forger)
    assert is_signed_in(browser)


def test_a_password_change_ends_the_admins_other_sessions_at_once(root):
    browser = signed_in_browser()
    thief = copy_of(browser)
    assert is_signed_in(thief)

    root.set_password("another horse battery staple")
    root.save(update_fields=["password"])

    assert not is_signed_in(browser)
    assert not is_signed_in(thief)
    assert is_signed_in(signed_in_browser(password="another horse battery staple"))


def test_a_deactivated_staff_users_session_stops_working(root):
    other = UserFactory(username="other", is_staff=True, is_superuser=True)
    browser = signed_in_browser("other")
    assert is_signed_in(browser)

    # Deactivated by another administrator, in the admin's own user form.
    admin = signed_in_browser()
    page = admin.get(f"/admin/accounts/user/{other.pk}/change/")
    form = {
        "csrfmiddlewaretoken": page.context["csrf_token"],
        "username": "other",
        "email": other.email,
        "name": other.name,
        "is_staff": "on",
        "is_superuser": "on",
        "login_tokens-TOTAL_FORMS": "0",
        "login_tokens-INITIAL_FORMS": "0",
    }  # "is_active" left out: the box unticked
    assert admin.post(f"/admin/accounts/user/{other.pk}/change/", form).status_code == 302
    other.refresh_from_db()
    assert other.is_active is False

    answer = browser.get("/admin/")
    assert answer.status_code == 302
    assert answer["Location"] == "/admin/login/?next=/admin/"


def test_logging_out_deletes_the_browsers_cookie(root):
    browser = signed_in_browser()

    out = browser.post(
        "/admin/logout/", {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    )

    assert out.status_code == 200
    assert out.cookies["sessionid"].value == ""
    assert out.cookies["sessionid"]["max-age"] == 0
    assert not is_signed_in(browser)


def test_any_copy_of_a_session_ends_with_session_cookie_age(root, settings):
    settings.SESSION_COOKIE_AGE = 1
    thief = copy_of(signed_in_browser())

    time.sleep(2.1)  # the signature's timestamp is in whole seconds: 2 s is past 1 s whatever

    assert not is_signed_in(thief)


def test_an_admin_form_without_the_csrf_token_is_refused(root):
    browser = signed_in_browser()

    refused = browser.post("/admin/permissions/role/add/", {"name": "sneaky", "scope": "Users"})

    assert refused.status_code == 403
    page = browser.get("/admin/permissions/role/add/")
    made = browser.post(
        "/admin/permissions/role/add/",
        {
            "name": "planners",
            "scope": "Users",
            "description": "",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
    )
    assert made.status_code == 302
