"""Time for the core: the clock, the trading day, exchange calendars, sessions, lockouts, timers.

Nothing here reads the wall clock except :class:`SystemClock`, and nothing does I/O:
every query takes ``now`` (or a date) and every instant returned is UTC.
"""

from risk_manager.schedule._market_calendars import ExchangeYear
from risk_manager.schedule.calendar import (
    DEFAULT_CALENDAR,
    SYMBOL_CALENDARS,
    CalendarDay,
    DayKind,
    ExchangeCalendar,
    HolidayOverrides,
    YearSource,
    calendar_name,
)
from risk_manager.schedule.clock import Clock, ManualClock, SystemClock
from risk_manager.schedule.lockouts import (
    CLEARED_BY,
    AccountMode,
    ClearedBy,
    Lockout,
    LockoutBook,
    LockoutInfo,
)
from risk_manager.schedule.sessions import MAX_LOOKAHEAD_DAYS, Session, SessionSchedule, SessionWindow
from risk_manager.schedule.timers import Timer, TimerBook, grace_timer_name
from risk_manager.schedule.trading_day import NEW_YORK, DailyReset

__all__ = [
    "CLEARED_BY",
    "DEFAULT_CALENDAR",
    "MAX_LOOKAHEAD_DAYS",
    "NEW_YORK",
    "SYMBOL_CALENDARS",
    "AccountMode",
    "CalendarDay",
    "ClearedBy",
    "Clock",
    "DailyReset",
    "DayKind",
    "ExchangeCalendar",
    "ExchangeYear",
    "HolidayOverrides",
    "Lockout",
    "LockoutBook",
    "LockoutInfo",
    "ManualClock",
    "Session",
    "SessionSchedule",
    "SessionWindow",
    "SystemClock",
    "Timer",
    "TimerBook",
    "YearSource",
    "calendar_name",
    "grace_timer_name",
]
