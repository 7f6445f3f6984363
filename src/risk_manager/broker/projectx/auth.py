"""The gateway session: API-key login, refresh before expiry, re-login when told to.

PROJECTX.md §1: ``Auth/loginKey`` gives a JWT good for 24 h; ``Auth/validate`` (bearer,
no body) returns ``newToken``. We refresh 5 minutes before the JWT's ``exp`` (read
without verifying the signature: we only need to know when to refresh), re-log in when
validate fails, and re-log in at once after a 401 or a hub's ``GatewayLogout``.

The same token serves REST and both hubs. Hubs carry it in their URL, so every change
of token is announced to listeners (:meth:`TokenSession.add_listener`), which reconnect.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr, ValidationError

from risk_manager.broker.base import BrokerError, BrokerRejected, BrokerUnavailable
from risk_manager.broker.projectx.errors import LoginRejected, rejection_text
from risk_manager.broker.projectx.wire import LoginKeyRequest, LoginResponse, ValidateResponse
from risk_manager.schedule.clock import Clock

log = logging.getLogger("risk_manager.broker.projectx")

LOGIN = "Auth/loginKey"
VALIDATE = "Auth/validate"
#: Refresh this long before the token's ``exp`` (the SDK's habit, PROJECTX.md §1).
REFRESH_BEFORE = timedelta(minutes=5)
#: Lifetime assumed for a token whose ``exp`` cannot be read (the documented 24 h).
DEFAULT_LIFETIME = timedelta(hours=24)
#: When validate cannot reach the gateway, try again this much later (the token still works).
VALIDATE_RETRY = timedelta(seconds=30)

#: ``send(endpoint, body, token)``: one auth request, its JSON answer; raises BrokerError.
AuthSend = Callable[[str, dict[str, Any] | None, str | None], Awaitable[dict[str, Any]]]
TokenListener = Callable[[str], None]


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT as UTC, or ``None`` if ``token`` is not a readable JWT.

    The signature is not checked: the gateway checks it, we only schedule a refresh.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class TokenSession:
    """Holds the session token; every request asks it for a valid one.

    ``token()`` is cheap while the token is fresh; when the refresh is due it validates
    (or logs in) under a lock, so concurrent callers trigger one login, not ten.
    """

    def __init__(self, username: str, api_key: SecretStr, send: AuthSend, clock: Clock) -> None:
        self._username = username
        self._api_key = api_key
        self._send = send
        self._clock = clock
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._refresh_at: datetime | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[TokenListener] = []
        self._retired: list[str] = []  # earlier tokens, still masked in messages
        self.logins = 0
        """Successful logins so far (tests and the status screen)."""

    # -- queries ---------------------------------------------------------------------------

    @property
    def expires_at(self) -> datetime | None:
        """When the current token expires (UTC), ``None`` before the first login."""
        return self._expires_at

    @property
    def refresh_at(self) -> datetime | None:
        """When the next refresh is due (UTC), ``None`` before the first login."""
        return self._refresh_at

    def secrets(self) -> tuple[str, ...]:
        """Every string that must never be printed: the API key and all tokens seen."""
        current = (self._token,) if self._token else ()
        return (self._api_key.get_secret_value(), *current, *self._retired[-4:])

    def add_listener(self, listener: TokenListener) -> None:
        """Call ``listener(new_token)`` whenever the token changes (hubs reconnect with it)."""
        self._listeners.append(listener)

    # -- getting a token -------------------------------------------------------------------

    async def token(self) -> str:
        """A token good for at least a few minutes: refreshed or renewed first if due."""
        token = self._token
        if token is not None and self._refresh_at is not None and self._clock.now() < self._refresh_at:
            return token
        async with self._lock:
            return await self._fresh()

    async def relogin(self) -> str:
        """Log in again whatever the state of the current token (``GatewayLogout``)."""
        async with self._lock:
            return await self._login()

    async def reauthenticate(self, rejected: str | None) -> str:
        """After a 401 with ``rejected``: log in again, unless another call already did."""
        async with self._lock:
            if self._token is not None and self._token != rejected:
                return self._token
            return await self._login()

    async def _fresh(self) -> str:
        now = self._clock.now()
        token = self._token
        if token is None or self._expires_at is None or self._refresh_at is None:
            return await self._login()
        if now < self._refresh_at:
            return token  # another caller refreshed while we waited for the lock
        if now >= self._expires_at:
            return await self._login()  # validate would only answer ExpiredToken
        try:
            renewed = await self._validate(token)
        except BrokerUnavailable as exc:
            # The token still works until it expires: keep it and try again shortly.
            log.warning(
                "token refresh: gateway unreachable (%s); retrying in %ss", exc, VALIDATE_RETRY.seconds
            )
            self._refresh_at = min(now + VALIDATE_RETRY, self._expires_at)
            return token
        if renewed is None:
            return await self._login()
        self._install(renewed, now)
        log.info("session token refreshed; next refresh at %s", _iso(self._refresh_at))
        return renewed

    async def _validate(self, token: str) -> str | None:
        """The renewed token, or ``None`` if the gateway refused to renew this one."""
        try:
            payload = await self._send(VALIDATE, None, token)
        except BrokerRejected as exc:
            log.info("token refresh refused (%s): logging in again", exc)
            return None
        try:
            answer = ValidateResponse.model_validate(payload)
        except ValidationError:
            log.warning("token refresh: unreadable answer: logging in again")
            return None
        if not answer.success or not answer.newToken:
            reason = rejection_text(VALIDATE, answer.errorCode, answer.errorMessage)
            log.info("token refresh %s: logging in again", reason if not answer.success else "gave no token")
            return None
        return answer.newToken

    async def _login(self) -> str:
        body = LoginKeyRequest(userName=self._username, apiKey=self._api_key.get_secret_value()).body()
        payload = await self._send(LOGIN, body, None)
        try:
            answer = LoginResponse.model_validate(payload)
        except ValidationError:
            raise BrokerError("unreadable login answer", endpoint=LOGIN) from None
        if not answer.success:
            text = rejection_text(LOGIN, answer.errorCode, answer.errorMessage)
            raise LoginRejected(f"login {text}", endpoint=LOGIN, code=answer.errorCode)
        if not answer.token:
            raise BrokerError("login succeeded but returned no token", endpoint=LOGIN)
        self._install(answer.token, self._clock.now())
        self.logins += 1
        log.info("logged in; token valid until %s", _iso(self._expires_at))
        return answer.token

    def _install(self, token: str, now: datetime) -> None:
        previous = self._token
        expires = jwt_expiry(token) or now + DEFAULT_LIFETIME
        lifetime = expires - now
        # A short-lived token (tests, a simulator) is refreshed at half-life instead.
        early = REFRESH_BEFORE if lifetime > 2 * REFRESH_BEFORE else lifetime / 2
        self._token, self._expires_at, self._refresh_at = token, expires, expires - early
        if previous is not None and previous != token:
            self._retired.append(previous)
            for listener in list(self._listeners):
                try:
                    listener(token)
                except Exception:  # a broken listener must not break the login itself
                    log.exception("token listener %r failed", listener)


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else "?"


__all__ = [
    "DEFAULT_LIFETIME",
    "LOGIN",
    "REFRESH_BEFORE",
    "VALIDATE",
    "AuthSend",
    "TokenListener",
    "TokenSession",
    "jwt_expiry",
]
