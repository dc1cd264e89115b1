"""The WSGI handler every server process runs: Django's, with a shorter middleware chain for
the API.

Django's session, CSRF, session-user and flash-message middlewares (BROWSER_ONLY_MIDDLEWARE)
serve the admin and the site. The API never uses them: it authenticates every request by its
token (DRF, `accounts.authentication`), and its views are exempt from CSRF (DRF's APIView,
health), so there they would read cookies, build lazy objects and answer nothing, at about a
tenth of a cheap request's time. Under /api/ this handler runs settings.MIDDLEWARE without
them, in the same order; everywhere else, all of it. They stay in settings.MIDDLEWARE, where
Django's checks (`check --deploy`) and the test client look for them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

BROWSER_ONLY_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


def load_middleware(handler: Any, is_async: bool = False) -> None:  # a BaseHandler
    """BaseHandler.load_middleware, then the chain split: /api/ requests go down the API's.
    (A function, so that the tests' client handler can run it too: tests/conftest.py.)"""
    from chat_project.errors import is_api_request

    BaseHandler.load_middleware(handler, is_async)  # the whole chain, every process_view hook
    if is_async:
        return  # never served so (the WSGI bridge runs Django synchronously)
    everything = handler._middleware_chain
    api = api_chain(handler)

    def route(request: HttpRequest) -> HttpResponse:
        return api(request) if is_api_request(request) else everything(request)

    handler._middleware_chain = route


def api_chain(handler: Any) -> Any:  # a BaseHandler
    """settings.MIDDLEWARE but BROWSER_ONLY_MIDDLEWARE, built as Django builds its chain
    (synchronously). The view hooks (process_view and the like) are the whole chain's, which
    Django's _get_response runs; of the left-out middlewares only CSRF has one, and it lets
    the API's views through (all exempt)."""
    chain = convert_exception_to_response(handler._get_response)
    for path in reversed(settings.MIDDLEWARE):
        if path in BROWSER_ONLY_MIDDLEWARE:
            continue
        try:
            middleware = import_string(path)(chain)
        except MiddlewareNotUsed:
            continue
        chain = convert_exception_to_response(middleware)
    return chain


class ChatWSGIHandler(WSGIHandler):
    load_middleware = load_middleware


def get_wsgi_application() -> ChatWSGIHandler:
    """Django's get_wsgi_application, with this handler."""
    import django

    django.setup(set_prefix=False)
    return ChatWSGIHandler()
