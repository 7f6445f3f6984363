"""The gateway's request budget: ~200 requests per 60 s, with room kept for enforcement.

PROJECTX.md §3: all endpoints but History/retrieveBars share 200 requests / 60 s; above
that the gateway answers HTTP 429. Its window type and scope are unknown, so the limiter
is a *sliding* window (at most ``limit`` requests in any ``window`` seconds), which also
stays inside any fixed-window count.

Two priorities:

* :attr:`Priority.ENFORCEMENT`: mutations, the searches the executor makes to check them,
  and logins. They may use the whole budget and go before any waiting poll.
* :attr:`Priority.POLL`: resyncs, contract look-ups, other reads. They stop at
  ``read_limit`` (150 of 200), so a flatten always finds 50 requests of headroom.

After a 429 every request waits (``Retry-After`` if the gateway sent one, else 2, 4, 8 ...
60 s for consecutive 429s). An enforcement request that would wait longer than
``max_enforcement_wait`` fails at once with :class:`BudgetExhausted` rather than hang:
the executor's own retries (SPEC §4.1) and the 5 s reconciler try again.

Time is injected (``monotonic``, ``sleep``) so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum

Sleep = Callable[[float], Awaitable[None]]

LIMIT = 200
WINDOW_SECONDS = 60.0
READ_LIMIT = 150
#: Longest back-off a 429 without Retry-After earns (s); a longer Retry-After is capped too.
MAX_BACKOFF = 60.0
MAX_RETRY_AFTER = 300.0


class Priority(IntEnum):
    """Who is asking; the higher value goes first."""

    POLL = 0
    ENFORCEMENT = 1


class BudgetExhausted(Exception):
    """An enforcement request would have to wait ``wait`` seconds; nothing was sent."""

    def __init__(self, wait: float, reason: str) -> None:
        self.wait = wait
        super().__init__(f"request budget exhausted ({reason}); next request possible in {wait:.1f} s")


@dataclass(order=True)
class _Ticket:
    rank: tuple[int, int]  # (-priority, arrival): the smallest rank is served first
    priority: Priority = field(compare=False)


class RequestBudget:
    """Sliding-window limiter shared by every request of one API key.

    ``acquire(priority)`` returns when a request may be sent and counts it. Waiters are
    served strictly by priority, then in arrival order.
    """

    def __init__(
        self,
        limit: int = LIMIT,
        window: float = WINDOW_SECONDS,
        read_limit: int = READ_LIMIT,
        *,
        max_enforcement_wait: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 0 < read_limit <= limit:
            raise ValueError(f"read_limit must be 1..limit ({limit}) (got {read_limit})")
        if window <= 0:
            raise ValueError(f"window must be > 0 s (got {window})")
        self.limit = limit
        self.window = window
        self.read_limit = read_limit
        self.max_enforcement_wait = max_enforcement_wait
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._rate_limited = 0  # consecutive 429s
        self._waiting: list[_Ticket] = []
        self._arrivals = itertools.count()
        self._changed = asyncio.Event()

    # -- queries ---------------------------------------------------------------------------

    def used(self) -> int:
        """Requests counted in the current window."""
        self._expire(self._monotonic())
        return len(self._sent)

    def blocked_for(self) -> float:
        """Seconds left of a 429 back-off (0 when none)."""
        return max(0.0, self._blocked_until - self._monotonic())

    def delay(self, priority: Priority) -> float:
        """Seconds before a request of ``priority`` may go, ignoring other waiters (0 = now)."""
        now = self._monotonic()
        self._expire(now)
        cap = self.limit if priority is Priority.ENFORCEMENT else self.read_limit
        window_wait = 0.0
        if len(self._sent) >= cap:
            # the request that must leave the window to bring the count below the cap
            window_wait = self._sent[len(self._sent) - cap] + self.window - now
        return max(0.0, self._blocked_until - now, window_wait)

    # -- acquiring -------------------------------------------------------------------------

    async def acquire(self, priority: Priority) -> None:
        """Wait for a slot and take it.

        Raises :class:`BudgetExhausted` for an enforcement request that would wait longer
        than ``max_enforcement_wait``; polls wait as long as it takes.
        """
        ticket = _Ticket((-int(priority), next(self._arrivals)), priority)
        self._waiting.append(ticket)
        self._wake()  # a more urgent ticket may now be first
        try:
            while True:
                if min(self._waiting) is not ticket:
                    await self._nap(None)
                    continue
                wait = self.delay(priority)
                if wait <= 0:
                    self._sent.append(self._monotonic())
                    return
                if priority is Priority.ENFORCEMENT and wait > self.max_enforcement_wait:
                    reason = "backing off after HTTP 429" if self.blocked_for() else "window full"
                    raise BudgetExhausted(wait, reason)
                await self._nap(wait)
        finally:
            self._waiting.remove(ticket)
            self._wake()

    def rate_limited(self, retry_after: float | None) -> float:
        """Record a 429; every request now waits. Returns the back-off in seconds."""
        self._rate_limited += 1
        if retry_after is not None and retry_after >= 0:
            backoff = min(retry_after, MAX_RETRY_AFTER)
        else:
            backoff = min(2.0**self._rate_limited, MAX_BACKOFF)
        self._blocked_until = max(self._blocked_until, self._monotonic() + backoff)
        self._wake()
        return backoff

    def succeeded(self) -> None:
        """A request went through: the next 429 starts the back-off from the bottom again."""
        self._rate_limited = 0

    # -- internals -------------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _nap(self, seconds: float | None) -> None:
        """Sleep ``seconds`` (None: indefinitely), or less if the queue or back-off changes."""
        changed = asyncio.ensure_future(self._changed.wait())
        if seconds is None:
            try:
                await changed
            finally:
                changed.cancel()
            return
        timer = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({changed, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            timer.cancel()


__all__ = [
    "LIMIT",
    "MAX_BACKOFF",
    "READ_LIMIT",
    "WINDOW_SECONDS",
    "BudgetExhausted",
    "Priority",
    "RequestBudget",
    "Sleep",
]
