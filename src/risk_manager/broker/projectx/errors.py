"""How gateway failures become broker errors, and how secrets stay out of messages.

The exception tree is :mod:`risk_manager.broker.base`'s; this module adds the gateway's
per-endpoint errorCode names (PROJECTX.md §1, §2.1: codes are an enum *per endpoint*,
never shared) and one subclass::

    BrokerError
    ├── BrokerRejected          success=false: ``code`` is the endpoint's errorCode
    │   ├── LoginRejected       Auth/loginKey said no: wrong user name or key, no API subscription
    │   └── HttpRejected        an HTTP 4xx other than 401/429 (``status``; ``code`` stays 0)
    ├── BrokerUnavailable       nothing was done: refused connection, 5xx, repeated 401
    │   └── RateLimited         HTTP 429, or our own budget would make the call wait too long
    └── OutcomeUnknown          a mutation was sent and no answer came back (timeout, 504)

Messages name what failed and the gateway's own words; :class:`BrokerError` appends
``[endpoint, account N]``. The API key and session tokens never appear: anything that
might echo a URL or a server message goes through :func:`redact`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from risk_manager.broker.base import BrokerRejected, BrokerUnavailable

_SEARCH_CODES: Mapping[int, str] = {1: "AccountNotFound"}
_CANCEL_CODES: Mapping[int, str] = {
    1: "AccountNotFound",
    2: "OrderNotFound",
    3: "Rejected",
    4: "Pending",
    5: "Unknown",
    6: "AccountRejected",
}

#: errorCode names per endpoint (PROJECTX.md §1, §2.1). Unlisted codes print as numbers.
ERROR_CODES: Mapping[str, Mapping[int, str]] = {
    "Auth/loginKey": {
        3: "InvalidCredentials",
        7: "AgreementsNotSigned",
        9: "ApiSubscriptionNotFound",
        10: "ApiKeyAuthenticationDisabled",
    },
    "Auth/validate": {1: "InvalidSession", 2: "SessionNotFound", 3: "ExpiredToken"},
    "Account/search": {},
    "Contract/search": {},
    "Contract/searchById": {1: "ContractNotFound"},
    "Order/search": _SEARCH_CODES,
    "Order/searchOpen": _SEARCH_CODES,
    "Order/v2/query": _SEARCH_CODES,
    "Position/searchOpen": _SEARCH_CODES,
    "Trade/search": _SEARCH_CODES,
    "Order/place": {
        1: "AccountNotFound",
        2: "OrderRejected",
        3: "InsufficientFunds",
        4: "AccountViolation",
        5: "OutsideTradingHours",
        6: "OrderPending",
        7: "Unknown",
        8: "ContractNotFound",
        9: "ContractNotActive",
        10: "AccountRejected",
    },
    "Order/cancel": _CANCEL_CODES,
    "Order/modify": {**_CANCEL_CODES, 7: "ContractNotFound"},
    "Position/closeContract": {
        1: "AccountNotFound",
        2: "PositionNotFound",
        3: "ContractNotFound",
        4: "ContractNotActive",
        5: "OrderRejected",
        6: "OrderPending",
        7: "Unknown",
        8: "AccountRejected",
    },
    "Position/partialCloseContract": {
        1: "AccountNotFound",
        2: "PositionNotFound",
        3: "ContractNotFound",
        4: "ContractNotActive",
        5: "InvalidCloseSize",
        6: "OrderRejected",
        7: "OrderPending",
        8: "Unknown",
        9: "AccountRejected",
    },
}


class LoginRejected(BrokerRejected):
    """``Auth/loginKey`` refused the credentials (``code`` is its errorCode). Retrying won't help."""


class HttpRejected(BrokerRejected):
    """The gateway refused the request at the HTTP level (400, 403, 404 ...): ``status``."""

    def __init__(self, message: str, *, status: int, endpoint: str = "", account_id: int | None = None):
        self.status = status
        super().__init__(message, endpoint=endpoint, account_id=account_id)


class RateLimited(BrokerUnavailable):
    """HTTP 429, or the request budget would hold the call too long. Nothing was sent or done.

    ``retry_in`` is the back-off in seconds; ``from_budget`` is True when the gateway was
    not even asked (our own limiter refused to wait that long).
    """

    def __init__(
        self,
        message: str,
        *,
        retry_in: float,
        from_budget: bool = False,
        endpoint: str = "",
        account_id: int | None = None,
    ):
        self.retry_in = retry_in
        self.from_budget = from_budget
        super().__init__(message, endpoint=endpoint, account_id=account_id)


def code_name(endpoint: str, code: int) -> str | None:
    """The gateway's name of ``code`` on ``endpoint`` (``None`` when the docs don't list it)."""
    return ERROR_CODES.get(endpoint, {}).get(code)


def rejection_text(endpoint: str, code: int, message: str | None) -> str:
    """``rejected: errorCode 6 AccountRejected: Live accounts not supported``."""
    name = code_name(endpoint, code)
    label = f"errorCode {code}" + (f" {name}" if name else "")
    return f"rejected: {label}: {message}" if message else f"rejected: {label} (no message)"


_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s'\"]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
MASK = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every access token in a URL, bearer token and given secret masked."""
    text = _BEARER.sub(r"\1" + MASK, _TOKEN_IN_URL.sub(r"\1" + MASK, text))
    for secret in secrets:
        if secret and len(secret) >= 4:  # masking "a" everywhere would hide everything
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks tokens in the records of a third-party logger (websockets logs request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own handling
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


__all__ = [
    "ERROR_CODES",
    "MASK",
    "HttpRejected",
    "LoginRejected",
    "RateLimited",
    "RedactingFilter",
    "code_name",
    "redact",
    "rejection_text",
]
