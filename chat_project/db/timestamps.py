"""Times as Rocket.Chat sends them: ISO 8601, UTC, milliseconds, a trailing Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

ONE_MS = timedelta(milliseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_ms(moment: datetime) -> str:
    """2015-07-24T14:35:23.542Z"""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" becomes "Z"


def now_ms() -> datetime:
    """Now, cut to the millisecond, so a stored time and its ISO text name the same instant."""
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since 1970, as JavaScript's Date.now() counts (chat.postMessage's `ts`, the
    realtime API's {"$date": ms})."""
    return (moment - EPOCH) // ONE_MS


def changed_after(since: datetime) -> datetime:
    """The earliest stored time that is later than `since` in Rocket.Chat's terms: times go out
    cut to the millisecond, so a client that sends back the `_updatedAt` it last saw must not get
    that row again for the microseconds it never saw."""
    cut = since.replace(microsecond=since.microsecond // 1000 * 1000)
    try:
        return cut + ONE_MS
    except OverflowError:  # the last millisecond of year 9999: nothing can be later
        return cut
