"""Creates the first administrator when the server has no user yet (`make run` calls it)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import create_user
from chat_project.http.errors import ApiError


class Command(BaseCommand):
    help = (
        "Create the first administrator from ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD "
        "if no user exists yet. Without ADMIN_PASSWORD a strong password is generated and "
        "printed once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists():
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
                f"{rule}"
            )
