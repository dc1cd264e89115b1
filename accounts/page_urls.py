"""Pages for people, outside the API: the password reset link's."""

from django.urls import path

from accounts.reset_page import reset_password_page

urlpatterns = [
    path("reset-password/<str:token>", reset_password_page, name="reset-password"),
]
