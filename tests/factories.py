"""Small builders for the pure-core tests: states, positions, orders, fills, quotes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from risk_manager.domain import (
    ContractCatalog,
    Fill,
    FillReceived,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Position,
    PositionUpdated,
    Quote,
    QuoteReceived,
)
from risk_manager.ledger import AccountState, Market

ACCOUNT = 101
NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 New York
DAY_END = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 17:00 New York
MNQ, ES, MES, NQ = "CON.F.US.MNQ.H26", "CON.F.US.EP.H26", "CON.F.US.MES.H26", "CON.F.US.ENQ.H26"


def state(
    *positions: tuple[str, int, str], marks: dict[str, str] | None = None, **fields: object
) -> AccountState:
    """An account holding ``(contract, signed size, avg price)`` positions, with optional marks."""
    st = AccountState(ACCOUNT, ContractCatalog(), Market())
    st.trading_date, st.day_ends_at = NOON.date(), DAY_END
    for contract_id, size, avg in positions:
        st.apply_position(Position(ACCOUNT, contract_id, size, Decimal(avg), NOON))
    for contract_id, price in (marks or {}).items():
        st.market.apply(Quote(contract_id, Decimal(price), None, None, NOON))
    for name, value in fields.items():
        setattr(st, name, Decimal(str(value)) if isinstance(value, int | float | str) else value)
    return st


def position_event(contract_id: str, size: int, avg: str = "21000", at: datetime = NOON) -> PositionUpdated:
    return PositionUpdated(at, Position(ACCOUNT, contract_id, size, Decimal(avg), at))


def order(
    order_id: int,
    contract_id: str,
    side: OrderSide,
    size: int,
    *,
    type: OrderType = OrderType.LIMIT,
    status: OrderStatus = OrderStatus.OPEN,
    stop: str | None = None,
    price: str | None = "21000",
    at: datetime = NOON,
) -> Order:
    return Order(
        order_id,
        ACCOUNT,
        contract_id,
        type,
        side,
        size,
        status,
        at,
        limit_price=Decimal(price) if price and type is OrderType.LIMIT else None,
        stop_price=Decimal(stop) if stop else None,
    )


def order_event(o: Order) -> OrderUpdated:
    return OrderUpdated(o.created_at, o)


def fill(
    fill_id: int,
    contract_id: str,
    side: OrderSide,
    size: int,
    price: str,
    *,
    pnl: str | None = None,
    fees: str = "0",
    order_id: int | None = None,
    voided: bool = False,
    at: datetime = NOON,
) -> Fill:
    return Fill(
        fill_id,
        ACCOUNT,
        order_id if order_id is not None else fill_id,
        contract_id,
        side,
        size,
        Decimal(price),
        Decimal(pnl) if pnl is not None else None,
        Decimal(fees),
        voided,
        at,
    )


def fill_event(f: Fill) -> FillReceived:
    return FillReceived(f.at, f)


def quote_event(contract_id: str, last: str, at: datetime = NOON) -> QuoteReceived:
    return QuoteReceived(at, Quote(contract_id, Decimal(last), None, None, at))
