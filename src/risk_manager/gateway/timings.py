"""Timestamps for latency benchmarks (``GET /sim/timings``): observation only, no behaviour.

The simulator stamps, with ``time.perf_counter_ns()`` of its own process (so both ends of
a measurement come from one clock), every ``GatewayUserPosition`` and ``GatewayUserTrade``
it publishes (just before it is queued to the hub connections) and every enforcement
request (``Position/closeContract``, ``Position/partialCloseContract``, ``Order/cancel``)
when the REST handler receives it. It also counts the quotes it publishes. Both logs are
bounded, so a long-running simulator does not grow.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

#: The REST calls the daemon enforces with.
ENFORCEMENT_ENDPOINTS = frozenset({"Position/closeContract", "Position/partialCloseContract", "Order/cancel"})
STAMPED_EVENTS = frozenset({"GatewayUserPosition", "GatewayUserTrade"})
MAX_ENTRIES = 100_000


class Timings:
    """Bounded logs of ``(perf_counter_ns, ...)`` tuples, read by ``/sim/timings``."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.events: deque[tuple[int, str, Any, Any]] = deque(maxlen=max_entries)
        """``(ns, type, accountId, size)``."""
        self.requests: deque[tuple[int, str, Any]] = deque(maxlen=max_entries)
        """``(ns, endpoint, accountId)``."""
        self.quotes = 0

    def event(self, type: str, data: dict[str, Any]) -> None:
        if type in STAMPED_EVENTS:
            self.events.append((time.perf_counter_ns(), type, data.get("accountId"), data.get("size")))

    def request(self, arrived_ns: int, endpoint: str, account_id: Any) -> None:
        if endpoint in ENFORCEMENT_ENDPOINTS:
            self.requests.append((arrived_ns, endpoint, account_id))

    def state(self) -> dict[str, Any]:
        return {
            "clock": "perf_counter_ns",
            "now": time.perf_counter_ns(),
            "quotes": self.quotes,
            "events": [
                {"t": t, "type": type, "accountId": account, "size": size}
                for t, type, account, size in self.events
            ],
            "requests": [
                {"t": t, "endpoint": endpoint, "accountId": account} for t, endpoint, account in self.requests
            ],
        }


__all__ = ["ENFORCEMENT_ENDPOINTS", "STAMPED_EVENTS", "Timings"]
