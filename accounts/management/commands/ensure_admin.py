"""Creates the first administrator when the server has no user yet (`make run` calls it), and
says so when ADMIN_USERNAME / ADMIN_PASSWORD were given but users existed already."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.selectors import user_for_login
from accounts.services import create_user
from chat_project.http.errors import ApiError

# settings.ADMIN_USERNAME when the environment does not name one.
DEFAULT_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Create the first administrator from ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD "
        "if no user exists yet. Without ADMIN_PASSWORD a strong password is generated and "
        "printed once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists():
            unapplied = self.unapplied_admin_settings()
            if unapplied:
                self.stdout.write(left_alone_notice(unapplied))
            return
        password = settings.ADMIN_PASSWORD
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        try:
            user = create_user(
                username=settings.ADMIN_USERNAME,
                email=settings.ADMIN_EMAIL,
                password=password,
                is_superuser=True,
            )
        except ApiError as exc:
            if User.objects.exists():  # another server process made the first user meanwhile
                return
            raise CommandError(f"Cannot create the first admin: {exc.message}") from None
        self.stdout.write(f"Created the first admin: {user.username} <{user.email}>")
        if generated:
            rule = "=" * 72
            self.stdout.write(
                f"{rule}\n"
                f"  First admin    username: {user.username}\n"
                f"                 password: {password}\n"
                f"  Shown only this once; set ADMIN_PASSWORD to choose it yourself.\n"
                f"  Lost it? .venv/bin/python manage.py changepassword {user.username}\n"
                f"{rule}"
            )

    def unapplied_admin_settings(self) -> str | None:
        """Why ADMIN_USERNAME / ADMIN_PASSWORD, when the environment gives them, do not describe
        an account that exists (no such user, or another password); None when they do."""
        username, password = settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD
        if not password and username == DEFAULT_USERNAME:
            return None  # nothing asked for: the defaults
        user = user_for_login(username, kind="username")
        if user is None:
            return f"there is no user {username!r} (ADMIN_USERNAME)"
        if password and not user.check_password(password):
            return f"{user.username!r} has another password than ADMIN_PASSWORD"
        return None


def left_alone_notice(unapplied: str) -> str:
    """What was left alone, and the two ways forward: start empty, or set a password."""
    database = settings.DATABASES["default"]
    name = database["NAME"]
    if database["ENGINE"].endswith("sqlite3"):
        remove = f"delete {name} (and {name}-wal, {name}-shm if there)"
    else:
        remove = f"drop and create the database (dropdb {name}; createdb {name})"
    admins = list(User.objects.filter(is_superuser=True).values_list("username", flat=True)[:2])
    account = admins[0] if len(admins) == 1 else "<name>"
    return (
        f"Users exist already, so no first admin was made and the accounts were left as they "
        f"are: {unapplied}.\n"
        f"  To start empty: stop the server, {remove}, and make run again.\n"
        f"  To set a password: .venv/bin/python manage.py changepassword {account}"
    )
