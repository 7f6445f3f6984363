"""The Broker protocol: everything the engine and the enforcer need from a broker.

Implemented by ``broker/projectx`` (the live gateway over HTTP and SignalR) and
``broker/sim`` (an in-process fake for replay and unit tests). Mutating calls are
never retried here: the enforcement executor is the only retry layer (SPEC §4.1).

Exception tree::

    BrokerError                 any failed broker call (names account and endpoint)
    ├── BrokerRejected          the broker answered and said no (success=false, errorCode)
    ├── BrokerUnavailable       the call never reached the broker (connection refused, 5xx, 429)
    └── OutcomeUnknown          sent, but no answer (timeout): check before sending again
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from risk_manager.domain import AccountInfo, Fill, Order, OrderSide, OrderType, Position


class BrokerError(Exception):
    """A broker call failed. ``endpoint`` is the gateway path or method name."""

    def __init__(self, message: str, *, endpoint: str = "", account_id: int | None = None, code: int = 0):
        self.endpoint = endpoint
        self.account_id = account_id
        self.code = code
        where = f" [{endpoint}" + (f", account {account_id}" if account_id is not None else "") + "]"
        super().__init__(message + (where if endpoint else ""))


class BrokerRejected(BrokerError):
    """The broker refused the call (e.g. cancel on a live or follower account)."""


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or was overloaded; nothing was done."""


class OutcomeUnknown(BrokerError):
    """The request was sent but no answer came back; it may or may not have happened."""


@runtime_checkable
class Broker(Protocol):
    """What Risk Manager needs from a ProjectX-like broker. All calls are async."""

    async def search_accounts(self) -> list[AccountInfo]: ...

    async def search_open_positions(self, account_id: int) -> list[Position]: ...

    async def search_open_orders(self, account_id: int) -> list[Order]:
        """Working orders, bracket children in status Suspended included."""
        ...

    async def search_trades(
        self, account_id: int, start: datetime, end: datetime | None = None
    ) -> list[Fill]: ...

    async def cancel_order(self, account_id: int, order_id: int) -> None: ...

    async def close_position(self, account_id: int, contract_id: str) -> None:
        """Close the whole position at market. Resting stops and targets stay working."""
        ...

    async def partial_close(self, account_id: int, contract_id: str, size: int) -> None: ...

    async def place_order(
        self,
        account_id: int,
        contract_id: str,
        type: OrderType,
        side: OrderSide,
        size: int,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        custom_tag: str | None = None,
    ) -> int:
        """Place an order and return its id."""
        ...

    async def modify_order(
        self,
        account_id: int,
        order_id: int,
        *,
        size: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None: ...


__all__ = ["Broker", "BrokerError", "BrokerRejected", "BrokerUnavailable", "OutcomeUnknown"]
