"""Exceptions raised by the store.

::

    StoreError            any sqlite3 or file error, re-raised ``from`` the original
     ├── StoreLocked      another connection holds the write lock past busy_timeout
     └── StoreFull        the disk (or the database's page limit) is full
    AlreadyRunning        another daemon holds ``<data_dir>/daemon.lock``

The engine keeps enforcing when the store fails (SPEC §4.5) and shows STORE ERROR;
the two subclasses let it say why without parsing messages.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

# Primary result codes (https://sqlite.org/rescode.html); extended codes keep them in the low byte.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_FULL = 13


class StoreError(Exception):
    """A store operation failed; ``operation`` and ``path`` say which and where."""

    def __init__(self, message: str, *, operation: str, path: Path) -> None:
        super().__init__(message)
        self.operation = operation
        self.path = path


class StoreLocked(StoreError):
    """The database stayed locked by another connection for longer than busy_timeout."""


class StoreFull(StoreError):
    """SQLITE_FULL: no room left on the disk (or past ``max_page_count``)."""


class AlreadyRunning(Exception):
    """Another process holds the daemon lock of this data dir (SPEC §5: exit 1)."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        shown = "unknown" if pid is None else str(pid)
        super().__init__(
            f"another Risk Manager daemon is already running for data dir {data_dir} (pid {shown}); "
            "stop it first or use another --data-dir"
        )
        self.data_dir = data_dir
        self.pid = pid


def store_error(exc: sqlite3.Error | OSError, operation: str, path: Path) -> StoreError:
    """Classify ``exc`` into the most specific StoreError; the caller raises it ``from exc``."""
    message = f"{operation} failed on {path}: {exc}"
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in str(exc):
        return StoreLocked(message, operation=operation, path=path)
    if primary == _SQLITE_FULL or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return StoreFull(message, operation=operation, path=path)
    return StoreError(message, operation=operation, path=path)


__all__ = ["AlreadyRunning", "StoreError", "StoreFull", "StoreLocked", "store_error"]
