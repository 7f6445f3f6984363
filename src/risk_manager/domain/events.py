"""The inbound event union: past-tense facts the engine folds into state.

Each event carries ``at`` (when it was received, UTC) and, where it concerns one
account, ``account_id``. Market events (quotes) concern every account holding the
contract, so they carry none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from risk_manager.domain.trading import AccountInfo, Fill, Order, Position, Quote


@dataclass(frozen=True, slots=True)
class AccountUpdated:
    at: datetime
    account: AccountInfo

    @property
    def account_id(self) -> int:
        return self.account.id


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    at: datetime
    order: Order

    @property
    def account_id(self) -> int:
        return self.order.account_id


@dataclass(frozen=True, slots=True)
class PositionUpdated:
    at: datetime
    position: Position

    @property
    def account_id(self) -> int:
        return self.position.account_id


@dataclass(frozen=True, slots=True)
class FillReceived:
    at: datetime
    fill: Fill

    @property
    def account_id(self) -> int:
        return self.fill.account_id


@dataclass(frozen=True, slots=True)
class QuoteReceived:
    at: datetime
    quote: Quote


@dataclass(frozen=True, slots=True)
class Tick:
    """The clock moved on (live: every second; replay: at the next deadline)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Evaluate:
    """Evaluate every rule for one account: startup, reload, resync (SPEC §4.2)."""

    at: datetime
    account_id: int
    why: str


AccountEvent = AccountUpdated | OrderUpdated | PositionUpdated | FillReceived | Evaluate
Event = AccountEvent | QuoteReceived | Tick

__all__ = [
    "AccountEvent",
    "AccountUpdated",
    "Evaluate",
    "Event",
    "FillReceived",
    "OrderUpdated",
    "PositionUpdated",
    "QuoteReceived",
    "Tick",
]
