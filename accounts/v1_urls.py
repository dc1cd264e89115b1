"""Routes under /api/v1/ for sessions and users."""

from django.urls import re_path

from accounts import v1_views

urlpatterns = [
    re_path(r"^login/?$", v1_views.LoginView.as_view(), name="v1-login"),
    re_path(r"^logout/?$", v1_views.LogoutView.as_view(), name="v1-logout"),
    re_path(r"^me/?$", v1_views.MeView.as_view(), name="v1-me"),
]
