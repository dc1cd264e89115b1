from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.negotiation import DefaultContentNegotiation

from chat_project.http.health import health
from chat_project.http.home import home
from chat_project.realtime.over_rest import MethodCallAnonView, MethodCallView

urlpatterns = [
    # For people: what this server is, its health and where to go next (not part of the API).
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    # The page a password reset mail links to (a form, for people).
    path("", include("accounts.page_urls")),
    # The OpenAPI schema (JSON; YAML with ?format=yaml) and its Swagger UI: public, no login.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(
            authentication_classes=[],
            renderer_classes=[OpenApiJsonRenderer, OpenApiYamlRenderer],
            content_negotiation_class=DefaultContentNegotiation,
        ),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(authentication_classes=[], url_name="schema"),
        name="docs",
    ),
    path("api/v1/", include("accounts.v1_urls")),
    path("api/v1/", include("rooms.v1_urls")),
    path("api/v1/", include("rooms.v1_chat_urls")),
    path("api/v1/", include("rooms.v1_discovery_urls")),
    path("api/v1/", include("rooms.v1_subscriptions_urls")),
    path("api/v1/", include("rooms.v1_dms_urls")),
    path("api/v1/", include("permissions.v1_urls")),
    # The realtime methods over REST, as Rocket.Chat's clients call them (the name's "/" as ":").
    re_path(
        r"^api/v1/method\.call/(?P<name>[^/]+)/?$", MethodCallView.as_view(), name="method.call"
    ),
    re_path(
        r"^api/v1/method\.callAnon/(?P<name>[^/]+)/?$",
        MethodCallAnonView.as_view(),
        name="method.callAnon",
    ),
    # For load balancers and monitors: database and cache status, no login.
    re_path(r"^api/health/?$", health, name="health"),
    path("api/", include("accounts.urls")),
    path("api/", include("rooms.urls")),
]

# Under /api/ these answer in the JSON envelope; elsewhere they are Django's own pages.
handler400 = "chat_project.http.errors.handler400"
handler403 = "chat_project.http.errors.handler403"
handler404 = "chat_project.http.errors.handler404"
handler500 = "chat_project.http.errors.handler500"
