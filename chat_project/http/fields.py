"""Input fields shared by the API's small input serializers."""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would take 123 or 1.5 from JSON and turn it
    into text, hiding a client's mistake."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TimestampField(serializers.DateTimeField):
    """An ISO 8601 time. A query string written by hand often carries the zone's `+` unencoded,
    which arrives as a space ("...T02:00:03 02:00"); that is read as the `+` it was."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value.strip())
        return super().to_internal_value(value)


def json_from_form(value: Any) -> Any:
    """A list or object that a form or query string can only carry as JSON text, decoded;
    anything else (not a string, not JSON, nested too deeply to decode) as it came, for the
    caller to refuse by its type."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def batch_param(data: Any, key: str) -> Any:
    """A bulk call's list: JSON's own list, or (from a form) the same list as a JSON string."""
    return json_from_form(data.get(key) if hasattr(data, "get") else None)
