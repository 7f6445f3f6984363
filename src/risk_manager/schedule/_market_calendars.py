"""The only module that touches pandas_market_calendars (untyped, slow to import and query).

It turns one exchange calendar's year into plain typed values (:class:`ExchangeYear`)
and caches them: the engine asks about holidays on every tick, and one pandas
schedule costs tens of milliseconds. The import is deferred to the first query so
``import risk_manager`` stays fast for CLI commands that never need a calendar.
The library works offline: its calendars are rules compiled into the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

#: The calendar whose names fill the gaps of the others (see :func:`_reference_names`).
REFERENCE_CALENDAR = "CME_Equity"
#: Name given to a holiday the library lists without a name (ad-hoc closures).
UNNAMED_HOLIDAY = "Exchange holiday"
#: Name given to an early close the library lists without a name.
UNNAMED_EARLY_CLOSE = "Early close"

# The library names some rules by their validity range ("Good Friday 1908+",
# "Juneteenth Starting at 2022"); the status screen wants the holiday's name only.
_NAME_NOISE = re.compile(r"\s+(\d{4}\+|Starting at \d{4})$")


@dataclass(frozen=True, slots=True)
class ExchangeYear:
    """One calendar's special days in one year, keyed by trade date (the date a session closes).

    ``holidays``: weekdays with no session closing, -> name. ``early_closes``: trade
    date -> (UTC instant that session ends, name). Weekends appear in neither.
    """

    holidays: dict[date, str]
    early_closes: dict[date, tuple[datetime, str]]


@lru_cache(maxsize=64)
def load_year(calendar_name: str, year: int) -> ExchangeYear:
    """Holidays and early closes of ``calendar_name`` (e.g. ``CME_Equity``) in ``year``.

    Raises ``RuntimeError`` for a calendar name the library doesn't know.
    """
    calendar = _get_calendar(calendar_name)
    start, end = date(year, 1, 1), date(year, 12, 31)
    schedule = calendar.schedule(start_date=start.isoformat(), end_date=end.isoformat())
    sessions = {_to_date(label) for label in schedule.index}
    closed = [d for d in _weekdays(start, end) if d not in sessions]
    early = calendar.early_closes(schedule)["market_close"]
    closes = {_to_date(label): _to_utc(close) for label, close in early.items()}
    names = _day_names(calendar, start, end)
    if any(d not in names for d in [*closed, *closes]):
        names = {**_reference_names(year), **names}
    return ExchangeYear(
        holidays={d: names.get(d, UNNAMED_HOLIDAY) for d in closed},
        early_closes={d: (close, names.get(d, UNNAMED_EARLY_CLOSE)) for d, close in closes.items()},
    )


@lru_cache(maxsize=8)
def _reference_names(year: int) -> dict[date, str]:
    """Names from CME_Equity, whose rules name most US exchange days.

    Other calendars list some special days as bare dates (``special_closes_adhoc``:
    CMEGlobex_Energy's 2026-12-24 early close), which the status screen would
    otherwise show as a nameless "Early close".
    """
    return _day_names(_get_calendar(REFERENCE_CALENDAR), date(year, 1, 1), date(year, 12, 31))


def _get_calendar(calendar_name: str) -> Any:
    import pandas_market_calendars as mcal  # deferred: see the module docstring

    try:
        return mcal.get_calendar(calendar_name)
    except RuntimeError as exc:
        raise RuntimeError(f"pandas_market_calendars has no calendar {calendar_name!r}") from exc


def _day_names(calendar: Any, start: date, end: date) -> dict[date, str]:
    """Trade date -> name, from the calendar's holiday and early-close rules."""
    names = _names(calendar.regular_holidays, start, end)
    for _close_time, rules in calendar.special_closes:
        for day, name in _names(rules, start, end).items():
            names.setdefault(day, name)
    return names


def _names(rules: Any, start: date, end: date) -> dict[date, str]:
    """Trade date -> holiday name from a pandas holiday calendar (``None`` -> no names)."""
    if rules is None or not hasattr(rules, "holidays"):
        return {}
    named = rules.holidays(start.isoformat(), end.isoformat(), return_name=True)
    return {_to_date(label): _NAME_NOISE.sub("", str(name)) for label, name in named.items()}


def _weekdays(start: date, end: date) -> list[date]:
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5]


def _to_date(label: Any) -> date:
    """A pandas Timestamp (naive or aware) used as a day label -> its calendar date."""
    return date(int(label.year), int(label.month), int(label.day))


def _to_utc(instant: Any) -> datetime:
    value = instant.to_pydatetime()
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RuntimeError(f"pandas_market_calendars returned a naive close time: {instant!r}")
    return value.astimezone(UTC)


__all__ = ["REFERENCE_CALENDAR", "UNNAMED_EARLY_CLOSE", "UNNAMED_HOLIDAY", "ExchangeYear", "load_year"]
