"""Request body parsers."""

from __future__ import annotations

import io
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, except that JSON nested deeper than Python can recurse (a few hundred
    `[`s is enough to try) is a 400 like any other malformed body, not a crash."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


class FormOrJsonParser(FormParser):
    """A form (application/x-www-form-urlencoded), unless the body is a JSON object.

    curl's `-d '{"msg": "hi"}'` sends JSON under the form's content type, and a form read as
    such would hold one key, the whole JSON text: the endpoint would answer "msg: This field is
    required." A form body never starts with `{` (its keys would be JSON text), so one that does
    is read as the JSON it is, with SafeJSONParser's errors if it is malformed; curl's `-d "{}"`
    is then the empty object it means.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        body = stream.read() if stream is not None else b""
        if body.lstrip()[:1] == b"{":
            return SafeJSONParser().parse(io.BytesIO(body), "application/json", parser_context)
        return super().parse(io.BytesIO(body), media_type, parser_context)
