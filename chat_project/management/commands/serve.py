"""Serves REST and the realtime websockets on HOST:PORT, as `make run` does: gunicorn's process
manager with uvicorn workers running chat_project.asgi."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from chat_project.asgi import application

        return application


def worker_count(requested: int) -> int:
    """Without REDIS_URL, events travel only within a process, so one process serves all."""
    return requested if settings.REDIS_URL else 1


class Command(BaseCommand):
    help = (
        "Serve REST and websockets on HOST:PORT with WEB_CONCURRENCY uvicorn worker processes "
        "(one without REDIS_URL)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=settings.WEB_CONCURRENCY)

    def handle(self, *args: Any, **options: Any) -> None:
        workers = worker_count(options["workers"])
        if workers != options["workers"]:
            self.stderr.write(
                "No REDIS_URL: serving from one process, so that every socket hears every event."
            )
        host = f"[{settings.HOST}]" if ":" in settings.HOST else settings.HOST
        GunicornServer(
            {
                "bind": f"{host}:{settings.PORT}",
                "workers": workers,
                "worker_class": "chat_project.serving.workers.ChatUvicornWorker",
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
