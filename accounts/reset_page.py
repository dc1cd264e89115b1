"""The page a password reset mail links to: `/reset-password/<token>` (Rocket.Chat's shape).

A plain form (the new password, twice) over the service the realtime `resetPassword` method
uses, so that the mail works without a Rocket.Chat web client: the same token check, the same
password policy, every login of the user ended. Not API: a page for a person, in the browser
middleware chain (CSRF), answered in HTML.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.services import reset_link_user, reset_password
from chat_project import PRODUCT_NAME
from chat_project.http.errors import InvalidParams, ResetTokenExpired

EXPIRED = "This link has expired or was used already. Ask for a new one where you asked for this."


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def reset_password_page(request: HttpRequest, token: str) -> HttpResponse:
    context: dict[str, object] = {"name": PRODUCT_NAME}
    try:
        user = reset_link_user(token)
    except ResetTokenExpired:
        return render(
            request, "accounts/reset_password.html", context | {"error": EXPIRED}, status=400
        )
    context["username"] = user.username
    if request.method != "POST":
        return render(request, "accounts/reset_password.html", context | {"form": True})
    password = request.POST.get("password", "")
    if password != request.POST.get("password_again", ""):
        problem = "The two passwords differ."
    else:
        try:
            reset_password(token=token, password=password)
        except ResetTokenExpired:
            return render(
                request, "accounts/reset_password.html", context | {"error": EXPIRED}, status=400
            )
        except InvalidParams as refused:
            problem = refused.message
        else:
            return render(request, "accounts/reset_password.html", context | {"done": True})
    return render(
        request,
        "accounts/reset_password.html",
        context | {"form": True, "problem": problem},
        status=400,
    )
