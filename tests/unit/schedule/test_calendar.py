"""Exchange holidays and early closes per symbol, merged with holidays.yaml (SPEC §8).

Dates are what pandas_market_calendars 5.x returns offline; overrides win.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from risk_manager.schedule import (
    CalendarDay,
    ExchangeCalendar,
    ExchangeYear,
    HolidayOverrides,
    calendar_name,
)

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
CALENDAR = ExchangeCalendar()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("symbol", "name"),
    [
        *[(s, "CME_Equity") for s in ("MNQ", "NQ", "MES", "ES", "M2K", "RTY", "MYM", "YM")],
        *[(s, "CMEGlobex_Energy") for s in ("CL", "MCL", "NG", "QM")],
        *[(s, "CMEGlobex_Metals") for s in ("GC", "MGC", "SI", "SIL", "HG")],
        ("mnq", "CME_Equity"),
        ("cl", "CMEGlobex_Energy"),
        ("ZB", "CME_Equity"),
        (None, "CME_Equity"),
    ],
)
def test_symbol_groups_map_to_exchange_calendars(symbol: str | None, name: str) -> None:
    assert calendar_name(symbol) == name


# -- Thanksgiving week 2025 ------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["MNQ", "ES"])
def test_equity_thanksgiving_2025_is_two_early_closes_not_a_holiday(symbol: str) -> None:
    assert CALENDAR.day(symbol, date(2025, 11, 26)) is None
    assert not CALENDAR.is_holiday(symbol, date(2025, 11, 27))
    assert CALENDAR.early_close(symbol, date(2025, 11, 27)) == utc(2025, 11, 27, 18)  # 12:00 CT
    assert CALENDAR.early_close(symbol, date(2025, 11, 28)) == utc(2025, 11, 28, 18)  # 12:00 CT
    assert CALENDAR.day(symbol, date(2025, 11, 27)) == CalendarDay(
        date(2025, 11, 27), "Thanksgiving Day", "early_close", utc(2025, 11, 27, 18)
    )
    assert CALENDAR.early_close(symbol, date(2025, 12, 1)) is None


@pytest.mark.parametrize("symbol", ["CL", "MCL"])
def test_energy_thanksgiving_2025_closes_early_at_its_own_times(symbol: str) -> None:
    assert not CALENDAR.is_holiday(symbol, date(2025, 11, 27))
    assert CALENDAR.early_close(symbol, date(2025, 11, 27)) == utc(2025, 11, 27, 19, 30)  # 13:30 CT
    assert CALENDAR.early_close(symbol, date(2025, 11, 28)) == utc(2025, 11, 28, 18, 45)  # 12:45 CT
    assert CALENDAR.day(symbol, date(2025, 11, 28)) == CalendarDay(
        date(2025, 11, 28), "Friday after Thanksgiving", "early_close", utc(2025, 11, 28, 18, 45)
    )


# -- Christmas week 2025 ---------------------------------------------------------------------------


def test_equity_christmas_2025() -> None:
    assert CALENDAR.early_close("MNQ", date(2025, 12, 24)) == utc(2025, 12, 24, 18)  # 12:00 CT
    assert CALENDAR.is_holiday("MNQ", date(2025, 12, 25))
    assert CALENDAR.holiday_name("MNQ", date(2025, 12, 25)) == "Christmas"
    assert CALENDAR.early_close("MNQ", date(2025, 12, 25)) is None
    assert CALENDAR.day("MNQ", date(2025, 12, 26)) is None


def test_energy_christmas_2025_has_no_christmas_eve_early_close() -> None:
    assert CALENDAR.day("CL", date(2025, 12, 24)) is None
    assert CALENDAR.is_holiday("CL", date(2025, 12, 25))
    assert CALENDAR.holiday_name("CL", date(2025, 12, 25)) == "Christmas"
    assert not CALENDAR.is_holiday("CL", date(2025, 12, 26))


def test_metals_follow_their_calendar() -> None:
    assert CALENDAR.is_holiday("GC", date(2025, 12, 25))
    assert CALENDAR.early_close("GC", date(2025, 11, 28)) == utc(2025, 11, 28, 18, 45)


def test_weekends_are_not_holidays() -> None:
    assert not CALENDAR.is_holiday("MNQ", date(2025, 12, 27))  # Saturday
    assert CALENDAR.day("CL", date(2025, 12, 28)) is None  # Sunday


def test_a_holiday_name_is_none_on_an_early_close_or_ordinary_day() -> None:
    assert CALENDAR.holiday_name("MNQ", date(2025, 12, 24)) is None
    assert CALENDAR.holiday_name("MNQ", date(2025, 12, 23)) is None


# -- 2026 ------------------------------------------------------------------------------------------


def test_2026_new_year_is_a_holiday_everywhere() -> None:
    for symbol in ("MNQ", "CL", "GC"):
        assert CALENDAR.holiday_name(symbol, date(2026, 1, 1)) == "New Years Day"


def test_2026_good_friday_closes_energy_but_only_shortens_equity() -> None:
    assert CALENDAR.holiday_name("CL", date(2026, 4, 3)) == "Good Friday"
    assert not CALENDAR.is_holiday("MNQ", date(2026, 4, 3))
    assert CALENDAR.early_close("MNQ", date(2026, 4, 3)) == utc(2026, 4, 3, 13, 15)  # 08:15 CT


def test_2026_unnamed_library_early_closes_borrow_a_name() -> None:
    # CMEGlobex_Energy lists 2026-12-24 as a bare date; the name comes from CME_Equity's rules.
    assert CALENDAR.day("CL", date(2026, 12, 24)) == CalendarDay(
        date(2026, 12, 24), "Christmas Eve", "early_close", utc(2026, 12, 24, 18, 45)
    )


def test_an_ad_hoc_closure_without_a_name_is_an_exchange_holiday() -> None:
    assert CALENDAR.holiday_name("ES", date(2025, 1, 9)) == "Exchange holiday"


# -- overrides (holidays.yaml) win -----------------------------------------------------------------

OVERRIDES = HolidayOverrides(
    timezone=NEW_YORK,
    holidays={date(2025, 11, 28): "Day after Thanksgiving", date(2025, 12, 27): "Saturday closure"},
    early_closes={
        date(2025, 12, 25): (time(10, 0), "Christmas morning"),
        date(2025, 12, 26): (time(13, 0), "Boxing Day"),
    },
)
WITH_OVERRIDES = ExchangeCalendar(OVERRIDES)


@pytest.mark.parametrize("symbol", ["MNQ", "CL"])
def test_a_listed_holiday_wins_over_an_exchange_early_close(symbol: str) -> None:
    assert WITH_OVERRIDES.holiday_name(symbol, date(2025, 11, 28)) == "Day after Thanksgiving"
    assert WITH_OVERRIDES.early_close(symbol, date(2025, 11, 28)) is None


@pytest.mark.parametrize("symbol", ["MNQ", "CL"])
def test_a_listed_early_close_wins_over_an_exchange_holiday(symbol: str) -> None:
    assert not WITH_OVERRIDES.is_holiday(symbol, date(2025, 12, 25))
    assert WITH_OVERRIDES.early_close(symbol, date(2025, 12, 25)) == utc(2025, 12, 25, 15)  # 10:00 ET


def test_a_listed_early_close_on_an_ordinary_day() -> None:
    assert WITH_OVERRIDES.early_close("MNQ", date(2025, 12, 26)) == utc(2025, 12, 26, 18)


def test_a_listed_weekend_date_is_a_holiday() -> None:
    assert WITH_OVERRIDES.is_holiday("MNQ", date(2025, 12, 27))


def test_unlisted_dates_still_follow_the_exchange() -> None:
    assert WITH_OVERRIDES.early_close("MNQ", date(2025, 11, 27)) == utc(2025, 11, 27, 18)
    assert WITH_OVERRIDES.early_close("CL", date(2025, 11, 27)) == utc(2025, 11, 27, 19, 30)


def test_override_close_times_are_in_the_overrides_zone() -> None:
    chicago = ExchangeCalendar(HolidayOverrides(CHICAGO, {}, {date(2026, 7, 2): (time(12, 0), "Early")}))
    assert chicago.early_close("MNQ", date(2026, 7, 2)) == utc(2026, 7, 2, 17)  # 12:00 CDT


def test_a_date_cannot_be_both_holiday_and_early_close() -> None:
    with pytest.raises(ValueError, match="2025-12-25 listed as both"):
        HolidayOverrides(NEW_YORK, {date(2025, 12, 25): "X"}, {date(2025, 12, 25): (time(13), "Y")})


# -- upcoming (status screen) ----------------------------------------------------------------------


def test_upcoming_lists_special_days_in_the_window_in_date_order() -> None:
    assert CALENDAR.upcoming(None, date(2025, 12, 22), 7) == [
        CalendarDay(date(2025, 12, 24), "Christmas Eve", "early_close", utc(2025, 12, 24, 18)),
        CalendarDay(date(2025, 12, 25), "Christmas", "holiday"),
    ]


def test_upcoming_window_is_start_inclusive_end_exclusive() -> None:
    assert [d.date for d in CALENDAR.upcoming("MNQ", date(2025, 12, 25), 1)] == [date(2025, 12, 25)]
    assert CALENDAR.upcoming("MNQ", date(2025, 12, 18), 6) == []  # 18..23
    assert CALENDAR.upcoming("MNQ", date(2025, 12, 25), 0) == []


def test_upcoming_crosses_into_the_next_year() -> None:
    days = CALENDAR.upcoming("CL", date(2025, 12, 29), 7)
    assert [(d.date, d.kind) for d in days] == [(date(2026, 1, 1), "holiday")]


def test_upcoming_includes_overrides() -> None:
    days = WITH_OVERRIDES.upcoming("CL", date(2025, 12, 24), 4)
    assert [(d.date, d.kind, d.name) for d in days] == [
        (date(2025, 12, 25), "early_close", "Christmas morning"),
        (date(2025, 12, 26), "early_close", "Boxing Day"),
        (date(2025, 12, 27), "holiday", "Saturday closure"),
    ]


# -- caching ---------------------------------------------------------------------------------------


def test_each_calendar_year_is_computed_once() -> None:
    calls: list[tuple[str, int]] = []

    def source(name: str, year: int) -> ExchangeYear:
        calls.append((name, year))
        return ExchangeYear({date(year, 7, 1): "Test holiday"}, {})

    calendar = ExchangeCalendar(source=source)
    for _ in range(100):
        assert calendar.is_holiday("MNQ", date(2026, 7, 1))
        assert not calendar.is_holiday("ES", date(2026, 7, 2))
    calendar.is_holiday("CL", date(2026, 7, 1))
    calendar.is_holiday("MNQ", date(2027, 7, 1))
    assert calls == [("CME_Equity", 2026), ("CMEGlobex_Energy", 2026), ("CME_Equity", 2027)]
