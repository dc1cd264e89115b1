"""WSGI entry point (`gunicorn chat_project.wsgi`). `manage.py serve` serves chat_project.asgi,
which wraps the same handler."""

import os

from chat_project.serving.handlers import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_project.settings")

application = get_wsgi_application()
