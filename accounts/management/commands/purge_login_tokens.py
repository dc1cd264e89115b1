"""Deletes expired login tokens (each login also clears its own user's)."""

from typing import Any

from django.core.management.base import BaseCommand

from accounts.tokens import purge_expired_login_tokens


class Command(BaseCommand):
    help = "Delete every expired login token. Safe to run from cron at any time."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired_login_tokens()
        self.stdout.write(f"Deleted {deleted} expired login token(s).")
