"""users.register tells that an email is taken only to a registration that is otherwise valid
(one that would have made an account had the email been free): a probe with a bad password, a
bad or taken username learns nothing about the email. docs/security.md says why the answer
itself cannot be the same either way."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TAKEN = "sing@example.com is already in use :( [error-field-unavailable]"


def answer(api, username: str, email: str, password: str) -> tuple[int, str]:
    body = {"username": username, "email": email, "pass": password}
    response = api.post("/api/v1/users.register", body, format="json")
    return response.status_code, response.json().get("error", "")


@pytest.mark.parametrize("email", ["sing@example.com", "free@example.com"])
def test_a_probe_with_a_bad_password_answers_the_same_whatever_the_email(api, user, email):
    status, error = answer(api, "prober", email, "x")

    assert (status, error) == (
        400,
        "This password is too short. It must contain at least 8 characters. This password is "
        "too common. [error-password-policy-not-met]",
    )


@pytest.mark.parametrize("email", ["sing@example.com", "free@example.com"])
def test_a_probe_with_a_taken_username_answers_the_same_whatever_the_email(api, user, email):
    assert answer(api, "SING", email, PASSWORD) == (
        400,
        "Username is already in use",
    )


def test_an_otherwise_valid_registration_learns_the_email_is_taken(api, user):
    assert answer(api, "prober", "Sing@Example.com", PASSWORD) == (400, TAKEN)
    assert not User.objects.filter(username="prober").exists()
    assert answer(api, "prober", "free@example.com", PASSWORD)[0] == 200
