"""Times as Rocket.Chat writes them: ISO 8601 in UTC, to the millisecond, with a trailing Z."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from chat_project.db.timestamps import changed_after, iso_ms


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2015, 7, 24, 14, 35, 23, 542999, tzinfo=UTC), "2015-07-24T14:35:23.542Z"),
        (datetime(2015, 7, 24, 14, 35, 23, tzinfo=UTC), "2015-07-24T14:35:23.000Z"),
        (
            datetime(2015, 7, 24, 16, 35, 23, 542000, tzinfo=timezone(timedelta(hours=2))),
            "2015-07-24T14:35:23.542Z",
        ),
        (
            datetime(2015, 1, 1, 0, 30, 0, 1000, tzinfo=ZoneInfo("Europe/Paris")),
            "2014-12-31T23:30:00.001Z",
        ),
        (datetime(2026, 3, 29, 1, 0, tzinfo=ZoneInfo("UTC")), "2026-03-29T01:00:00.000Z"),
    ],
)
def test_a_time_is_written_in_utc_to_the_millisecond(moment, text):
    assert iso_ms(moment) == text


@pytest.mark.parametrize(
    ("since", "earliest"),
    [
        # A client saw 14:35:23.542Z: whatever it did not see comes a millisecond later.
        (
            datetime(2015, 7, 24, 14, 35, 23, 542000, tzinfo=UTC),
            datetime(2015, 7, 24, 14, 35, 23, 543000, tzinfo=UTC),
        ),
        (
            datetime(2015, 7, 24, 14, 35, 23, 542999, tzinfo=UTC),
            datetime(2015, 7, 24, 14, 35, 23, 543000, tzinfo=UTC),
        ),
        (
            datetime(9999, 12, 31, 23, 59, 59, 999500, tzinfo=UTC),
            datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        ),
    ],
)
def test_changed_after_is_the_next_millisecond_of_what_the_client_saw(since, earliest):
    assert changed_after(since) == earliest
