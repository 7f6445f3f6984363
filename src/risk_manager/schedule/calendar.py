"""Exchange holidays and early closes per symbol (SPEC §8 holidays.yaml, §3 RULE-009).

Each symbol follows its exchange's calendar from pandas_market_calendars (equity
index -> ``CME_Equity``, energy -> ``CMEGlobex_Energy``, metals ->
``CMEGlobex_Metals``, anything else -> ``CME_Equity``). holidays.yaml merges with
them: a date it lists wins, for every symbol. Dates are trade dates, the date a
session closes on (a CME session opening Wed 17:00 CT belongs to Thursday).

The config model is converted by the caller into :class:`HolidayOverrides`, so this
package does not depend on ``config``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from risk_manager.schedule._market_calendars import ExchangeYear, load_year
from risk_manager.schedule._wallclock import local_instant, require_naive_time
from risk_manager.schedule.trading_day import NEW_YORK

DEFAULT_CALENDAR = "CME_Equity"

#: Symbol (after aliasing, SPEC §4.4) -> pandas_market_calendars calendar name.
SYMBOL_CALENDARS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("MNQ", "NQ", "MES", "ES", "M2K", "RTY", "MYM", "YM"), "CME_Equity"),
        **dict.fromkeys(("CL", "MCL", "NG", "QM"), "CMEGlobex_Energy"),
        **dict.fromkeys(("GC", "MGC", "SI", "SIL", "HG"), "CMEGlobex_Metals"),
    }
)

DayKind = Literal["holiday", "early_close"]

#: ``source(calendar_name, year)``: an exchange year; the default reads pandas_market_calendars.
YearSource = Callable[[str, int], ExchangeYear]


def calendar_name(symbol: str | None) -> str:
    """The exchange calendar ``symbol`` follows (case-insensitive; None or unknown -> CME_Equity)."""
    if symbol is None:
        return DEFAULT_CALENDAR
    return SYMBOL_CALENDARS.get(symbol.upper(), DEFAULT_CALENDAR)


@dataclass(frozen=True, slots=True)
class HolidayOverrides:
    """holidays.yaml, as plain values: dates listed here win over the exchange calendars.

    ``holidays``: trade date -> name. ``early_closes``: trade date -> (wall-clock
    close time in :attr:`timezone`, name). A date may not be in both.
    """

    timezone: ZoneInfo = field(default=NEW_YORK)
    holidays: Mapping[date, str] = field(default_factory=dict)
    early_closes: Mapping[date, tuple[time, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        both = sorted(set(self.holidays) & set(self.early_closes))
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"holiday overrides: {listed} listed as both holiday and early close")
        for day, (close_time, _name) in self.early_closes.items():
            require_naive_time(close_time, f"early close {day.isoformat()} close_time")


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """A special trade date: a full closure (``close_at`` None) or an early close (UTC)."""

    date: date
    name: str
    kind: DayKind
    close_at: datetime | None = None


class ExchangeCalendar:
    """Holiday and early-close queries per symbol, exchange calendars merged with overrides.

    Each (calendar, year) is computed once and kept: the engine asks on every tick.
    """

    def __init__(self, overrides: HolidayOverrides | None = None, *, source: YearSource = load_year) -> None:
        self._overrides = overrides or HolidayOverrides()
        self._source = source
        self._years: dict[tuple[str, int], ExchangeYear] = {}

    @property
    def overrides(self) -> HolidayOverrides:
        return self._overrides

    def day(self, symbol: str | None, day: date) -> CalendarDay | None:
        """What is special about trade date ``day`` for ``symbol``; None for an ordinary day."""
        listed = self._listed(day)
        if listed is not None:
            return listed
        year = self._year(calendar_name(symbol), day.year)
        if day in year.holidays:
            return CalendarDay(day, year.holidays[day], "holiday")
        if day in year.early_closes:
            close_at, name = year.early_closes[day]
            return CalendarDay(day, name, "early_close", close_at)
        return None

    def is_holiday(self, symbol: str | None, day: date) -> bool:
        """True when no session closes on ``day`` (weekends are not holidays unless listed)."""
        special = self.day(symbol, day)
        return special is not None and special.kind == "holiday"

    def holiday_name(self, symbol: str | None, day: date) -> str | None:
        """The holiday's name, or None when ``day`` is not a holiday (early closes included)."""
        special = self.day(symbol, day)
        return special.name if special is not None and special.kind == "holiday" else None

    def early_close(self, symbol: str | None, day: date) -> datetime | None:
        """UTC instant the session closing on ``day`` ends early; None when it closes normally."""
        special = self.day(symbol, day)
        return special.close_at if special is not None and special.kind == "early_close" else None

    def upcoming(self, symbol: str | None, start: date, days: int) -> list[CalendarDay]:
        """Special days in ``[start, start + days)``, in date order (status screen: 7 days)."""
        dates = (start + timedelta(days=n) for n in range(max(days, 0)))
        return [special for d in dates if (special := self.day(symbol, d)) is not None]

    def _listed(self, day: date) -> CalendarDay | None:
        if day in self._overrides.holidays:
            return CalendarDay(day, self._overrides.holidays[day], "holiday")
        if day in self._overrides.early_closes:
            close_time, name = self._overrides.early_closes[day]
            close_at = local_instant(day, close_time, self._overrides.timezone)
            return CalendarDay(day, name, "early_close", close_at)
        return None

    def _year(self, name: str, year: int) -> ExchangeYear:
        key = (name, year)
        cached = self._years.get(key)
        if cached is None:
            cached = self._years[key] = self._source(name, year)
        return cached


__all__ = [
    "DEFAULT_CALENDAR",
    "SYMBOL_CALENDARS",
    "CalendarDay",
    "DayKind",
    "ExchangeCalendar",
    "HolidayOverrides",
    "YearSource",
    "calendar_name",
]
