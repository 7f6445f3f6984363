"""The daemon's log: one JSON object per line, size-rotated, secrets never written.

Every record carries time (UTC), level, logger and message, plus whatever ``extra``
fields the caller gave (account, rule, ...). A filter replaces any registered secret (API
keys, tokens) wherever it would appear, so a stray f-string cannot leak one.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def setup_logging(
    level: str, log_file: Path | None, *, max_bytes: int, backups: int, stream: bool = True
) -> None:
    """JSON lines to stderr and, when given, to a size-rotated file."""
    handlers: list[logging.Handler] = []
    if stream:
        handlers.append(logging.StreamHandler(sys.stderr))
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
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


__all__ = ["MASK", "JsonFormatter", "RedactSecrets", "mask", "register_secrets", "setup_logging"]
