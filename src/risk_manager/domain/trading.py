"""Normalised trading objects: accounts, orders, positions, fills and quotes.

Only ``broker/projectx`` knows the gateway's field names; everything past it speaks
these frozen types. Times are timezone-aware UTC, money and prices are Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum


class OrderType(IntEnum):
    UNKNOWN = 0
    LIMIT = 1
    MARKET = 2
    STOP_LIMIT = 3
    STOP = 4
    TRAILING_STOP = 5
    JOIN_BID = 6
    JOIN_ASK = 7


class OrderSide(IntEnum):
    BUY = 0
    SELL = 1

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the direction a fill moves a position."""
        return 1 if self is OrderSide.BUY else -1

    @staticmethod
    def closing(size: int) -> OrderSide:
        """The side that reduces a position of signed ``size``."""
        return OrderSide.SELL if size > 0 else OrderSide.BUY


class OrderStatus(IntEnum):
    NONE = 0
    OPEN = 1
    FILLED = 2
    CANCELLED = 3
    EXPIRED = 4
    REJECTED = 5
    PENDING = 6
    PENDING_CANCELLATION = 7
    SUSPENDED = 8


#: Statuses SPEC §1 calls *working*: cancels and lockout mode cover all of them.
WORKING_STATUSES = frozenset({OrderStatus.OPEN, OrderStatus.PENDING, OrderStatus.SUSPENDED})
STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})

#: Prefix of the customTag the daemon puts on orders it places (SPEC §1).
DAEMON_TAG_PREFIX = "RM-"


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    name: str
    balance: Decimal
    can_trade: bool
    simulated: bool = True


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    account_id: int
    contract_id: str
    type: OrderType
    side: OrderSide
    size: int
    status: OrderStatus
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    fill_volume: int = 0
    filled_price: Decimal | None = None
    custom_tag: str | None = None
    parent_order_id: int | None = None

    @property
    def is_working(self) -> bool:
        return self.status in WORKING_STATUSES

    @property
    def is_stop(self) -> bool:
        """A stop-type order with a trigger price (a RULE-008 stop candidate)."""
        return self.type in STOP_TYPES and (self.stop_price is not None or self.trail_price is not None)


@dataclass(frozen=True, slots=True)
class Position:
    """Net position in one contract; ``size`` is signed (+long, -short), 0 = flat."""

    account_id: int
    contract_id: str
    size: int
    avg_price: Decimal
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``pnl`` is the broker's profitAndLoss, ``None`` on an opening fill."""

    id: int
    account_id: int
    order_id: int
    contract_id: str
    side: OrderSide
    size: int
    price: Decimal
    pnl: Decimal | None
    fees: Decimal
    voided: bool
    at: datetime

    @property
    def signed_size(self) -> int:
        return self.size * self.side.sign


@dataclass(frozen=True, slots=True)
class Quote:
    """Latest prices of one contract; missing fields are ``None`` (partial updates)."""

    contract_id: str
    last: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    at: datetime


__all__ = [
    "DAEMON_TAG_PREFIX",
    "STOP_TYPES",
    "WORKING_STATUSES",
    "AccountInfo",
    "Fill",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "Quote",
]
