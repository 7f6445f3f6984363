"""The one clock: the core gets ``now`` from a :class:`Clock`, never from the system.

Only :class:`SystemClock` reads the wall clock (ARCHITECTURE "One clock"). Replay,
scenarios and tests drive a :class:`ManualClock` instead, so the same code path
runs live and from a file, and time moves only when a test says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from risk_manager.schedule._wallclock import require_aware


@runtime_checkable
class Clock(Protocol):
    """Source of the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The live clock: the only place in the system that reads the operating system's time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, replay, scenarios).

    ``advance`` only moves forward, so a test cannot rewind time by accident;
    ``set`` jumps anywhere, backwards included, when a test means it.
    """

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "ManualClock start")

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (aware; may be earlier than now). Returns the new now, in UTC."""
        self._now = require_aware(instant, "ManualClock.set instant")
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``, e.g. ``advance(minutes=5)``; returns the new now.

        Raises ``ValueError`` on a negative step (use :meth:`set` to go back) and
        ``TypeError`` on a keyword ``timedelta`` does not take.
        """
        step = timedelta(**delta)
        if step < timedelta(0):
            raise ValueError(f"ManualClock.advance cannot move backwards (got {step}); use set() to go back")
        self._now += step
        return self._now


__all__ = ["Clock", "ManualClock", "SystemClock"]
