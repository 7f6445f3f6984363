"""One daemon per data dir: an exclusive OS lock on ``<data_dir>/daemon.lock`` (SPEC §5).

The OS drops the lock when the process dies, even on kill -9, so a crash never leaves
a stale lock behind; the pid in the file is only there to name the holder.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

from risk_manager.store.errors import AlreadyRunning

LOCK_FILENAME = "daemon.lock"

if sys.platform == "win32":
    import msvcrt

    # msvcrt locks byte ranges that others can then not read: lock one byte past the pid.
    _WINDOWS_LOCK_OFFSET = 1024

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLOCK):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class DaemonLock:
    """Context manager holding the data dir's daemon lock; raises AlreadyRunning if taken.

    The lock belongs to the open file, so a second DaemonLock on the same dir fails
    even inside the same process. Other OS errors (unwritable dir) propagate as OSError.
    """

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file, ``<data_dir>/daemon.lock``."""
        return self._data_dir / LOCK_FILENAME

    @property
    def is_held(self) -> bool:
        """True between a successful :meth:`acquire` and :meth:`release`."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock without waiting and write our pid into the file."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this DaemonLock")
        self._data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise AlreadyRunning(self._data_dir, _read_pid(fd))
            _write_pid(fd, str(os.getpid()))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Clear the pid and let go of the lock; releasing twice is harmless."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _write_pid(fd, "")
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    """The holder's pid, or None while it has not written it yet."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None


def _write_pid(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    if text:
        os.write(fd, f"{text}\n".encode("ascii"))


__all__ = ["LOCK_FILENAME", "DaemonLock"]
