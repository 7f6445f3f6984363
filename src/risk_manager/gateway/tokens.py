"""Session tokens: JWT-shaped, HMAC-signed, 24 h lifetime (PROJECTX.md §1).

A token is ``header.payload.signature`` in base64url, the payload JSON carrying ``exp``
(and ``iat``, ``nbf``, ``sub``, ``jti``), so clients that decode ``exp`` to refresh early
work unchanged. The gateway remembers every token it issued: :meth:`TokenIssuer.expire_all`
makes them all expired at once (``/sim/expire-tokens``), and a token from another run
(another secret) is invalid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum

#: The live service's session lifetime (PROJECTX.md §1).
TOKEN_LIFETIME = timedelta(hours=24)


class TokenState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_claims(token: str) -> dict[str, object]:
    """The decoded payload of a token (no signature check): what a client reads ``exp`` from."""
    claims = json.loads(_unb64(token.split(".")[1]))
    if not isinstance(claims, dict):
        raise ValueError("token payload is not a JSON object")
    return claims


class TokenIssuer:
    """Issues and checks session tokens against ``clock`` (aware UTC datetimes)."""

    def __init__(self, clock: Callable[[], datetime], lifetime: timedelta = TOKEN_LIFETIME) -> None:
        self._clock = clock
        self.lifetime = lifetime
        self._secret = secrets.token_bytes(32)
        self._expiry: dict[str, datetime] = {}  # jti -> when it stops being accepted

    def issue(self, user: str) -> str:
        now = self._clock()
        expires = now + self.lifetime
        jti = secrets.token_hex(8)
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "sub": user,
            "name": user,
            "jti": jti,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        signature = hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        self._expiry[jti] = expires
        return signing_input + "." + _b64(signature)

    def check(self, token: str) -> TokenState:
        """VALID, EXPIRED (ours, past its exp or expired by /sim) or INVALID (anything else)."""
        parts = token.split(".")
        if len(parts) != 3:
            return TokenState.INVALID
        signing_input = parts[0] + "." + parts[1]
        expected = hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return TokenState.INVALID
            jti = token_claims(token).get("jti")
        except ValueError:  # bad base64 or JSON (json.JSONDecodeError is a ValueError)
            return TokenState.INVALID
        expires = self._expiry.get(jti) if isinstance(jti, str) else None
        if expires is None:
            return TokenState.INVALID
        return TokenState.VALID if self._clock() < expires else TokenState.EXPIRED

    def expire_all(self) -> int:
        """Expire every token issued so far, now; returns how many were still valid."""
        now = self._clock()
        live = [jti for jti, expires in self._expiry.items() if expires > now]
        for jti in live:
            self._expiry[jti] = now
        return len(live)

    def counts(self) -> dict[str, int]:
        now = self._clock()
        valid = sum(1 for expires in self._expiry.values() if expires > now)
        return {"issued": len(self._expiry), "valid": valid}


__all__ = ["TOKEN_LIFETIME", "TokenIssuer", "TokenState", "token_claims"]
