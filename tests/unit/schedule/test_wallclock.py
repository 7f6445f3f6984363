"""SPEC §4.3's DST rule for wall-clock times: non-existent -> next valid instant, ambiguous -> first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from risk_manager.schedule._wallclock import local_instant, require_aware

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # half-hour DST shift


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "wall", "zone", "expected"),
    [
        pytest.param(date(2026, 1, 12), time(17), NEW_YORK, utc(2026, 1, 12, 22), id="ordinary-EST"),
        pytest.param(date(2026, 7, 13), time(17), NEW_YORK, utc(2026, 7, 13, 21), id="ordinary-EDT"),
        pytest.param(date(2026, 3, 8), time(2, 30), NEW_YORK, utc(2026, 3, 8, 7), id="gap-NY-03:00"),
        pytest.param(date(2026, 3, 8), time(2, 0), NEW_YORK, utc(2026, 3, 8, 7), id="gap-start-NY"),
        pytest.param(date(2026, 3, 8), time(3, 0), NEW_YORK, utc(2026, 3, 8, 7), id="gap-end-NY"),
        pytest.param(
            date(2026, 3, 8), time(1, 59, 59), NEW_YORK, utc(2026, 3, 8, 6, 59, 59), id="before-gap"
        ),
        pytest.param(date(2026, 11, 1), time(1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30), id="ambiguous-first"),
        pytest.param(date(2026, 3, 29), time(1, 30), LONDON, utc(2026, 3, 29, 1), id="gap-London"),
        pytest.param(
            date(2026, 10, 25), time(1, 30), LONDON, utc(2026, 10, 25, 0, 30), id="ambiguous-London"
        ),
        pytest.param(date(2026, 10, 4), time(2, 15), LORD_HOWE, utc(2026, 10, 3, 15, 30), id="gap-half-hour"),
    ],
)
def test_local_instant(day: date, wall: time, zone: ZoneInfo, expected: datetime) -> None:
    assert local_instant(day, wall, zone) == expected


def test_local_instant_in_a_gap_lands_on_the_gap_end_in_local_time() -> None:
    instant = local_instant(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert instant.astimezone(NEW_YORK).time() == time(3, 0)


def test_require_aware_converts_to_utc_and_rejects_naive() -> None:
    assert require_aware(datetime(2026, 1, 1, 12, tzinfo=NEW_YORK), "at") == utc(2026, 1, 1, 17)
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        require_aware(datetime(2026, 1, 1, 12), "at")
