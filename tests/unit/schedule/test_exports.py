"""`__all__` is the public surface of `risk_manager.schedule`; this test fails if it drifts."""

from __future__ import annotations

import risk_manager.schedule as schedule

EXPECTED = {
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
}


def test_exported_members() -> None:
    assert set(schedule.__all__) == EXPECTED
    assert all(hasattr(schedule, name) for name in schedule.__all__)


def test_importing_schedule_does_not_import_pandas_market_calendars() -> None:
    import subprocess
    import sys

    code = "import sys, risk_manager.schedule; print('pandas_market_calendars' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
