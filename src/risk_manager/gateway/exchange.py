"""The gateway simulator's matching engine: :class:`SimBroker` plus what the live service adds.

SimBroker already keeps accounts, positions, orders and trades, fills at the last price
with the gateway's profitAndLoss and fees, triggers resting limits and stops on quotes
and answers each endpoint's error codes. :class:`Exchange` subclasses it for the parts
a network client sees and the replay broker does not need:

* a market order is announced Pending (status 6) before it fills (PROJECTX.md §9), and a
  fill that moves the balance is followed by a ``GatewayUserAccount`` event;
* Order/place validation of the whole request body: unknown account (1), unknown (8) or
  rolled (9) contract, account with canTrade false (4), closed market (5), order type,
  side, size, tick grid, duplicate customTag and brackets (2);
* limit and stop orders that are marketable when placed or modified fill at once at the
  last price, instead of waiting for the next quote;
* OCO brackets (PROJECTX.md §6) on accounts switched to Auto OCO mode: the entry and two
  children in status 8 Suspended; on the entry fill the children become Open at
  fill ± ticks × tickSize; the first child to fill cancels the other; cancelling an
  unfilled entry cancels its children. Children carry ``parentOrderId`` and the take
  profit ``linkedOrderId`` = the stop loss id;
* read access to the books for the REST searches (SimBroker's Broker protocol returns
  domain objects without the gateway's position ids or non-working orders).

Everything runs on the gateway's event loop, one call at a time; events go to ``emit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from risk_manager.broker.base import BrokerRejected
from risk_manager.broker.projectx.wire import (
    Bracket,
    OrderModifyRequest,
    OrderPlaceRequest,
    account_to_wire,
    fill_to_wire,
    order_to_wire,
    position_to_wire,
)
from risk_manager.broker.sim import AccountBook, Emit, SimBroker
from risk_manager.domain import (
    AccountInfo,
    ContractCatalog,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)
from risk_manager.gateway.catalog import Catalog
from risk_manager.gateway.market import Market

T = TypeVar("T")

# Order/place errorCodes (PROJECTX.md §2.1).
PLACE_REJECTED = 2
PLACE_ACCOUNT_VIOLATION = 4
PLACE_OUTSIDE_HOURS = 5
PLACE_CONTRACT_NOT_FOUND = 8
PLACE_CONTRACT_NOT_ACTIVE = 9
MODIFY_REJECTED = 3
CLOSE_REJECTED = 5
PARTIAL_REJECTED = 6
SEARCH_ACCOUNT_NOT_FOUND = 1

#: The live message for brackets on an account in Position Brackets mode (PROJECTX.md §2.1, tail guessed).
POSITION_BRACKETS_MESSAGE = (
    "Brackets cannot be used with Position Brackets. Switch the account to Auto OCO Brackets."
)

#: First ids handed out: live order ids are above 3·10⁹ (PROJECTX.md §2), so int32 bugs show.
FIRST_ORDER_ID = 3_000_000_001
FIRST_TRADE_ID = 3_500_000_001
FIRST_POSITION_ID = 100_000_001

#: Fee per contract per side by symbol (a guess at TopstepX's round-turn fees, halved).
DEFAULT_FEES: Mapping[str, Decimal] = {
    **dict.fromkeys(("MNQ", "MES", "M2K", "MYM"), Decimal("0.37")),
    **dict.fromkeys(("NQ", "ES", "RTY", "YM"), Decimal("1.40")),
    "MCL": Decimal("0.52"),
    "CL": Decimal("1.52"),
    "MGC": Decimal("0.62"),
    "GC": Decimal("1.62"),
}


def is_marketable(order: Order, last: Decimal) -> bool:
    """Whether a resting limit or stop would trade at ``last`` right now."""
    buy = order.side is OrderSide.BUY
    if order.type is OrderType.STOP and order.stop_price is not None:
        return last >= order.stop_price if buy else last <= order.stop_price
    if order.type is OrderType.LIMIT and order.limit_price is not None:
        return last <= order.limit_price if buy else last >= order.limit_price
    return False


@dataclass(frozen=True, slots=True)
class _Child:
    """A bracket leg waiting for its entry to fill."""

    order_id: int
    ticks: int


class Exchange(SimBroker):
    """SimBroker with the live service's extras (see the module docstring).

    ``market`` gives the price a market order fills at and whether the market is open;
    ``clock`` stamps every order, fill and position (aware UTC).
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        catalog: Catalog,
        market: Market,
        emit: Emit,
        fees: Mapping[str, Decimal] | None = None,
    ) -> None:
        super().__init__(
            clock,
            ContractCatalog(),
            fees=DEFAULT_FEES if fees is None else fees,
            emit=emit,
            first_order_id=FIRST_ORDER_ID,
            first_trade_id=FIRST_TRADE_ID,
            first_position_id=FIRST_POSITION_ID,
        )
        self._listings = catalog
        self._market = market
        self.auto_oco: set[int] = set()
        """Accounts in Auto OCO Brackets mode (brackets accepted); the rest are in Position Brackets."""
        self._brackets: dict[int, tuple[_Child, ...]] = {}  # entry id -> legs not yet activated
        self._siblings: dict[int, int] = {}  # bracket leg id -> the other leg (OCO)
        self._linked: dict[int, int] = {}  # take-profit id -> stop-loss id (linkedOrderId)

    # -- reads for the REST searches --------------------------------------------------------

    def book(self, account_id: int) -> AccountBook | None:
        return self._books.get(account_id)

    def accounts(self) -> list[AccountInfo]:
        return self._accounts()

    def account_book(self, account_id: int, endpoint: str) -> AccountBook:
        """The account's book, or the searches' AccountNotFound (errorCode 1)."""
        book = self._books.get(account_id)
        if book is None:
            raise BrokerRejected(
                f"AccountNotFound: account {account_id}",
                endpoint=endpoint,
                account_id=account_id,
                code=SEARCH_ACCOUNT_NOT_FOUND,
            )
        return book

    def order_payload(self, order: Order) -> dict[str, Any]:
        """An order as REST and the hub show it, with the bracket's ``linkedOrderId``."""
        return self._with_link(order_to_wire(order))

    def position_payloads(self, book: AccountBook) -> list[dict[str, Any]]:
        return [position_to_wire(p, book.position_ids[p.contract_id]) for p in book.open_positions()]

    def trades_between(self, book: AccountBook, start: datetime, end: datetime | None) -> list[Fill]:
        fills = sorted(book.trades.values(), key=lambda f: (f.at, f.id))
        return [f for f in fills if start <= f.at and (end is None or f.at <= end)]

    def contracts_in_play(self) -> set[str]:
        """Contracts with an open position or a working order on any account."""
        held = {cid for book in self._books.values() for cid, p in book.positions.items() if p.size}
        working = {
            o.contract_id for book in self._books.values() for o in book.orders.values() if o.is_working
        }
        return held | working

    def last_price(self, contract_id: str) -> Decimal | None:
        """The simulated market's last price; SimBroker's own memory for contracts it lacks."""
        price = self._market.last_price(contract_id)
        return price if price is not None else super().last_price(contract_id)

    # -- mutations with the gateway's validation -------------------------------------------

    def place(self, request: OrderPlaceRequest) -> int:
        """Order/place: the new order's id, or BrokerRejected with the endpoint's errorCode."""
        book = self._book("place_order", request.accountId)
        listing = self._listings.find(request.contractId)
        if listing is None:
            raise self._refuse(request, PLACE_CONTRACT_NOT_FOUND, f"ContractNotFound: {request.contractId}")
        if not listing.active:
            raise self._refuse(
                request, PLACE_CONTRACT_NOT_ACTIVE, f"ContractNotActive: {request.contractId} has rolled"
            )
        if not book.info.can_trade:
            message = f"AccountViolation: account {request.accountId} cannot trade (canTrade false)"
            raise self._refuse(request, PLACE_ACCOUNT_VIOLATION, message)
        if self._market.closed:
            raise self._refuse(request, PLACE_OUTSIDE_HOURS, "OutsideTradingHours: the market is closed")
        order = self._order_of(request, listing.product.tick.tick_size)
        brackets = (request.stopLossBracket, request.takeProfitBracket)
        if brackets == (None, None):
            return self._place(order)
        if request.accountId not in self.auto_oco:
            raise self._refuse(request, PLACE_REJECTED, POSITION_BRACKETS_MESSAGE)
        self._check_brackets(request, order.side)
        return self._place_bracketed(order, *brackets)

    def modify(self, request: OrderModifyRequest) -> None:
        """Order/modify on top of SimBroker's: no trailing stops, prices on the tick grid, then match."""
        book = self._book("modify_order", request.accountId)
        order = book.orders.get(request.orderId)
        if request.trailPrice is not None:
            raise self._rejected(
                "modify_order",
                request.accountId,
                MODIFY_REJECTED,
                "Rejected: trailing stops are not simulated",
            )
        if order is not None:
            tick = self._tick(order.contract_id).tick_size
            for name, price in (("limitPrice", request.limitPrice), ("stopPrice", request.stopPrice)):
                if price is not None and price % tick != 0:
                    message = f"Rejected: {name} {price} is not a multiple of the tick size {tick}"
                    raise self._rejected("modify_order", request.accountId, MODIFY_REJECTED, message)
        changes: dict[str, Any] = {
            "size": request.size,
            "limit_price": request.limitPrice,
            "stop_price": request.stopPrice,
        }
        self._modify(request.accountId, request.orderId, {k: v for k, v in changes.items() if v is not None})
        self._match_now(request.accountId, request.orderId)

    def close(self, account_id: int, contract_id: str, size: int | None) -> None:
        """closeContract (``size`` None) or partialCloseContract; a closed market refuses both."""
        method = "close_position" if size is None else "partial_close"
        self._book(method, account_id)
        if self._market.closed:
            code = CLOSE_REJECTED if size is None else PARTIAL_REJECTED
            raise self._rejected(method, account_id, code, "OrderRejected: the market is closed")
        self._close(account_id, contract_id, size)

    # -- SimBroker hooks --------------------------------------------------------------------

    def _call(self, method: str, account_id: int | None, args: dict[str, object], run: Callable[[], T]) -> T:
        # A long-running gateway must not keep every call: SimBroker's record is for unit tests.
        try:
            return super()._call(method, account_id, args, run)
        finally:
            self.calls.clear()

    def _send(self, type: str, data: dict[str, Any]) -> None:
        super()._send(type, self._with_link(data) if type == "GatewayUserOrder" else data)

    def _place(self, order: Order) -> int:
        order_id = super()._place(order)
        self._match_now(order.account_id, order_id)
        return order_id

    def _fill(self, book: AccountBook, order: Order, price: Decimal) -> None:
        """Announce a market order Pending first; after the fill, the balance and the brackets."""
        if order.id not in book.orders:
            pending = replace(order, status=OrderStatus.PENDING)
            book.orders[order.id] = pending
            self._send("GatewayUserOrder", order_to_wire(pending))
        balance = book.info.balance
        super()._fill(book, order, price)
        if book.info.balance != balance:
            self._send("GatewayUserAccount", account_to_wire(book.info))
        self._activate_children(book, order.id, price)
        sibling = self._siblings.pop(order.id, None)
        if sibling is not None:
            self._siblings.pop(sibling, None)
            leg = book.orders.get(sibling)
            if leg is not None and leg.is_working:
                self._cancel(book.info.id, sibling)

    def _cancel(self, account_id: int, order_id: int) -> None:
        super()._cancel(account_id, order_id)
        book = self._books[account_id]
        for child in self._brackets.pop(order_id, ()):
            leg = book.orders.get(child.order_id)
            if leg is not None and leg.is_working:
                super()._cancel(account_id, child.order_id)

    # -- helpers ----------------------------------------------------------------------------

    def _refuse(self, request: OrderPlaceRequest, code: int, message: str) -> BrokerRejected:
        return self._rejected("place_order", request.accountId, code, message)

    def _with_link(self, data: dict[str, Any]) -> dict[str, Any]:
        linked = self._linked.get(data.get("id", 0))
        return data if linked is None else {**data, "linkedOrderId": linked}

    def _order_of(self, request: OrderPlaceRequest, tick_size: Decimal) -> Order:
        """The domain order of a request, or errorCode 2 for what the simulator cannot take."""
        try:
            kind, side = OrderType(request.type), OrderSide(request.side)
        except ValueError:
            message = f"OrderRejected: unknown type {request.type} or side {request.side}"
            raise self._refuse(request, PLACE_REJECTED, message) from None
        if kind is OrderType.TRAILING_STOP or request.trailPrice is not None:
            raise self._refuse(request, PLACE_REJECTED, "OrderRejected: trailing stops are not simulated")
        limit = request.limitPrice if kind is OrderType.LIMIT else None
        stop = request.stopPrice if kind is OrderType.STOP else None
        for name, price in (("limitPrice", limit), ("stopPrice", stop)):
            if price is not None and (price <= 0 or price % tick_size != 0):
                message = (
                    f"OrderRejected: {name} {price} is not a positive multiple of the tick size {tick_size}"
                )
                raise self._refuse(request, PLACE_REJECTED, message)
        return Order(
            id=0,
            account_id=request.accountId,
            contract_id=request.contractId,
            type=kind,
            side=side,
            size=request.size,
            status=OrderStatus.OPEN,
            created_at=self._clock(),
            limit_price=limit,
            stop_price=stop,
            custom_tag=request.customTag,
        )

    def _check_brackets(self, request: OrderPlaceRequest, side: OrderSide) -> None:
        """Stop-loss legs are Stop orders, take-profit legs Limit orders; ticks are signed from the fill."""
        legs: Iterable[tuple[str, Bracket | None, OrderType, int]] = (
            ("stopLossBracket", request.stopLossBracket, OrderType.STOP, -side.sign),
            ("takeProfitBracket", request.takeProfitBracket, OrderType.LIMIT, side.sign),
        )
        for name, bracket, kind, sign in legs:
            if bracket is None:
                continue
            if bracket.type != kind:
                message = f"OrderRejected: {name}.type must be {int(kind)} ({kind.name}), got {bracket.type}"
                raise self._refuse(request, PLACE_REJECTED, message)
            if bracket.ticks * sign <= 0 or abs(bracket.ticks) > 1000:
                direction = "negative" if sign < 0 else "positive"
                message = (
                    f"OrderRejected: {name}.ticks must be {direction} (1..1000 ticks) for a "
                    f"{side.name.lower()} entry, got {bracket.ticks}"
                )
                raise self._refuse(request, PLACE_REJECTED, message)

    def _place_bracketed(self, order: Order, stop_loss: Bracket | None, take_profit: Bracket | None) -> int:
        """Entry plus Suspended legs, all announced at once; a market entry then fills."""
        book = self._book("place_order", order.account_id)
        self._check_placeable(order, book)
        price = self.last_price(order.contract_id)
        market = order.type is OrderType.MARKET
        if market and price is None:
            raise self._place_rejected(order, f"no price for {order.contract_id}")
        entry = replace(
            order, id=self._order_ids.take(), status=OrderStatus.PENDING if market else order.status
        )
        book.orders[entry.id] = entry
        if not market:
            self._resting[entry.id] = entry.account_id
        children: list[_Child] = []
        legs: list[Order] = []
        for bracket, suffix in ((stop_loss, "-SL"), (take_profit, "-TP")):
            if bracket is None:
                continue
            leg = Order(
                id=self._order_ids.take(),
                account_id=entry.account_id,
                contract_id=entry.contract_id,
                type=OrderType(bracket.type),
                side=OrderSide.closing(entry.side.sign),
                size=entry.size,
                status=OrderStatus.SUSPENDED,
                created_at=entry.created_at,
                custom_tag=entry.custom_tag + suffix if entry.custom_tag else None,
                parent_order_id=entry.id,
            )
            book.orders[leg.id] = leg
            children.append(_Child(leg.id, bracket.ticks))
            legs.append(leg)
        self._brackets[entry.id] = tuple(children)
        if len(legs) == 2:
            stop_id, target_id = legs[0].id, legs[1].id
            self._linked[target_id] = stop_id
            self._siblings[stop_id], self._siblings[target_id] = target_id, stop_id
        for announced in (entry, *legs):
            self._send("GatewayUserOrder", order_to_wire(announced))
        if market and price is not None:
            self._fill(book, entry, price)
        else:
            self._match_now(entry.account_id, entry.id)
        return entry.id

    def _activate_children(self, book: AccountBook, entry_id: int, fill_price: Decimal) -> None:
        """The entry filled: its Suspended legs become Open at fill price ± ticks."""
        children = self._brackets.pop(entry_id, ())
        now = self._clock()
        for child in children:
            leg = book.orders.get(child.order_id)
            if leg is None or leg.status is not OrderStatus.SUSPENDED:
                continue
            price = fill_price + child.ticks * self._tick(leg.contract_id).tick_size
            if leg.type is OrderType.STOP:
                opened = replace(leg, status=OrderStatus.OPEN, stop_price=price)
            else:
                opened = replace(leg, status=OrderStatus.OPEN, limit_price=price)
            book.orders[leg.id] = opened
            self._resting[leg.id] = leg.account_id
            self._send("GatewayUserOrder", order_to_wire(opened, updated_at=now))

    def _match_now(self, account_id: int, order_id: int) -> None:
        """Fill a resting order at the last price if it is marketable now (placed or moved through)."""
        book = self._books.get(account_id)
        order = book.orders.get(order_id) if book is not None else None
        if book is None or order is None or order.status is not OrderStatus.OPEN:
            return
        last = self.last_price(order.contract_id)
        if last is not None and is_marketable(order, last):
            self._fill(book, order, last)

    def state(self) -> dict[str, Any]:
        """Every account's REST view, all orders and fills included (for ``/sim/state``)."""
        accounts = []
        for info in self._accounts():
            book = self._books[info.id]
            accounts.append(
                {
                    **account_to_wire(info),
                    "autoOco": info.id in self.auto_oco,
                    "positions": self.position_payloads(book),
                    "orders": [self.order_payload(o) for _, o in sorted(book.orders.items())],
                    "trades": [fill_to_wire(f) for f in sorted(book.trades.values(), key=lambda f: f.id)],
                }
            )
        return {"accounts": accounts}


__all__ = ["DEFAULT_FEES", "FIRST_ORDER_ID", "POSITION_BRACKETS_MESSAGE", "Exchange", "is_marketable"]
