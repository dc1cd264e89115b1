"""Meteor's EJSON, as far as the realtime API needs it: dates are {"$date": <ms since 1970>}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chat_project.db.timestamps import epoch_ms


def date(moment: datetime) -> dict[str, int]:
    return {"$date": epoch_ms(moment)}


def from_date(value: Any) -> datetime | None:
    """A client's {"$date": ms} as a datetime, or None when it is not one."""
    from datetime import UTC

    if not isinstance(value, dict) or set(value) != {"$date"}:
        return None
    ms = value["$date"]
    if isinstance(ms, bool) or not isinstance(ms, int | float):
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
