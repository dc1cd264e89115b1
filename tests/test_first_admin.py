"""The first administrator, made by `make run` (ensure_admin) or by createsuperuser, and what
they see in the Django admin."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import LoginToken, User
from accounts.tokens import issue_login_token, token_digest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_ensure_admin_uses_the_configured_credentials(api, settings, capsys):
    settings.ADMIN_USERNAME = "boss"
    settings.ADMIN_EMAIL = "boss@example.com"
    settings.ADMIN_PASSWORD = "MySECRET"

    call_command("ensure_admin")

    admin = User.objects.get()
    assert (admin.username, admin.email, admin.is_superuser, admin.is_staff) == (
        "boss",
        "boss@example.com",
        True,
        True,
    )
    assert "MySECRET" not in capsys.readouterr().out
    assert api.post("/api/login", {"user": "boss", "password": "MySECRET"}).status_code == 200


def test_ensure_admin_generates_and_prints_a_strong_password_once(api, settings, capsys):
    settings.ADMIN_PASSWORD = ""

    call_command("ensure_admin")

    out = capsys.readouterr().out
    assert "username: admin" in out
    assert "Lost it? .venv/bin/python manage.py changepassword admin" in out
    password = out.split("password: ")[1].split()[0]
    assert len(password) >= 24
    assert api.post("/api/login", {"user": "admin", "password": password}).status_code == 200

    call_command("ensure_admin")
    assert capsys.readouterr().out == ""
    assert User.objects.count() == 1


def test_ensure_admin_does_nothing_once_any_user_exists(settings):
    UserFactory(username="someone")

    call_command("ensure_admin")

    assert list(User.objects.values_list("username", flat=True)) == ["someone"]


def test_ensure_admin_says_it_left_the_accounts_alone_when_the_named_admin_is_not_there(
    settings, capsys
):
    UserFactory(username="first", is_superuser=True, is_staff=True)
    settings.ADMIN_USERNAME = "sing"
    settings.ADMIN_PASSWORD = "MySECRET"

    call_command("ensure_admin")

    name = settings.DATABASES["default"]["NAME"]
    remove = (
        f"delete {name} (and {name}-wal, {name}-shm if there)"
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        else f"drop and create the database (dropdb {name}; createdb {name})"
    )
    assert capsys.readouterr().out == (
        "Users exist already, so no first admin was made and the accounts were left as they "
        "are: there is no user 'sing' (ADMIN_USERNAME).\n"
        f"  To start empty: stop the server, {remove}, and make run again.\n"
        "  To set a password: .venv/bin/python manage.py changepassword first\n"
    )
    assert list(User.objects.values_list("username", flat=True)) == ["first"]


def test_ensure_admin_says_it_left_the_accounts_alone_when_the_password_differs(
    api, settings, capsys
):
    UserFactory(username="sing")
    settings.ADMIN_USERNAME = "SING"
    settings.ADMIN_PASSWORD = "MySECRET"

    call_command("ensure_admin")

    out = capsys.readouterr().out
    assert out.startswith(
        "Users exist already, so no first admin was made and the accounts were left as they "
        "are: 'sing' has another password than ADMIN_PASSWORD.\n"
    )
    assert out.endswith("  To set a password: .venv/bin/python manage.py changepassword <name>\n")
    assert api.post("/api/login", {"user": "sing", "password": "MySECRET"}).status_code == 401
    assert (
        api.post("/api/login", {"user": "sing", "password": "correct horse battery staple"})
    ).status_code == 200


def test_ensure_admin_is_silent_when_the_settings_describe_the_existing_admin(settings, capsys):
    UserFactory(username="sing", is_superuser=True)
    settings.ADMIN_USERNAME = "sing"
    settings.ADMIN_PASSWORD = "correct horse battery staple"

    call_command("ensure_admin")
    settings.ADMIN_PASSWORD = ""
    call_command("ensure_admin")

    assert capsys.readouterr().out == ""


def test_ensure_admin_is_silent_with_the_default_settings_whoever_exists(settings, capsys):
    UserFactory(username="sing", is_superuser=True)
    settings.ADMIN_USERNAME = "admin"
    settings.ADMIN_PASSWORD = ""

    call_command("ensure_admin")

    assert capsys.readouterr().out == ""


def test_ensure_admin_refuses_an_invalid_username_clearly(settings):
    settings.ADMIN_USERNAME = "not a name!"

    with pytest.raises(CommandError, match="Cannot create the first admin: username: May contain"):
        call_command("ensure_admin")


def test_createsuperuser_works(api, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another secret 42")

    call_command(
        "createsuperuser", "--noinput", "--username=root", "--email=root@example.com", verbosity=0
    )

    assert User.objects.get(username="root").is_superuser
    assert (
        api.post("/api/login", {"user": "root", "password": "another secret 42"}).status_code == 200
    )


def test_createsuperuser_refuses_a_username_taken_in_another_case(monkeypatch):
    UserFactory(username="Root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another secret 42")

    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", "--noinput", "--username=root", "--email=r@example.com")


def test_the_admin_signs_in_to_the_django_admin_and_sees_tokens_by_digest(client, user):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    secret = issue_login_token(user=user)

    signed_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ADMIN", "password": "correct horse battery staple"},
    )
    assert signed_in.status_code == 302

    tokens = client.get("/admin/accounts/logintoken/")
    assert tokens.status_code == 200
    assert token_digest(secret)[:16] in tokens.content.decode()
    assert secret not in tokens.content.decode()

    users = client.get("/admin/accounts/user/?q=sing")
    assert users.status_code == 200
    assert "sing@example.com" in users.content.decode()

    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    assert token_digest(secret) in page.content.decode()
    assert admin.pk


def test_the_django_admin_revokes_a_token_by_deleting_it(client, user):
    UserFactory(username="admin", is_superuser=True, is_staff=True)
    issue_login_token(user=user)
    token = LoginToken.objects.get()
    client.login(username="admin", password="correct horse battery staple")

    client.post(f"/admin/accounts/logintoken/{token.pk}/delete/", {"post": "yes"})

    assert not LoginToken.objects.exists()


def test_the_django_admin_adds_a_user_who_can_log_in(client, api):
    UserFactory(username="admin", is_superuser=True, is_staff=True)
    client.login(username="admin", password="correct horse battery staple")

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "name": "New Bie",
            "password1": "a fine long passphrase",
            "password2": "a fine long passphrase",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert (
        api.post("/api/login", {"user": "newbie", "password": "a fine long passphrase"}).status_code
        == 200
    )
    newbie = User.objects.get(username="newbie")
    assert list(newbie.roles.values_list("name", flat=True)) == ["user"]
    assert list(newbie.subscriptions.values_list("room_id", flat=True)) == ["GENERAL"]
