"""ASGI entry point, for servers that speak ASGI (the realtime API will need one)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_project.settings")

application = get_asgi_application()
