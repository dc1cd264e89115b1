"""GET /: what this server is, whether it is healthy, and where to go from here.

A page for the person who just started the server and opened it in a browser (the admin's
"View site" link lands here too): its name and version, the health check's answer, the URLs
that matter with the host and port this request came to, a curl session in three lines, and the
clients known to work. Plain HTML from one template with its stylesheet inlined: no external
assets, no login, no database query beyond the health check's `SELECT 1`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from chat_project import PRODUCT_NAME
from chat_project.http.health import check_health


@never_cache  # it shows the live health
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    host = request.get_host()
    base = f"{request.scheme}://{host}"
    websocket = f"{'wss' if request.is_secure() else 'ws'}://{host}/websocket"
    context = {
        "name": PRODUCT_NAME,
        "version": settings.VERSION,
        "health": check_health(),
        "base": base,
        "websocket": websocket,
        "links": [
            ("/admin/", "Django admin: users, rooms, roles and permissions"),
            ("/api/docs/", "every endpoint, browsable (Swagger UI)"),
            ("/api/health", "health check for monitors and load balancers (JSON)"),
            ("/api/info", "version, as Rocket.Chat clients ask for it (JSON)"),
        ],
    }
    return render(request, "chat_project/home.html", context)
