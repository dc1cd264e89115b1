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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, URLResolver, get_resolver
from django.utils.module_loading import import_string

from chat_project.serving.access_log import redact_request_logs

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
    every time. Each request gets a ResolverMatch of its own, as from Django."""
    if hasattr(request, "urlconf"):
        return BaseHandler.resolve_request(handler, request)
    match = resolved_path(get_resolver(), request.path_info).match()
    request.resolver_match = match
    return match


@functools.lru_cache(maxsize=RESOLVED_PATHS)
def resolved_path(resolver: URLResolver, path: str) -> ResolvedPath:
    return ResolvedPath.of(resolver.resolve(path))


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    """What resolving a path answered, kept where no request can change it. Requests share
    this, never a ResolverMatch: a view or middleware that changes its request's
    resolver_match (its kwargs, say) would otherwise change every later request's for that
    path. match() builds a fresh one in about 2 us (the resolving it saves: 20 to 70 us)."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]  # read-only views of the resolver's dicts, which nothing else holds
    url_name: str | None
    app_names: tuple[str, ...]
    namespaces: tuple[str, ...]
    route: str
    tried: tuple[tuple[Any, ...], ...]  # the patterns tried first: for DEBUG's 404 page
    captured_kwargs: Mapping[str, Any]
    extra_kwargs: Mapping[str, Any]

    @classmethod
    def of(cls, match: ResolverMatch) -> ResolvedPath:
        return cls(
            func=match.func,
            args=tuple(match.args),
            kwargs=MappingProxyType(match.kwargs),
            url_name=match.url_name,
            app_names=tuple(match.app_names),
            namespaces=tuple(match.namespaces),
            route=match.route,
            tried=tuple(tuple(patterns) for patterns in match.tried or ()),
            # (django-stubs lacks these two)
            captured_kwargs=MappingProxyType(match.captured_kwargs or {}),  # type: ignore[attr-defined]
            extra_kwargs=MappingProxyType(match.extra_kwargs or {}),  # type: ignore[attr-defined]
        )

    def match(self) -> ResolverMatch:
        """A ResolverMatch of the request's own, with its own dicts (and lists, as Django's)."""
        return ResolverMatch(
            self.func,
            self.args,
            dict(self.kwargs),
            self.url_name,
            list(self.app_names),
            list(self.namespaces),
            self.route,
            self.tried,  # read-only: Django only reads it (DEBUG's 404 page)
            captured_kwargs=dict(self.captured_kwargs),
            extra_kwargs=dict(self.extra_kwargs),
        )


class ChatWSGIHandler(WSGIHandler):
    load_middleware = load_middleware
    resolve_request = resolve_request


def get_wsgi_application() -> ChatWSGIHandler:
    """Django's get_wsgi_application, with this handler."""
    import django

    django.setup(set_prefix=False)
    redact_request_logs()
    return ChatWSGIHandler()
