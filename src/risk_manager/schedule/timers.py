"""Persisted countdowns: RULE-008 grace periods and other deadlines (SPEC §1 "Timer", §5).

A timer is not a restriction: when it expires the engine runs its callback (close an
unprotected position, ...). Like the lockout book this is pure; the engine stores
timers by name (SPEC §5 ``timers`` table) and restores them at startup, so a grace
period running when the daemon stopped still ends when it should.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from risk_manager.schedule._wallclock import require_aware


def grace_timer_name(account_id: int, contract_id: str) -> str:
    """Name of the RULE-008 grace timer of one position (SPEC §5: ``grace:<acct>:<contract>``)."""
    return f"grace:{account_id}:{contract_id}"


@dataclass(frozen=True, slots=True)
class Timer:
    """A named deadline. ``expires_at`` is aware (UTC); ``payload`` is what the callback needs.

    ``account_id`` None = a timer of the whole daemon rather than one account.
    """

    name: str
    account_id: int | None
    kind: str
    expires_at: datetime
    payload: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.expires_at, f"timer {self.name} expires_at")


class TimerBook:
    """Running timers by name; at most one per name."""

    def __init__(self) -> None:
        self._timers: dict[str, Timer] = {}

    def start(self, timer: Timer, *, replace: bool = False) -> bool:
        """Start ``timer``; returns whether it was set.

        An existing timer of that name is kept unless ``replace``: a position that
        stays unprotected keeps its first grace deadline (RULE-008).
        """
        if timer.name in self._timers and not replace:
            return False
        self._timers[timer.name] = timer
        return True

    def cancel(self, name: str) -> Timer | None:
        """Stop timer ``name``; returns it, or None if it wasn't running."""
        return self._timers.pop(name, None)

    def get(self, name: str) -> Timer | None:
        return self._timers.get(name)

    def due(self, now: datetime) -> list[Timer]:
        """Remove and return the timers with ``expires_at <= now``, earliest first."""
        now = require_aware(now, "now")
        expired = [timer for timer in self._timers.values() if timer.expires_at <= now]
        for timer in expired:
            del self._timers[timer.name]
        return _in_expiry_order(expired)

    def restore(self, timers: Iterable[Timer]) -> None:
        """Load the store's timers at startup; those already due fire on the next :meth:`due`."""
        for timer in timers:
            self._timers[timer.name] = timer

    def next_deadline(self) -> datetime | None:
        """Earliest ``expires_at`` of the running timers, None when none runs."""
        return min((timer.expires_at for timer in self._timers.values()), default=None)

    def all(self) -> list[Timer]:
        """Running timers, earliest first."""
        return _in_expiry_order(self._timers.values())

    def __len__(self) -> int:
        return len(self._timers)


def _in_expiry_order(timers: Iterable[Timer]) -> list[Timer]:
    return sorted(timers, key=lambda timer: (timer.expires_at, timer.name))


__all__ = ["Timer", "TimerBook", "grace_timer_name"]
