"""The daily reset and trading-day labels (SPEC §1 "Trading day", §4.3), DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk_manager.schedule import DailyReset

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
RESET = DailyReset()  # 17:00 America/New_York


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def et(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


def test_defaults_are_17_00_new_york() -> None:
    assert RESET.at == time(17, 0)
    assert RESET.zone == NEW_YORK


# -- ordinary days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "label"),
    [
        pytest.param(et(2026, 1, 12, 16, 59), date(2026, 1, 12), id="Mon-16:59->Mon"),
        pytest.param(et(2026, 1, 12, 16, 59, 59), date(2026, 1, 12), id="Mon-16:59:59->Mon"),
        pytest.param(et(2026, 1, 12, 17, 0), date(2026, 1, 13), id="Mon-17:00->Tue"),
        pytest.param(et(2026, 1, 12, 23, 59), date(2026, 1, 13), id="Mon-23:59->Tue"),
        pytest.param(et(2026, 1, 13, 0, 0), date(2026, 1, 13), id="Tue-00:00->Tue"),
        pytest.param(et(2026, 1, 11, 18, 0), date(2026, 1, 12), id="Sun-evening->Mon"),
        pytest.param(et(2026, 1, 10, 12, 0), date(2026, 1, 10), id="Sat-noon->Sat"),
    ],
)
def test_trading_date_is_the_date_of_the_reset_ending_the_day(at: datetime, label: date) -> None:
    assert RESET.trading_date(at) == label


def test_trading_date_accepts_any_zone_for_the_instant() -> None:
    # 21:59:59Z on Jan 12 is 16:59:59 in New York, 22:00Z is 17:00.
    assert RESET.trading_date(utc(2026, 1, 12, 21, 59, 59)) == date(2026, 1, 12)
    assert RESET.trading_date(utc(2026, 1, 12, 22)) == date(2026, 1, 13)


def test_next_reset_is_strictly_after() -> None:
    assert RESET.next_reset(et(2026, 1, 12, 16, 59)) == utc(2026, 1, 12, 22)
    assert RESET.next_reset(et(2026, 1, 12, 17, 0)) == utc(2026, 1, 13, 22)


def test_last_reset_is_at_or_before() -> None:
    assert RESET.last_reset(et(2026, 1, 12, 17, 0)) == utc(2026, 1, 12, 22)
    assert RESET.last_reset(et(2026, 1, 12, 16, 59)) == utc(2026, 1, 11, 22)


def test_returned_instants_are_utc() -> None:
    for instant in (RESET.next_reset(et(2026, 1, 12)), RESET.last_reset(et(2026, 1, 12))):
        assert instant.tzinfo is UTC


def test_reset_in_another_zone_chicago_16_00() -> None:
    reset = DailyReset(time(16, 0), CHICAGO)
    assert reset.reset_instant(date(2026, 1, 5)) == utc(2026, 1, 5, 22)  # CST
    assert reset.reset_instant(date(2026, 3, 9)) == utc(2026, 3, 9, 21)  # CDT
    # 16:30 Chicago = 17:30 New York: already the next trading day for a Chicago reset.
    assert reset.trading_date(et(2026, 1, 5, 17, 30)) == date(2026, 1, 6)
    assert reset.trading_date(et(2026, 1, 5, 16, 59)) == date(2026, 1, 5)


# -- DST changeover days of 2026 in America/New_York -------------------------------------------------


def test_17_00_reset_keeps_local_time_when_clocks_spring_forward() -> None:
    assert RESET.reset_instant(date(2026, 3, 7)) == utc(2026, 3, 7, 22)  # EST, UTC-5
    assert RESET.reset_instant(date(2026, 3, 8)) == utc(2026, 3, 8, 21)  # EDT, UTC-4
    assert RESET.next_reset(utc(2026, 3, 7, 22)) - utc(2026, 3, 7, 22) == timedelta(hours=23)
    assert RESET.trading_date(utc(2026, 3, 8, 20, 59, 59)) == date(2026, 3, 8)
    assert RESET.trading_date(utc(2026, 3, 8, 21)) == date(2026, 3, 9)


def test_17_00_reset_keeps_local_time_when_clocks_fall_back() -> None:
    assert RESET.reset_instant(date(2026, 10, 31)) == utc(2026, 10, 31, 21)  # EDT
    assert RESET.reset_instant(date(2026, 11, 1)) == utc(2026, 11, 1, 22)  # EST
    assert RESET.next_reset(utc(2026, 10, 31, 21)) - utc(2026, 10, 31, 21) == timedelta(hours=25)
    assert RESET.trading_date(utc(2026, 11, 1, 21, 30)) == date(2026, 11, 1)  # 16:30 EST
    assert RESET.trading_date(utc(2026, 11, 1, 22)) == date(2026, 11, 2)


def test_non_existent_02_30_reset_runs_at_03_00_on_spring_forward_day() -> None:
    reset = DailyReset(time(2, 30))
    assert reset.reset_instant(date(2026, 3, 7)) == utc(2026, 3, 7, 7, 30)  # 02:30 EST
    assert reset.reset_instant(date(2026, 3, 8)) == utc(2026, 3, 8, 7)  # 03:00 EDT
    assert reset.reset_instant(date(2026, 3, 9)) == utc(2026, 3, 9, 6, 30)  # 02:30 EDT
    assert reset.trading_date(utc(2026, 3, 8, 6, 59, 59)) == date(2026, 3, 8)
    assert reset.trading_date(utc(2026, 3, 8, 7)) == date(2026, 3, 9)
    assert reset.resets_between(utc(2026, 3, 7), utc(2026, 3, 10)) == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7),
        utc(2026, 3, 9, 6, 30),
    ]


def test_02_30_reset_on_fall_back_day_is_unambiguous() -> None:
    assert DailyReset(time(2, 30)).reset_instant(date(2026, 11, 1)) == utc(2026, 11, 1, 7, 30)  # EST


def test_ambiguous_01_30_reset_runs_at_the_first_occurrence_on_fall_back_day() -> None:
    reset = DailyReset(time(1, 30))
    first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)  # 01:30 EDT, 01:30 EST
    assert reset.reset_instant(date(2026, 11, 1)) == first
    assert reset.trading_date(first - timedelta(seconds=1)) == date(2026, 11, 1)
    # The second 01:30 is already in the next trading day: the reset ran once, an hour earlier.
    assert reset.trading_date(second) == date(2026, 11, 2)
    assert reset.resets_between(first, second) == []


def test_01_30_reset_on_spring_forward_day_is_unaffected() -> None:
    assert DailyReset(time(1, 30)).reset_instant(date(2026, 3, 8)) == utc(2026, 3, 8, 6, 30)  # EST


# -- missed resets ---------------------------------------------------------------------------------


def test_resets_between_runs_every_calendar_day_over_a_weekend() -> None:
    # Down from Fri 2026-01-09 16:00 to Mon 2026-01-12 18:00 New York: Fri, Sat, Sun, Mon resets.
    missed = RESET.resets_between(et(2026, 1, 9, 16), et(2026, 1, 12, 18))
    assert missed == [utc(2026, 1, 9, 22), utc(2026, 1, 10, 22), utc(2026, 1, 11, 22), utc(2026, 1, 12, 22)]


def test_resets_between_excludes_after_and_includes_until() -> None:
    fri, sat = utc(2026, 1, 9, 22), utc(2026, 1, 10, 22)
    assert RESET.resets_between(fri, sat) == [sat]
    assert RESET.resets_between(fri, sat - timedelta(microseconds=1)) == []


def test_resets_between_is_empty_when_until_is_not_after() -> None:
    assert RESET.resets_between(et(2026, 1, 12), et(2026, 1, 12)) == []
    assert RESET.resets_between(et(2026, 1, 14), et(2026, 1, 12)) == []


def test_resets_between_across_spring_forward() -> None:
    missed = RESET.resets_between(et(2026, 3, 6, 12), et(2026, 3, 9, 18))
    assert missed == [utc(2026, 3, 6, 22), utc(2026, 3, 7, 22), utc(2026, 3, 8, 21), utc(2026, 3, 9, 21)]


# -- errors ----------------------------------------------------------------------------------------


def test_naive_instants_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RESET.trading_date(datetime(2026, 1, 12, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        RESET.resets_between(et(2026, 1, 12), datetime(2026, 1, 13))


def test_reset_time_must_be_wall_clock() -> None:
    with pytest.raises(ValueError, match="without tzinfo"):
        DailyReset(time(17, 0, tzinfo=UTC))


# -- invariants over many instants, zones and reset times --------------------------------------------

ZONES = ["America/New_York", "America/Chicago", "Europe/London", "Australia/Lord_Howe", "UTC"]
RESET_TIMES = [time(17), time(0), time(2, 30), time(1, 30), time(2, 15), time(23, 59)]


@given(
    at=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    wall=st.sampled_from(RESET_TIMES),
)
def test_every_instant_lies_between_its_last_and_next_reset(at: datetime, zone: str, wall: time) -> None:
    reset = DailyReset(wall, ZoneInfo(zone))
    last, following = reset.last_reset(at), reset.next_reset(at)
    assert last <= at < following
    assert timedelta(hours=21) <= following - last <= timedelta(hours=27)
    assert reset.resets_between(last, following) == [following]
    assert reset.reset_instant(reset.trading_date(at)) == following
    assert reset.trading_date(last) == reset.trading_date(at)
