"""Rows of the SPEC §5 tables as frozen dataclasses.

Datetimes are aware UTC (stored as :func:`~risk_manager.store.timefmt.to_iso` text);
trading dates are plain dates; money is Decimal, stored as TEXT so it comes back exact.
JSON columns are dicts, written with ``default=str`` (a Decimal becomes a string).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from risk_manager.domain.decisions import LockKind
from risk_manager.domain.trading import OrderSide

#: Who ended a lock (SPEC §5 lockouts.cleared_by).
ClearedBy = Literal["expiry", "reset", "session", "broker", "admin"]
#: Outcome of an enforcement action (SPEC §5 enforcement_log.result).
EnforcementResult = Literal["OK", "FAILED", "SUPERSEDED", "SKIPPED"]


@dataclass(frozen=True, slots=True)
class LockRow:
    """One lock (SPEC §5 lockouts). ``id`` is chosen by the engine's in-memory book.

    ``scope`` is ``"account"`` or a symbol; ``expires_at`` None = until a condition
    (canTrade, session open); ``cleared_at`` None = still active.
    """

    id: int
    account_id: int
    rule_id: str
    scope: str
    kind: LockKind
    reason: str
    created_at: datetime
    expires_at: datetime | None
    cleared_at: datetime | None = None
    cleared_by: ClearedBy | None = None

    @property
    def is_active(self) -> bool:
        """True until the lock is cleared (expiry is checked by the schedule, not here)."""
        return self.cleared_at is None


@dataclass(frozen=True, slots=True)
class TimerRow:
    """A persisted countdown (SPEC §5 timers), e.g. ``grace:<acct>:<contract>``.

    ``account_id`` None = a timer of the whole daemon (e.g. the daily reset).
    """

    name: str
    account_id: int | None
    kind: str
    expires_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DailyPnlRow:
    """One account's P&L for one trading day (SPEC §5 daily_pnl), in USD."""

    account_id: int
    trading_date: date
    realized_gross: Decimal
    fees: Decimal
    realized_net: Decimal
    unrealized: Decimal
    trade_count: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FillRow:
    """One execution (SPEC §5 trade_history); ``pnl`` None = an opening fill.

    ``size`` is unsigned contracts, ``side`` gives the direction.
    """

    fill_id: int
    account_id: int
    order_id: int
    contract_id: str
    symbol: str
    side: OrderSide
    size: int
    price: Decimal
    pnl: Decimal | None
    fees: Decimal
    voided: bool
    is_entry: bool
    daemon_order: bool
    executed_at: datetime
    trading_date: date


@dataclass(frozen=True, slots=True)
class EnforcementRow:
    """One enforcement action and its outcome (SPEC §5 enforcement_log).

    ``id`` None = not yet logged (the store assigns it); ``rule_id`` None = a system
    action; ``latency_ms`` = event receipt to broker answer.
    """

    id: int | None
    ts: datetime
    account_id: int | None
    rule_id: str | None
    action: str
    contract_id: str | None
    quantity: int | None
    reason: str
    result: EnforcementResult
    error: str | None = None
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One inbound event or decision (SPEC §5 event_journal).

    ``seq`` None = not yet written (the store assigns it, in append order); ``raw`` is
    the gateway payload (None for decisions and internal events), ``payload`` the
    normalised form with snake_case names. A row being appended may carry ``payload``
    as a function that builds it: it is called when the row is written (off the hot
    path, on the store's writer thread), so what it reads must not change meanwhile.
    Rows read back always hold the dict.
    """

    seq: int | None
    ts: datetime
    account_id: int | None
    type: str
    raw: dict[str, Any] | None
    payload: dict[str, Any] | Callable[[], dict[str, Any]]

    @property
    def body(self) -> dict[str, Any]:
        """The payload as a dict, built now if it was deferred."""
        return self.payload() if callable(self.payload) else self.payload


__all__ = [
    "ClearedBy",
    "DailyPnlRow",
    "EnforcementResult",
    "EnforcementRow",
    "FillRow",
    "JournalRow",
    "LockRow",
    "TimerRow",
]
