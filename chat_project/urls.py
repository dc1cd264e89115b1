from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("accounts.v1_urls")),
    path("api/v1/", include("rooms.v1_urls")),
    path("api/v1/", include("rooms.v1_chat_urls")),
    path("api/v1/", include("permissions.v1_urls")),
    path("api/", include("accounts.urls")),
    path("api/", include("rooms.urls")),
]

# Under /api/ these answer in the JSON envelope; elsewhere they are Django's own pages.
handler400 = "chat_project.errors.handler400"
handler403 = "chat_project.errors.handler403"
handler404 = "chat_project.errors.handler404"
handler500 = "chat_project.errors.handler500"
