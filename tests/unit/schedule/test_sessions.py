"""Session windows for RULE-009 (SPEC §3): every SPEC example, a wrap-around window, DST weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from risk_manager.schedule import (
    ExchangeCalendar,
    ExchangeYear,
    HolidayOverrides,
    SessionSchedule,
    SessionWindow,
)

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
MON_FRI = frozenset({0, 1, 2, 3, 4})
SUN_THU = frozenset({6, 0, 1, 2, 3})

# SPEC RULE-009 examples: G 09:30–16:00 Mon–Fri New York, holiday 2025-12-25, early close 2025-11-28 13:00.
SPEC_HOLIDAYS = HolidayOverrides(
    NEW_YORK,
    holidays={date(2025, 12, 25): "Christmas"},
    early_closes={date(2025, 11, 28): (time(13, 0), "Day after Thanksgiving")},
)
G = SessionWindow(time(9, 30), time(16, 0), NEW_YORK, MON_FRI)
SESSION = SessionSchedule(G, ExchangeCalendar(SPEC_HOLIDAYS), None)
CL_WINDOW = SessionWindow(time(17, 0), time(16, 0), CHICAGO, SUN_THU)
CL = SessionSchedule(CL_WINDOW, ExchangeCalendar(), "CL")


def et(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


def ct(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHICAGO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- the window ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days", "message"),
    [
        pytest.param(time(9, 30), time(9, 30), MON_FRI, "both 09:30", id="start=end"),
        pytest.param(time(9, 30), time(16), frozenset(), "non-empty subset", id="no-days"),
        pytest.param(time(9, 30), time(16), frozenset({7}), "non-empty subset", id="day-7"),
        pytest.param(time(9, 30, tzinfo=UTC), time(16), MON_FRI, "without tzinfo", id="aware-time"),
    ],
)
def test_invalid_windows_are_rejected(start: time, end: time, days: frozenset[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionWindow(start, end, NEW_YORK, days)


def test_end_before_start_wraps_past_midnight() -> None:
    assert CL_WINDOW.wraps
    assert not G.wraps


# -- SPEC RULE-009 examples ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open", "next_open"),
    [
        pytest.param(et(2025, 12, 9, 8, 0), False, et(2025, 12, 9, 9, 30), id="RULE-009.1-Tue-08:00"),
        pytest.param(et(2025, 12, 9, 10, 0), True, et(2025, 12, 10, 9, 30), id="RULE-009.1-Tue-10:00"),
        pytest.param(et(2025, 12, 9, 16, 0), False, et(2025, 12, 10, 9, 30), id="RULE-009.2-Tue-16:00"),
        pytest.param(et(2025, 12, 12, 16, 0), False, et(2025, 12, 15, 9, 30), id="RULE-009.2-Fri-16:00"),
        pytest.param(et(2025, 12, 25, 10, 0), False, et(2025, 12, 26, 9, 30), id="RULE-009.3-Christmas"),
        pytest.param(et(2025, 11, 28, 13, 0), False, et(2025, 12, 1, 9, 30), id="RULE-009.4-early-close"),
    ],
)
def test_spec_rule_009_examples(at: datetime, is_open: bool, next_open: datetime) -> None:
    assert SESSION.is_open(at) is is_open
    assert SESSION.next_open(at) == next_open
    assert SESSION.next_open(at).tzinfo is UTC


def test_the_session_end_is_exclusive() -> None:
    assert SESSION.is_open(et(2025, 12, 9, 15, 59, 59))
    assert SESSION.current_close(et(2025, 12, 9, 15, 59, 59)) == et(2025, 12, 9, 16, 0)
    assert SESSION.current_close(et(2025, 12, 9, 16, 0)) is None
    assert SESSION.is_open(et(2025, 12, 9, 9, 30))


def test_an_early_close_ends_the_session_at_the_close_time() -> None:
    at = et(2025, 11, 28, 12, 59)
    assert SESSION.is_open(at)
    assert SESSION.current_close(at) == et(2025, 11, 28, 13, 0)
    session = SESSION.window_containing(at)
    assert session is not None and session.early


def test_the_exchange_calendar_still_applies_to_unlisted_dates() -> None:
    # CME_Equity closes Thanksgiving 2025 at 12:00 CT = 13:00 ET.
    assert SESSION.current_close(et(2025, 11, 27, 12, 0)) == et(2025, 11, 27, 13, 0)


def test_holidays_are_ignored_when_not_respected() -> None:
    schedule = SessionSchedule(G, ExchangeCalendar(SPEC_HOLIDAYS), None, respect_holidays=False)
    assert schedule.is_open(et(2025, 12, 25, 10, 0))
    assert schedule.current_close(et(2025, 11, 28, 13, 0)) == et(2025, 11, 28, 16, 0)


def test_an_early_close_before_the_open_cancels_the_session() -> None:
    afternoon = SessionWindow(time(14, 0), time(16, 0), NEW_YORK, MON_FRI)
    schedule = SessionSchedule(afternoon, ExchangeCalendar(SPEC_HOLIDAYS), None)
    assert not schedule.is_open(et(2025, 11, 28, 14, 30))
    assert schedule.session_on(date(2025, 11, 28)) is None
    assert schedule.next_open(et(2025, 11, 28, 10, 0)) == et(2025, 12, 1, 14, 0)


def test_next_change_is_the_close_when_open_and_the_open_when_closed() -> None:
    assert SESSION.next_change(et(2025, 12, 9, 10, 0)) == et(2025, 12, 9, 16, 0)
    assert SESSION.next_change(et(2025, 12, 9, 17, 0)) == et(2025, 12, 10, 9, 30)


# -- wrap-around window: CL 17:00–16:00 America/Chicago Sun–Thu ------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open", "close"),
    [
        pytest.param(ct(2025, 12, 7, 16, 59), False, None, id="Sun-before-open"),
        pytest.param(ct(2025, 12, 7, 17, 0), True, ct(2025, 12, 8, 16, 0), id="Sun-open"),
        pytest.param(ct(2025, 12, 8, 3, 0), True, ct(2025, 12, 8, 16, 0), id="Mon-overnight"),
        pytest.param(ct(2025, 12, 8, 16, 30), False, None, id="Mon-daily-break"),
        pytest.param(ct(2025, 12, 11, 18, 0), True, ct(2025, 12, 12, 16, 0), id="Thu-evening"),
        pytest.param(ct(2025, 12, 12, 17, 30), False, None, id="Fri-evening-not-a-day"),
        pytest.param(ct(2025, 12, 13, 12, 0), False, None, id="Saturday"),
    ],
)
def test_wrap_around_window(at: datetime, is_open: bool, close: datetime | None) -> None:
    assert CL.is_open(at) is is_open
    assert CL.current_close(at) == close


def test_wrap_around_next_open_after_the_week_is_sunday_evening() -> None:
    assert CL.next_open(ct(2025, 12, 12, 16, 0)) == ct(2025, 12, 14, 17, 0)
    assert CL.next_open(ct(2025, 12, 8, 16, 0)) == ct(2025, 12, 8, 17, 0)


def test_wrap_around_window_closing_on_christmas_does_not_open() -> None:
    assert CL.is_open(ct(2025, 12, 24, 15, 0))  # Tue evening -> Wed window
    assert not CL.is_open(ct(2025, 12, 24, 17, 0))  # Wed evening would close on the 25th
    assert not CL.is_open(ct(2025, 12, 25, 10, 0))
    assert CL.next_open(ct(2025, 12, 24, 16, 0)) == ct(2025, 12, 25, 17, 0)  # closes Fri the 26th
    assert CL.current_close(ct(2025, 12, 25, 17, 0)) == ct(2025, 12, 26, 16, 0)


def test_wrap_around_window_over_energy_thanksgiving_early_closes() -> None:
    assert CL.current_close(ct(2025, 11, 27, 9, 0)) == ct(2025, 11, 27, 13, 30)
    assert not CL.is_open(ct(2025, 11, 27, 13, 30))
    assert CL.next_open(ct(2025, 11, 27, 13, 30)) == ct(2025, 11, 27, 17, 0)
    assert CL.current_close(ct(2025, 11, 28, 9, 0)) == ct(2025, 11, 28, 12, 45)
    assert CL.next_open(ct(2025, 11, 28, 12, 45)) == ct(2025, 11, 30, 17, 0)


# -- DST changeover weeks --------------------------------------------------------------------------


def test_new_york_window_keeps_wall_clock_over_spring_forward_weekend() -> None:
    unlisted = SessionSchedule(G, ExchangeCalendar(), None)
    assert unlisted.current_close(et(2026, 3, 6, 10, 0)) == utc(2026, 3, 6, 21)  # 16:00 EST
    assert unlisted.next_open(et(2026, 3, 6, 16, 0)) == utc(2026, 3, 9, 13, 30)  # 09:30 EDT
    assert not unlisted.is_open(utc(2026, 3, 9, 13, 29, 59))
    assert unlisted.is_open(utc(2026, 3, 9, 13, 30))
    assert unlisted.current_close(utc(2026, 3, 9, 14)) == utc(2026, 3, 9, 20)  # 16:00 EDT


def test_new_york_window_keeps_wall_clock_over_fall_back_weekend() -> None:
    unlisted = SessionSchedule(G, ExchangeCalendar(), None)
    assert unlisted.current_close(et(2026, 10, 30, 10, 0)) == utc(2026, 10, 30, 20)  # 16:00 EDT
    assert unlisted.next_open(et(2026, 10, 30, 16, 0)) == utc(2026, 11, 2, 14, 30)  # 09:30 EST
    assert not unlisted.is_open(utc(2026, 11, 2, 14, 29))


def test_wrap_around_window_opens_an_hour_earlier_in_utc_after_spring_forward() -> None:
    assert CL.next_open(ct(2026, 3, 1, 12)) == utc(2026, 3, 1, 23)  # 17:00 CST
    assert CL.next_open(ct(2026, 3, 8, 12)) == utc(2026, 3, 8, 22)  # 17:00 CDT
    assert CL.is_open(utc(2026, 3, 8, 22, 30))
    assert not CL.is_open(utc(2026, 3, 1, 22, 30))
    assert CL.current_close(utc(2026, 3, 2, 2)) == utc(2026, 3, 2, 22)  # Mon 16:00 CST
    assert CL.current_close(utc(2026, 3, 9, 2)) == utc(2026, 3, 9, 21)  # Mon 16:00 CDT


def test_wrap_around_window_opens_an_hour_later_in_utc_after_fall_back() -> None:
    assert CL.next_open(ct(2026, 10, 29, 16, 0)) == utc(2026, 10, 29, 22)  # Thu 17:00 CDT
    assert CL.next_open(ct(2026, 10, 30, 16, 0)) == utc(2026, 11, 1, 23)  # Sun 17:00 CST
    assert CL.is_open(utc(2026, 11, 1, 23))
    assert not CL.is_open(utc(2026, 11, 1, 22, 30))


def test_window_spanning_the_changeover_is_shorter_or_longer_in_real_time() -> None:
    night = SessionWindow(time(1, 0), time(4, 0), NEW_YORK, frozenset(range(7)))
    schedule = SessionSchedule(night, ExchangeCalendar(), None)
    spring = schedule.session_on(date(2026, 3, 8))
    fall = schedule.session_on(date(2026, 11, 1))
    assert spring is not None and (spring.open_at, spring.close_at) == (
        utc(2026, 3, 8, 6),
        utc(2026, 3, 8, 8),
    )
    assert fall is not None and (fall.open_at, fall.close_at) == (utc(2026, 11, 1, 5), utc(2026, 11, 1, 9))


def test_window_starting_in_the_dst_gap_opens_at_the_gap_end() -> None:
    window = SessionWindow(time(2, 30), time(5, 0), NEW_YORK, frozenset(range(7)))
    schedule = SessionSchedule(window, ExchangeCalendar(), None)
    assert schedule.next_open(et(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 7)  # 03:00 EDT


# -- errors ----------------------------------------------------------------------------------------


def test_naive_instants_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SESSION.is_open(datetime(2025, 12, 9, 10, 0))


def test_next_open_gives_up_when_no_session_can_open() -> None:
    def every_day_closed(_name: str, year: int) -> ExchangeYear:
        days = (
            date.fromordinal(n) for n in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())
        )
        return ExchangeYear({d: "Closed" for d in days}, {})

    schedule = SessionSchedule(G, ExchangeCalendar(source=every_day_closed), "MNQ")
    with pytest.raises(LookupError, match="no MNQ session opens within"):
        schedule.next_open(et(2026, 1, 5, 8, 0))
