"""Who may use the control API: the admin password, session tokens, and the throttle (SPEC §6).

The password is checked against its bcrypt hash (``control.password``); a success gives a
random session token valid for :data:`TOKEN_TTL`. Failed attempts make the next one wait
longer (1 s, 2 s, 4 s ... capped at :data:`MAX_DELAY`); the count and the wait are kept in
the database, so restarting the daemon does not reset them.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from risk_manager.control.password import verify_password
from risk_manager.schedule import Clock
from risk_manager.store.timefmt import from_iso, to_iso

TOKEN_TTL = timedelta(minutes=15)
MAX_DELAY = timedelta(minutes=5)
FAILURES_KEY, RETRY_AT_KEY = "auth_failures", "auth_retry_at"


class MetaStore(Protocol):
    """Where the throttle is kept (the daemon's ``meta`` table)."""

    def get_meta(self, key: str) -> str | None: ...
    def set_meta_many(self, values: dict[str, str]) -> None: ...


class AuthFailed(Exception):
    """Wrong or missing credentials; ``retry_after`` (seconds) when throttled."""

    def __init__(self, message: str, retry_after: float | None = None, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.retry_after, self.throttled = retry_after, throttled


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    expires_at: datetime


class Throttle:
    """A growing wait after each failed password, persisted across restarts."""

    def __init__(self, meta: MetaStore, clock: Clock) -> None:
        self._meta, self._clock = meta, clock

    def wait_left(self) -> float:
        stamp = self._meta.get_meta(RETRY_AT_KEY)
        if not stamp:
            return 0.0
        return max(0.0, (from_iso(stamp) - self._clock.now()).total_seconds())

    def failed(self) -> float:
        """One more failure; returns the seconds until the next attempt is heard."""
        failures = int(self._meta.get_meta(FAILURES_KEY) or "0") + 1
        delay = min(timedelta(seconds=2 ** min(failures - 1, 20)), MAX_DELAY)
        retry_at = self._clock.now() + delay
        self._meta.set_meta_many({FAILURES_KEY: str(failures), RETRY_AT_KEY: to_iso(retry_at)})
        return delay.total_seconds()

    def succeeded(self) -> None:
        if self._meta.get_meta(FAILURES_KEY) not in (None, "0"):
            self._meta.set_meta_many({FAILURES_KEY: "0", RETRY_AT_KEY: ""})


class Gatekeeper:
    """Checks a password or a token for each admin request."""

    def __init__(
        self,
        config_dir: Path,
        throttle: Throttle,
        clock: Clock,
        on_failure: Callable[[str], None] = lambda why: None,
    ) -> None:
        self.config_dir = config_dir
        self._throttle, self._clock, self._on_failure = throttle, clock, on_failure
        self._sessions: dict[str, datetime] = {}

    def check_password(self, password: str) -> None:
        """Raises AuthFailed (throttled, or wrong); a wrong one makes the next wait longer.

        Slow on purpose (bcrypt cost 12): call it off the event loop.
        """
        wait = self._throttle.wait_left()
        if wait > 0:
            raise AuthFailed(f"too many failed attempts: try again in {wait:.0f} s", wait, throttled=True)
        if not verify_password(self.config_dir, password):
            retry_after = self._throttle.failed()
            self._on_failure("wrong admin password")
            raise AuthFailed("wrong password", retry_after=retry_after)
        self._throttle.succeeded()

    def open_session(self, password: str) -> Session:
        self.check_password(password)
        now = self._clock.now()
        self._sessions = {t: at for t, at in self._sessions.items() if at > now}
        token = secrets.token_urlsafe(32)
        expires_at = now + TOKEN_TTL
        self._sessions[token] = expires_at
        return Session(token, expires_at)

    def check_token(self, token: str) -> None:
        now = self._clock.now()
        for known, expires_at in self._sessions.items():
            if hmac.compare_digest(known, token):
                if expires_at <= now:
                    raise AuthFailed("session expired: log in again with the password")
                return
        raise AuthFailed("unknown session token: log in again with the password")

    def end_sessions(self) -> None:
        """A changed password ends every session opened with the old one."""
        self._sessions.clear()


__all__ = ["MAX_DELAY", "TOKEN_TTL", "AuthFailed", "Gatekeeper", "MetaStore", "Session", "Throttle"]
