"""Scripted trouble for the gateway simulator: failed calls, slow calls and the rate limit.

Endpoints are named as in PROJECTX.md (``Order/place``, ``Auth/loginKey``) or as hub
paths (``hubs/user``, ``hubs/market/negotiate``), case-insensitively, with or without a
leading ``/api/``. A failure answers with an HTTP status (500, 429, 503...) or, with
status 200, a business error envelope; with ``apply`` the call takes effect first and
its answer is lost (the client's "outcome unknown" case).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass


def endpoint_key(name: str) -> str:
    """``/api/Order/place`` -> ``order/place``: the lookup key of an endpoint."""
    key = name.strip().strip("/").lower()
    return key.removeprefix("api/")


@dataclass(slots=True)
class Failure:
    """One scripted failure, used ``remaining`` more times."""

    remaining: int
    status: int
    apply: bool = False
    error_code: int | None = None
    error_message: str | None = None


@dataclass(slots=True)
class Delay:
    remaining: int
    seconds: float


class FaultScript:
    """Failures and delays queued per endpoint, used up in the order they were scripted."""

    def __init__(self, endpoints: Iterable[str]) -> None:
        self._names = {endpoint_key(name): name for name in endpoints}
        self._failures: dict[str, deque[Failure]] = {}
        self._delays: dict[str, deque[Delay]] = {}

    def known(self, endpoint: str) -> str:
        """The key of a known endpoint; raises ValueError naming the ones allowed."""
        key = endpoint_key(endpoint)
        if key not in self._names:
            allowed = ", ".join(sorted(self._names.values()))
            raise ValueError(f"unknown endpoint {endpoint!r} (expected one of {allowed})")
        return key

    def fail(self, endpoint: str, failure: Failure) -> None:
        if failure.remaining < 1:
            raise ValueError(f"times must be >= 1 (got {failure.remaining})")
        if not 200 <= failure.status <= 599:
            raise ValueError(f"status must be an HTTP status 200..599 (got {failure.status})")
        if failure.status == 200 and failure.error_code is None:
            raise ValueError("status 200 scripts a business error: give its errorCode")
        self._failures.setdefault(self.known(endpoint), deque()).append(failure)

    def delay(self, endpoint: str, delay: Delay) -> None:
        if delay.remaining < 1:
            raise ValueError(f"times must be >= 1 (got {delay.remaining})")
        if not 0 <= delay.seconds <= 600:
            raise ValueError(f"seconds must be 0..600 (got {delay.seconds})")
        self._delays.setdefault(self.known(endpoint), deque()).append(delay)

    def take_failure(self, endpoint: str) -> Failure | None:
        """The failure for this call, if one is scripted (uses it up once)."""
        queue = self._failures.get(endpoint_key(endpoint))
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining == 0:
            queue.popleft()
        return failure

    def take_delay(self, endpoint: str) -> float:
        """Seconds to hold this call before handling it (0 when none is scripted)."""
        queue = self._delays.get(endpoint_key(endpoint))
        if not queue:
            return 0.0
        delay = queue[0]
        delay.remaining -= 1
        if delay.remaining == 0:
            queue.popleft()
        return delay.seconds

    def clear(self) -> None:
        self._failures.clear()
        self._delays.clear()

    def pending(self) -> dict[str, object]:
        """What is still scripted, by endpoint name (for ``/sim/state``)."""
        return {
            "fail": {self._names[k]: [asdict(f) for f in q] for k, q in self._failures.items() if q},
            "delay": {self._names[k]: [asdict(d) for d in q] for k, q in self._delays.items() if q},
        }


class RateLimiter:
    """A sliding window: at most ``limit`` requests in any ``window`` seconds (PROJECTX.md §3)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._times: deque[float] = deque()

    def admit(self) -> bool:
        """Count one request; False when it is over the budget (it is not counted then)."""
        now = self._clock()
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def configure(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"limit must be >= 1 and window > 0 (got {limit}, {window})")
        self.limit, self.window = limit, window
        self._times.clear()

    def used(self) -> int:
        now = self._clock()
        return sum(1 for t in self._times if t > now - self.window)


__all__ = ["Delay", "Failure", "FaultScript", "RateLimiter", "endpoint_key"]
