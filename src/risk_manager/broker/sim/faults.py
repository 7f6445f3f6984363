"""Scripted failures of simulated broker calls, for the enforcement executor's tests.

A fault either stops the call (nothing happens, like a refused connection) or, with
``apply``, lets it take effect and raises anyway (an answer lost on the way back:
the :class:`OutcomeUnknown` case the executor must check before resending).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from risk_manager.broker.base import BrokerError

#: Every Broker method, with the gateway endpoint it stands for (named in errors).
ENDPOINTS: dict[str, str] = {
    "search_accounts": "Account/search",
    "search_open_positions": "Position/searchOpen",
    "search_open_orders": "Order/searchOpen",
    "search_trades": "Trade/search",
    "cancel_order": "Order/cancel",
    "close_position": "Position/closeContract",
    "partial_close": "Position/partialCloseContract",
    "place_order": "Order/place",
    "modify_order": "Order/modify",
}


@dataclass(slots=True)
class Fault:
    """One scripted failure. ``error`` None = a BrokerUnavailable naming the call."""

    remaining: int
    error: BrokerError | None
    apply: bool


class FaultPlan:
    """Queued faults per method, used up in the order they were scripted."""

    def __init__(self) -> None:
        self._queued: dict[str, deque[Fault]] = {}

    def add(self, method: str, times: int, error: BrokerError | None, apply: bool) -> None:
        if method not in ENDPOINTS:
            raise ValueError(f"fail_next: unknown method {method!r} (expected one of {', '.join(ENDPOINTS)})")
        if times < 1:
            raise ValueError(f"fail_next: times must be >= 1 (got {times})")
        self._queued.setdefault(method, deque()).append(Fault(times, error, apply))

    def take(self, method: str) -> Fault | None:
        """The fault for this call of ``method``, if one is scripted; uses it up once."""
        queue = self._queued.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            queue.popleft()
        return fault

    def pending(self, method: str) -> int:
        """How many calls of ``method`` will still fail."""
        return sum(f.remaining for f in self._queued.get(method, ()))


__all__ = ["ENDPOINTS", "Fault", "FaultPlan"]
