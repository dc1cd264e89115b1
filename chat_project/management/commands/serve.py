"""Serves REST and the realtime websockets on HOST:PORT, as `make run` does: gunicorn's process
manager with uvicorn workers running chat_project.asgi."""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from chat_project.serving.preflight import ready_line, setup_summary, start_up_problem


class GunicornServer(BaseApplication):
    """gunicorn with these options, which prints `ready` (if any) once as many worker processes
    serve as it started (each says so through worker_serving, chat_project/serving/workers.py)."""

    def __init__(self, options: dict[str, Any], *, ready: str = "") -> None:
        self.options = options
        self.ready = ready
        # Made before the workers are forked, so that they all count in the same place.
        self.serving = multiprocessing.get_context("fork").Value("i", 0)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from chat_project.asgi import application

        return application

    def worker_serving(self) -> None:
        """Called in a worker once it serves. Workers that replace others later count too, but
        only the count reaching the number started prints."""
        with self.serving.get_lock():
            self.serving.value += 1
            last = self.serving.value == self.cfg.workers
        if last and self.ready:
            print(self.ready, flush=True)


def worker_count(requested: int) -> int:
    """Without REDIS_URL, events travel only within a process, so one process serves all."""
    return requested if settings.REDIS_URL else 1


class Command(BaseCommand):
    help = (
        "Serve REST and websockets on HOST:PORT with WEB_CONCURRENCY uvicorn worker processes "
        "(one without REDIS_URL). Checks first that the port is free and that the database "
        "and Redis answer."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=settings.WEB_CONCURRENCY)

    def handle(self, *args: Any, **options: Any) -> None:
        problem = start_up_problem()
        if problem:
            self.stderr.write(problem)
            sys.exit(1)
        workers = worker_count(options["workers"])
        self.stdout.write(setup_summary(workers))
        self.stdout.flush()
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
                # gunicorn's control socket (for gunicornc) is one path per user by default,
                # ~/.gunicorn/gunicorn.ctl: a second server took it from the first and removed
                # it on stopping. Off; the signals (HUP, TTIN, TTOU, TERM) still steer a server.
                "control_socket_disable": True,
            },
            ready=ready_line(),
        ).run()
