"""The daemon's log: one JSON object per line, size-rotated, secrets never written.

Every record carries time (UTC), level, logger and message, plus whatever ``extra``
fields the caller gave (account, rule, ...). A filter replaces any registered secret (API
keys, tokens) wherever it would appear, so a stray f-string cannot leak one.

The file (``general.logging``): rotated when the next line would take it to ``max_bytes``,
keeping ``backups`` rotated files (``risk_manager.log.1`` newest ... ``.N`` oldest); rotated
files whose last line is older than ``retention_days`` are deleted at start and once a day.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from risk_manager.schedule import Clock, SystemClock

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
MASK = "****"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """Masks every registered secret in the formatted message and its arguments."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return True


REDACT = RedactSecrets()


class DaemonLogFile(logging.handlers.RotatingFileHandler):
    """Size rotation keeping ``backups`` files, plus deletion of rotated files past retention.

    Retention is checked when a record is written, at most once a day (and once at start),
    so no timer thread is needed: a daemon that logs nothing for days deletes nothing, and
    its next line catches up. ``backups=0`` keeps no rotated file: the file starts again
    (the standard handler would reopen it for appending and grow it without bound).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int,
        backups: int,
        retention_days: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._retention = timedelta(days=retention_days) if retention_days else None
        self._clock: Clock = clock or SystemClock()
        self._rotated = re.compile(re.escape(path.name) + r"\.\d+")
        self._next_prune = self._clock.now()
        self._prune_if_due()

    def emit(self, record: logging.LogRecord) -> None:
        self._prune_if_due()
        super().emit(record)

    def doRollover(self) -> None:
        if self.backupCount > 0:
            super().doRollover()
            return
        if self.stream:
            self.stream.close()
        Path(self.baseFilename).write_bytes(b"")
        self.stream = self._open()

    def _prune_if_due(self) -> None:
        now = self._clock.now()
        if self._retention is None or now < self._next_prune:
            return
        self._next_prune = now + timedelta(days=1)
        cutoff = (now - self._retention).timestamp()
        folder = Path(self.baseFilename).parent
        for path in folder.iterdir():
            if self._rotated.fullmatch(path.name):
                # gone already, or held open by a reader (Windows): tomorrow's pass retries
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()


def setup_logging(
    level: str,
    log_file: Path | None,
    *,
    max_bytes: int,
    backups: int,
    retention_days: int | None = None,
    stream: bool = True,
    clock: Clock | None = None,
) -> None:
    """JSON lines to stderr and, when given, to a size-rotated file (see :class:`DaemonLogFile`)."""
    handlers: list[logging.Handler] = []
    if stream:
        handlers.append(logging.StreamHandler(sys.stderr))
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            DaemonLogFile(
                log_file, max_bytes=max_bytes, backups=backups, retention_days=retention_days, clock=clock
            )
        )
    formatter = JsonFormatter()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(REDACT)
        root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("httpx", "httpcore", "websockets", "uvicorn.access"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))  # one line per request is noise


def mask(secret: str | None) -> str:
    """``****abcd``: enough to tell keys apart, never enough to use one."""
    if not secret:
        return ""
    return MASK + secret[-4:] if len(secret) > 8 else MASK


def register_secrets(secrets: Iterable[str | None]) -> None:
    REDACT.add(*secrets)


__all__ = [
    "MASK",
    "DaemonLogFile",
    "JsonFormatter",
    "RedactSecrets",
    "mask",
    "register_secrets",
    "setup_logging",
]
