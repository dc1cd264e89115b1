"""ASGI entry point: REST and the realtime websockets on one port (chat_project.realtime.asgi).

`make run` serves it with gunicorn's process manager and uvicorn workers (manage.py serve).
"""

import os

from chat_project.serving.handlers import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat_project.settings")
wsgi_application = get_wsgi_application()  # sets Django up before the realtime modules load

from django.conf import settings  # noqa: E402

from chat_project.realtime.asgi import application_for  # noqa: E402

application = application_for(wsgi_application, settings.WEB_THREADS)
