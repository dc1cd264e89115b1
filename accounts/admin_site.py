"""The Django admin's site, its two password checks behind the API's login guard.

Its login form checks the password through django.contrib.auth.authenticate(), which is
accounts.backends.GuardedPasswordBackend: the same counts, blocks and hashing work as the API's
logins. Its "change password" form asks for the current password, checked the same way. When
the guard refuses, each form says why instead of answering an error page.

django-axes would be a second guard beside ours (its own attempt models, settings and counts,
reached only through authenticate(), so blind to the API's logins and they to it): see
docs/security.md.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

from accounts.models import User
from accounts.services import checked_password
from chat_project.admin import ChatAdminSite
from chat_project.http.errors import (
    ApiError,
    LoginBlockedForIp,
    LoginBlockedForUser,
    LoginFailed,
    LoginUnavailable,
    RateLimited,
)
from chat_project.http.ratelimit import client_address

GUARD_REFUSALS = (RateLimited, LoginUnavailable)


def refusal(refused: ApiError) -> ValidationError:
    """The guard's refusal as a form error, in the API's words."""
    if isinstance(refused, LoginBlockedForUser | LoginBlockedForIp | LoginUnavailable):
        text = refused.message
    else:  # the attempts per address (RateLimited's own words are "limit exceeded")
        text = "Too many login attempts from this address. Try again later."
    return ValidationError(text, code=refused.error_type)


class GuardedAdminLoginForm(AdminAuthenticationForm):
    """The admin's login form; a login the guard refuses shows the refusal on the form."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except GUARD_REFUSALS as refused:
            raise refusal(refused) from None


class GuardedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" form: the old password is checked behind the guard, as
    a login from `address` by the signed-in user would be."""

    def __init__(self, user: User, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.address = address

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        try:
            checked_password(
                user=self.user,
                identifier=self.user.username,
                password=old_password,
                address=self.address,
            )
        except LoginFailed:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from None
        except GUARD_REFUSALS as refused:
            raise refusal(refused) from None
        return old_password


class GuardedPasswordChangeView(PasswordChangeView):
    form_class = GuardedPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "address": client_address(self.request)}


class GuardedAdminSite(ChatAdminSite):
    """`admin.site` (accounts.apps.GuardedAdminConfig makes it the default site): the product's
    site (chat_project.admin), its password checks behind the login guard."""

    login_form = GuardedAdminLoginForm

    # The stubs say TemplateResponse; Django's own answers a redirect too, once the form is valid.
    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponseBase:
        # AdminSite.password_change, with the guarded form (Django names its form inline).
        request.current_app = self.name
        return GuardedPasswordChangeView.as_view(
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
