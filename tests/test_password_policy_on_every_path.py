"""One password policy on every path that sets a password: users.register, users.create,
users.update, the admin's add and password forms, and `manage.py changepassword`. Beyond length
and common passwords, a password may not contain the username (any case) nor be too like the
username, display name or email (Django's UserAttributeSimilarityValidator)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTAINS = "The password cannot contain the username."
POLICY = "error-password-policy-not-met"


def refusal(response, message: str) -> dict:
    """The v1 envelope of a refused password, as a client reads it."""
    return {
        "success": False,
        "error": f"{message} [{POLICY}]",
        "errorType": POLICY,
        "status": "fail",
        "message": message,
        "detailed_error": "",
        "request_id": response["X-Request-Id"],
        "status_code": 400,
    }


@pytest.fixture
def boss(db) -> User:
    return UserFactory(username="boss", roles=["admin", "user"], is_staff=True, is_superuser=True)


# --- the API ---------------------------------------------------------------------------------


def test_register_refuses_a_password_holding_the_username_in_any_case(api):
    body = {"username": "Newbie", "email": "n@example.com", "pass": "my-NEWBIE-pass-2024"}

    response = api.post("/api/v1/users.register", body, format="json")

    assert response.status_code == 400
    assert response.json() == refusal(response, CONTAINS)
    assert not User.objects.filter(username="Newbie").exists()
    body["pass"] = PASSWORD
    assert api.post("/api/v1/users.register", body, format="json").status_code == 200


def test_register_refuses_a_password_too_like_the_display_name(api):
    body = {
        "username": "mdu",
        "name": "Marguerite Duras",
        "email": "md@example.com",
        "pass": "marguerite duras!",
    }

    response = api.post("/api/v1/users.register", body, format="json")

    message = "The password is too similar to the display name."
    assert response.json() == refusal(response, message)


def test_create_refuses_a_password_holding_the_username(as_user, boss):
    body = {
        "email": "b@example.com",
        "name": "Bot",
        "username": "helper",
        "password": "correct-Helper-9x",
    }
    caller = as_user(boss)

    response = caller.post("/api/v1/users.create", body, format="json")

    assert response.json() == refusal(response, CONTAINS)
    assert not User.objects.filter(username="helper").exists()
    body["password"] = PASSWORD
    assert caller.post("/api/v1/users.create", body, format="json").status_code == 200


def test_update_refuses_a_new_password_holding_the_username(as_user, alice):
    caller = as_user(alice)
    data = {"password": "xx-alice-is-back", "currentPassword": PASSWORD}

    response = caller.post("/api/v1/users.update", {"userId": alice.pk, "data": data}, "json")

    assert response.json() == refusal(response, CONTAINS)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_update_checks_the_new_password_against_the_new_username(as_user, alice):
    """A rename and a password in one call: the password may not hold the name being taken."""
    data = {"username": "wonder", "password": "big-wonder-land", "currentPassword": PASSWORD}

    response = as_user(alice).post(
        "/api/v1/users.update", {"userId": alice.pk, "data": data}, format="json"
    )

    assert response.json() == refusal(response, CONTAINS)
    alice.refresh_from_db()
    assert alice.username == "alice"


# --- the admin and manage.py ------------------------------------------------------------------


def test_the_admins_add_form_refuses_a_password_holding_the_username(client, boss):
    client.force_login(boss)
    form = {
        "username": "carol",
        "email": "carol@example.com",
        "name": "",
        "password1": "Carol-rocks-2024",
        "password2": "Carol-rocks-2024",
    }

    page = client.post("/admin/accounts/user/add/", form)

    assert page.status_code == 200  # the form again, with the error
    assert CONTAINS in page.content.decode()
    assert not User.objects.filter(username="carol").exists()
    form |= {"password1": PASSWORD, "password2": PASSWORD}
    assert client.post("/admin/accounts/user/add/", form).status_code == 302
    assert User.objects.filter(username="carol").exists()


def test_the_admins_password_form_refuses_a_password_holding_the_username(client, boss, alice):
    client.force_login(boss)
    url = f"/admin/accounts/user/{alice.pk}/password/"

    page = client.post(url, {"password1": "ALICE-in-chains", "password2": "ALICE-in-chains"})

    assert page.status_code == 200
    assert CONTAINS in page.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_changepassword_refuses_a_password_holding_the_username(alice, monkeypatch, capsys):
    # What the operator types at changepassword's two prompts, three times over.
    typed = iter(["Alice-1234-xyz", "Alice-1234-xyz"] * 3)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))

    with pytest.raises(CommandError, match="Aborting password change for user 'alice'"):
        call_command("changepassword", "alice")

    assert CONTAINS in capsys.readouterr().err
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
