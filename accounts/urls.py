"""Routes under /api/; each takes an optional trailing slash."""

from django.urls import re_path

from accounts import views

urlpatterns = [
    re_path(r"^version/?$", views.VersionView.as_view(), name="version"),
    re_path(r"^info/?$", views.InfoView.as_view(), name="info"),
    re_path(r"^login/?$", views.LoginView.as_view(), name="login"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="logout"),
    re_path(r"^bulk/register/?$", views.BulkRegisterView.as_view(), name="bulk-register"),
]
