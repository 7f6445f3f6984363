"""The trading-day boundary: the daily reset (SPEC §1 "Trading day", §4.3).

The reset is the one day boundary for P&L, counters, locks and labels. It runs
every calendar day, weekends and holidays included, at a wall-clock time in its
zone (default 17:00 America/New_York); early closes don't move it. A trading day
is labelled with the local date of the reset that ends it: with a 17:00 reset,
Mon 16:59 belongs to Monday and Mon 17:00 already to Tuesday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from risk_manager.schedule._wallclock import local_date, local_instant, require_aware, require_naive_time

_ONE_DAY = timedelta(days=1)
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class DailyReset:
    """When the trading day rolls over: wall-clock ``at`` in ``zone``.

    Every instant returned is UTC. A wall time that does not exist on a date (spring
    forward) resolves to the next valid instant, an ambiguous one (fall back) to its
    first occurrence (SPEC §4.3).
    """

    at: time = time(17, 0)
    zone: ZoneInfo = field(default=NEW_YORK)

    def __post_init__(self) -> None:
        require_naive_time(self.at, "DailyReset.at")

    def reset_instant(self, local_day: date) -> datetime:
        """UTC instant of the reset on ``local_day`` (a date in :attr:`zone`)."""
        return local_instant(local_day, self.at, self.zone)

    def next_reset(self, at: datetime) -> datetime:
        """The first reset strictly after ``at``."""
        return self._next(at)[1]

    def last_reset(self, at: datetime) -> datetime:
        """The latest reset at or before ``at``."""
        at = require_aware(at, "at")
        day = local_date(at, self.zone) + _ONE_DAY
        # Resets are about a day apart, so one of these four bounds ``at`` from below.
        for offset in range(4):
            instant = self.reset_instant(day - offset * _ONE_DAY)
            if instant <= at:
                return instant
        raise AssertionError(f"no reset found at or before {at.isoformat()}")  # pragma: no cover

    def trading_date(self, at: datetime) -> date:
        """Label of the trading day containing ``at``: the local date of the reset ending it."""
        return self._next(at)[0]

    def resets_between(self, after: datetime, until: datetime) -> list[datetime]:
        """Every reset in ``(after, until]``, oldest first: the resets missed while down.

        Empty when ``until <= after``.
        """
        until = require_aware(until, "until")
        label, instant = self._next(after)
        resets: list[datetime] = []
        while instant <= until:
            resets.append(instant)
            label += _ONE_DAY
            instant = self.reset_instant(label)
        return resets

    def _next(self, at: datetime) -> tuple[date, datetime]:
        """(label, instant) of the first reset strictly after ``at``."""
        at = require_aware(at, "at")
        day = local_date(at, self.zone) - _ONE_DAY
        # A DST gap can push a reset past midnight, so look one day either side.
        for offset in range(4):
            label = day + offset * _ONE_DAY
            instant = self.reset_instant(label)
            if instant > at:
                return label, instant
        raise AssertionError(f"no reset found after {at.isoformat()}")  # pragma: no cover


__all__ = ["NEW_YORK", "DailyReset"]
