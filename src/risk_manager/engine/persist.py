"""Writing to the store without ever making enforcement wait for it (SPEC §4.5).

A write that fails (database locked by another process, disk full) is kept in memory,
in order, and the in-memory state (locks included) is enforced regardless. Meanwhile
``error`` is set so the status can say STORE ERROR loudly, and new writes only join
the queue: the queue is retried from the tick (at once, then 1, 2, 5 and every 10 s),
so a broken store costs the event loop one short attempt now and then instead of a
wait on every write. A write may wait at most
``BUSY_TIMEOUT_MS`` for another process's write lock (SQLite's default here is 5 s).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from risk_manager.store import Store, StoreError

log = logging.getLogger("risk_manager.store")

Write = Callable[[Store], object]
#: how long one write may wait for a foreign write lock (SPEC §4.1: first broker call <= 500 ms)
BUSY_TIMEOUT_MS = 200
#: seconds from the n-th failure in a row to the next attempt (the last one repeats)
RETRY_DELAYS = (0.0, 1.0, 2.0, 5.0, 10.0)


class GuardedStore:
    """Runs writes against a :class:`Store`, queueing them while it fails.

    ``monotonic`` times the retries (leave as default unless testing).
    """

    def __init__(self, store: Store, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        if not store.read_only:
            store.set_busy_timeout(BUSY_TIMEOUT_MS)
        self._pending: deque[Write] = deque()
        self._monotonic = monotonic
        self._failures = 0
        self._next_attempt = 0.0
        self.error: str | None = None
        """The last store failure while writes are held; None when everything is written."""

    @property
    def store_error(self) -> bool:
        return self.error is not None

    @property
    def held(self) -> int:
        """Writes waiting in memory for the store to recover."""
        return len(self._pending)

    def write(self, write: Write) -> None:
        """Run ``write`` now, or queue it behind the writes still waiting (order is kept)."""
        self._pending.append(write)
        if self.error is None:
            self.retry()

    def retry(self, *, force: bool = False) -> None:
        """Drain the queue until it is empty or the store fails again.

        While the store is failing, an attempt is made only when its back-off has passed
        (or ``force``): enforcement must not pay for a broken disk on every event.
        """
        if self.error is not None and not force and self._monotonic() < self._next_attempt:
            return
        while self._pending:
            try:
                self._pending[0](self.store)
            except StoreError as exc:
                self._failed(exc)
                return
            self._pending.popleft()
        if self.error is not None:
            log.warning("store recovered; held writes written")
            self.error = None
            self._failures = 0

    def _failed(self, exc: StoreError) -> None:
        if self.error is None:
            log.error(
                "STORE ERROR: %s (%d writes held in memory; enforcement goes on)", exc, len(self._pending)
            )
        self.error = str(exc)
        delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS) - 1)]
        self._failures += 1
        self._next_attempt = self._monotonic() + delay

    def flush(self) -> None:
        """Commit everything now if the store lets us (a reset, a shutdown): one attempt even
        while it is failing, since nothing after this may get another chance."""
        self._pending.append(lambda store: store.flush())
        self.retry(force=True)

    def flush_soon(self) -> None:
        """Commit in the background: the hot path never waits for the disk."""
        self.write(lambda store: store.flush_soon())


__all__ = ["BUSY_TIMEOUT_MS", "GuardedStore"]
