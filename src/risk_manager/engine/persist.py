"""Writing to the store without ever making enforcement wait for it (SPEC §4.5).

A write that fails (database locked, disk full) is kept in memory, in order, and
retried on the next tick; meanwhile ``store_error`` is set so the status can say
STORE ERROR loudly. The in-memory state (locks included) is enforced regardless.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from risk_manager.store import Store, StoreError

log = logging.getLogger("risk_manager.store")

Write = Callable[[Store], object]


class GuardedStore:
    """Runs writes against a :class:`Store`, queueing them while it fails."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: deque[Write] = deque()
        self.error: str | None = None

    @property
    def store_error(self) -> bool:
        return self.error is not None

    def write(self, write: Write) -> None:
        """Run ``write`` now, or after the writes still waiting (order is kept)."""
        self._pending.append(write)
        self.retry()

    def retry(self) -> None:
        """Drain the queue until it is empty or the store fails again."""
        while self._pending:
            try:
                self._pending[0](self.store)
            except StoreError as exc:
                if self.error is None:
                    log.error("STORE ERROR: %s (%d writes held in memory)", exc, len(self._pending))
                self.error = str(exc)
                return
            self._pending.popleft()
        if self.error is not None:
            log.warning("store recovered; held writes written")
            self.error = None

    def flush(self) -> None:
        self.write(lambda store: store.flush())

    def flush_soon(self) -> None:
        """Commit in the background: the hot path never waits for the disk."""
        self.write(lambda store: store.flush_soon())


__all__ = ["GuardedStore"]
