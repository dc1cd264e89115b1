"""Serves the API with gunicorn on HOST:PORT, as `make run` does."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.wsgi import get_wsgi_application
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return get_wsgi_application()


class Command(BaseCommand):
    help = "Serve the API with gunicorn on HOST:PORT with WEB_CONCURRENCY worker processes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=settings.WEB_CONCURRENCY)

    def handle(self, *args: Any, **options: Any) -> None:
        host = f"[{settings.HOST}]" if ":" in settings.HOST else settings.HOST
        GunicornServer(
            {
                "bind": f"{host}:{settings.PORT}",
                "workers": options["workers"],
                "worker_class": "sync",
                "timeout": 30,
                "graceful_timeout": 20,
                # Recycle workers now and then, so a slow leak can never take a server down.
                "max_requests": 20000,
                "max_requests_jitter": 2000,
                "accesslog": "-",
                "errorlog": "-",
                "proc_name": "chat-server",
            }
        ).run()
