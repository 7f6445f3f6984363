"""Trading-session windows for RULE-009 Session Block Outside Hours (SPEC §3).

A window is ``[start, end)`` in wall-clock time of its own zone, opening on the
listed weekdays; ``end < start`` wraps past midnight (CL 17:00–16:00 Chicago opens
Sunday evening and closes Monday afternoon). With holidays respected, a window
whose closing date is a holiday does not open, and an early close ends the window
closing that date at ``min(end, close)``. Wall-clock times keep their local meaning
across DST changes (SPEC §4.3's rule for non-existent and ambiguous times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from risk_manager.schedule._wallclock import local_date, local_instant, require_aware, require_naive_time
from risk_manager.schedule.calendar import ExchangeCalendar

_ONE_DAY = timedelta(days=1)
#: How far ``next_open`` looks before giving up (a year of holidays cannot happen).
MAX_LOOKAHEAD_DAYS = 370
_CACHE_LIMIT = 64


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """A recurring window: ``start``–``end`` wall clock in ``zone``, opening on ``days``.

    ``days`` are weekday ints (Mon=0 … Sun=6) on which the window *opens*. Raises
    ``ValueError`` for ``start == end``, no days, or a day outside 0..6.
    """

    start: time
    end: time
    zone: ZoneInfo
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))

    def __post_init__(self) -> None:
        require_naive_time(self.start, "session start")
        require_naive_time(self.end, "session end")
        if self.start == self.end:
            raise ValueError(f"session start and end are both {self.start:%H:%M}: a window needs a length")
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(
                f"session days must be a non-empty subset of 0..6 (Mon=0), got {sorted(self.days)}"
            )

    @property
    def wraps(self) -> bool:
        """True when the window closes on the day after it opens."""
        return self.end < self.start


@dataclass(frozen=True, slots=True)
class Session:
    """One occurrence of a window: ``[open_at, close_at)`` in UTC, early close applied.

    ``closes_on`` is the trade date (local date of the scheduled end) that holidays
    and early closes are looked up by; ``early`` tells whether an early close cut it.
    """

    opens_on: date
    closes_on: date
    open_at: datetime
    close_at: datetime
    early: bool = False

    def contains(self, at: datetime) -> bool:
        return self.open_at <= at < self.close_at


class SessionSchedule:
    """Where a symbol's trading window stands at an instant (RULE-009 queries).

    ``symbol`` picks the exchange calendar (None = the default calendar, for the
    account-wide ``session`` window). All instants in and out are aware; out is UTC.
    """

    def __init__(
        self,
        window: SessionWindow,
        calendar: ExchangeCalendar,
        symbol: str | None,
        respect_holidays: bool = True,
    ) -> None:
        self.window = window
        self.calendar = calendar
        self.symbol = symbol
        self.respect_holidays = respect_holidays
        self._sessions: dict[date, Session | None] = {}

    def session_on(self, opens_on: date) -> Session | None:
        """The session opening on local date ``opens_on``; None if none opens that day.

        None when the weekday isn't listed, the closing date is a holiday, or an early
        close falls at or before the open.
        """
        if opens_on not in self._sessions:
            if len(self._sessions) >= _CACHE_LIMIT:
                self._sessions.clear()
            self._sessions[opens_on] = self._build(opens_on)
        return self._sessions[opens_on]

    def window_containing(self, at: datetime) -> Session | None:
        """The session ``at`` falls in, or None outside every session."""
        at = require_aware(at, "at")
        today = local_date(at, self.window.zone)
        # A session containing ``at`` opened today or, wrapping (or cut by DST), the day before.
        for opens_on in (today, today - _ONE_DAY, today - 2 * _ONE_DAY):
            session = self.session_on(opens_on)
            if session is not None and session.contains(at):
                return session
        return None

    def is_open(self, at: datetime) -> bool:
        """True inside a session: ``[open, close)``, so the close instant itself is outside."""
        return self.window_containing(at) is not None

    def current_close(self, at: datetime) -> datetime | None:
        """UTC close of the session containing ``at`` (early close applied); None when closed."""
        session = self.window_containing(at)
        return session.close_at if session is not None else None

    def next_open(self, at: datetime) -> datetime:
        """UTC start of the first session opening strictly after ``at``, skipping holidays.

        Raises ``LookupError`` if none opens within :data:`MAX_LOOKAHEAD_DAYS`.
        """
        at = require_aware(at, "at")
        first = local_date(at, self.window.zone) - _ONE_DAY
        for offset in range(MAX_LOOKAHEAD_DAYS):
            session = self.session_on(first + offset * _ONE_DAY)
            if session is not None and session.open_at > at:
                return session.open_at
        raise LookupError(
            f"no {self.symbol or 'account'} session opens within {MAX_LOOKAHEAD_DAYS} days "
            f"after {at.isoformat()}: check session days and holidays"
        )

    def next_change(self, at: datetime) -> datetime:
        """When the open/closed state next flips: the current close if open, else the next open."""
        close = self.current_close(at)
        return close if close is not None else self.next_open(at)

    def _build(self, opens_on: date) -> Session | None:
        window = self.window
        if opens_on.weekday() not in window.days:
            return None
        closes_on = opens_on + _ONE_DAY if window.wraps else opens_on
        if self.respect_holidays and self.calendar.is_holiday(self.symbol, closes_on):
            return None
        open_at = local_instant(opens_on, window.start, window.zone)
        close_at = local_instant(closes_on, window.end, window.zone)
        early_at = self.calendar.early_close(self.symbol, closes_on) if self.respect_holidays else None
        early = early_at is not None and early_at < close_at
        if early_at is not None and early:
            close_at = early_at
        if close_at <= open_at:
            return None  # an early close before the open leaves nothing to trade
        return Session(opens_on, closes_on, open_at, close_at, early)


__all__ = ["MAX_LOOKAHEAD_DAYS", "Session", "SessionSchedule", "SessionWindow"]
