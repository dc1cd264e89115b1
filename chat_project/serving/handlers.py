"""The WSGI handler every server process runs: Django's, with a shorter middleware chain for
the API, and the paths it resolved lately remembered (resolve_request).

Django's session, CSRF, session-user and flash-message middlewares (BROWSER_ONLY_MIDDLEWARE)
serve the admin and the site. The API never uses them: it authenticates every request by its
token (DRF, `accounts.authentication`), and its views are exempt from CSRF (DRF's APIView,
health), so there they would read cookies, build lazy objects and answer nothing, at about a
tenth of a cheap request's time. Under /api/ this handler runs settings.MIDDLEWARE without
them, in the same order; everywhere else, all of it. They stay in settings.MIDDLEWARE, where
Django's checks (`check --deploy`) and the test client look for them.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, URLResolver, get_resolver
from django.utils.module_loading import import_string

BROWSER_ONLY_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)

# How many paths resolve_request remembers (the least recently used go first). Each answer is a
# few hundred bytes; the room ids in paths make them many, and a client walking ids at random
# only wears the memory out, never grows it.
RESOLVED_PATHS = 2048


def load_middleware(handler: Any, is_async: bool = False) -> None:  # a BaseHandler
    """BaseHandler.load_middleware, then the chain split: /api/ requests go down the API's.
    (A function, so that the tests' client handler can run it too: tests/conftest.py.)"""
    from chat_project.http.errors import is_api_request

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


def resolve_request(handler: Any, request: HttpRequest) -> ResolverMatch:  # a BaseHandler
    """BaseHandler.resolve_request, answering a path resolved lately from memory: Django walks
    the URL patterns afresh for every request, about 50 us of a send's ~650
    (docs/performance.md, item 12), and the same few paths (a busy room's send and messages)
    come again and again. An answer depends on nothing but the resolver and the path (a
    request's own urlconf is resolved as Django does); a path that resolves to nothing raises
    every time."""
    if hasattr(request, "urlconf"):
        return BaseHandler.resolve_request(handler, request)
    match = resolved_path(get_resolver(), request.path_info)
    request.resolver_match = match
    return match


@functools.lru_cache(maxsize=RESOLVED_PATHS)
def resolved_path(resolver: URLResolver, path: str) -> ResolverMatch:
    return resolver.resolve(path)


class ChatWSGIHandler(WSGIHandler):
    load_middleware = load_middleware
    resolve_request = resolve_request


def get_wsgi_application() -> ChatWSGIHandler:
    """Django's get_wsgi_application, with this handler."""
    import django

    django.setup(set_prefix=False)
    return ChatWSGIHandler()
