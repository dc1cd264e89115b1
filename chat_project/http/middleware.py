"""The cross-cutting HTTP layer every request passes through first."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse

from chat_project import access_cache
from chat_project.http.errors import (
    BodyTooLarge,
    InvalidParams,
    envelope_for_foreign_error,
    is_api_request,
    new_request_id,
    render_error,
)

# An incoming X-Request-Id is kept only if it is this tame, so it is safe to log and echo.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ApiEnvelopeMiddleware:
    """Request ids, version headers, the body size cap, and the envelope as a last resort.

    Every response carries X-Request-Id (the client's, if sane, else a new one) and X-Version-Id.
    Under /api/ it also gets `Cache-Control: no-store`, bodies over REQUEST_MAX_BYTES are refused
    with 413 before anything reads them (a chunked body, which declares no length, is read up to
    the cap and handed on as if it had declared one), and an error response that did not come
    from render_error (a Django DEBUG page, a CSRF refusal) is redone in the envelope, so no HTML
    ever leaves /api/.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if SANE_REQUEST_ID.match(incoming) else new_request_id()  # type: ignore[attr-defined]
        api = is_api_request(request)

        refusal = self.refuse_body(request) if api else None
        with access_cache.request_scope():  # the access cache's generation: one read a request
            response = refusal or self.get_response(request)

        if api:
            if response.status_code >= 400 and not getattr(response, "is_api_error", False):
                response = envelope_for_foreign_error(request, response)
            response["Cache-Control"] = "no-store"
        response["X-Request-Id"] = request.request_id  # type: ignore[attr-defined]
        response["X-Version-Id"] = settings.VERSION
        return response

    @staticmethod
    def refuse_body(request: HttpRequest) -> HttpResponse | None:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return ApiEnvelopeMiddleware.buffer_chunked_body(request)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return render_error(request, InvalidParams("Invalid Content-Length header."))
        if length < 0:
            return render_error(request, InvalidParams("Invalid Content-Length header."))
        if length > settings.REQUEST_MAX_BYTES:
            return render_error(
                request,
                BodyTooLarge(detailed_error=f"The limit is {settings.REQUEST_MAX_BYTES} bytes."),
            )
        return None

    @staticmethod
    def buffer_chunked_body(request: HttpRequest) -> HttpResponse | None:
        """A body sent with Transfer-Encoding: chunked (gunicorn decodes the chunks but, with no
        Content-Length, Django would read nothing of it): read at most REQUEST_MAX_BYTES + 1
        bytes of it, 413 if there is more, else hand the buffered body on with its length."""
        limit = settings.REQUEST_MAX_BYTES
        stream = request.META["wsgi.input"]
        chunks, size = [], 0
        while size <= limit:
            chunk = stream.read(min(64 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return render_error(
                request, BodyTooLarge(detailed_error=f"The limit is {limit} bytes.")
            )
        body = b"".join(chunks)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return None
