"""SimBroker: an in-process broker that executes the engine's calls as the gateway would.

Used by ``risk_manager replay`` and unit tests (ARCHITECTURE.md, "Scenario and replay
format"). Market orders and closes fill at once at the last quote's lastPrice (no quote:
the last fill price on that contract); each fill produces the gateway's three events,
in its order: GatewayUserOrder (status 2 Filled), GatewayUserTrade (profitAndLoss null
when opening), GatewayUserPosition (size 0, type 0 when flat). Events go to ``emit`` as
bare payloads, exactly what a scenario file holds. ``observe`` keeps the REST view in
step with the scenario's own events, so a poll or resync sees what the gateway would show.

Resting limit and stop orders placed through :meth:`SimBroker.place_order` trigger when an
observed quote's lastPrice reaches them and fill at their own price. Orders the scenario
describes are never triggered here: their fills are the scenario's to tell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from risk_manager.broker.base import BrokerError, BrokerRejected, BrokerUnavailable
from risk_manager.broker.projectx.wire import (
    EVENT_TYPES,
    account_to_wire,
    fill_to_wire,
    order_to_wire,
    parse_event,
    position_id,
    position_to_wire,
)
from risk_manager.broker.sim.book import AccountBook, FillOutcome, apply_fill
from risk_manager.broker.sim.faults import ENDPOINTS, FaultPlan
from risk_manager.domain import (
    ZERO,
    AccountInfo,
    AccountUpdated,
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
    QuoteReceived,
    TickSpec,
    to_decimal,
)

#: ``emit(type, data, contract_id)``: a bare gateway payload; contract_id is None for user events.
Emit = Callable[[str, dict[str, Any], str | None], None]
T = TypeVar("T")

# Gateway errorCodes, per endpoint (PROJECTX.md §2.1: never shared across endpoints).
ACCOUNT_NOT_FOUND = 1
PLACE_REJECTED, PLACE_CONTRACT_NOT_FOUND = 2, 8
ORDER_NOT_FOUND, MODIFY_REJECTED, CANCEL_ACCOUNT_REJECTED = 2, 3, 6
POSITION_NOT_FOUND, CLOSE_CONTRACT_NOT_FOUND = 2, 3
CLOSE_ORDER_REJECTED, PARTIAL_INVALID_SIZE, PARTIAL_ORDER_REJECTED = 5, 5, 6


class _Ids:
    """Monotonic ids that also skip past every id seen in the scenario, so none collide."""

    def __init__(self, first: int) -> None:
        self._next = first

    def take(self) -> int:
        self._next += 1
        return self._next - 1

    def seen(self, used: int) -> None:
        self._next = max(self._next, used + 1)


def _trigger_price(order: Order, last: Decimal) -> Decimal | None:
    """The fill price of a resting order that ``last`` reaches, or None if it does not."""
    buy = order.side is OrderSide.BUY
    if order.type is OrderType.STOP and order.stop_price is not None:
        hit = last >= order.stop_price if buy else last <= order.stop_price
        return order.stop_price if hit else None
    if order.type is OrderType.LIMIT and order.limit_price is not None:
        hit = last <= order.limit_price if buy else last >= order.limit_price
        return order.limit_price if hit else None
    return None


class SimBroker:
    """A gateway in a box, implementing the :class:`~risk_manager.broker.base.Broker` protocol.

    ``clock`` gives the simulated now (UTC) for every timestamp it writes. ``fees`` is the
    fee per contract filled, by symbol (``sim.fees`` of a scenario). With ``execute`` False
    (replaying a live journal, whose events already hold the broker's answers) mutating
    calls are recorded and nothing is emitted or changed.

    Test hooks: ``calls`` records every call with its arguments; :meth:`fail_next` scripts
    failures; ``refuse_cancels`` makes cancels fail as on live and follower accounts.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        catalog: ContractCatalog,
        fees: Mapping[str, Decimal] | None = None,
        emit: Emit | None = None,
        *,
        execute: bool = True,
        first_order_id: int = 1000,
        first_trade_id: int = 5000,
        first_position_id: int = 1,
    ) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []
        """Every call made, in order: (method name, arguments by name)."""
        self.execute = execute
        self.refuse_cancels = False
        """Cancels fail with errorCode 6 "Live accounts not supported" (PROJECTX.md §7)."""
        self._clock = clock
        self._catalog = catalog
        self._fees = {symbol.upper(): to_decimal(fee) for symbol, fee in (fees or {}).items()}
        self._emit = emit
        self._faults = FaultPlan()
        self._books: dict[int, AccountBook] = {}
        self._last_price: dict[str, Decimal] = {}
        self._last_fill_price: dict[str, Decimal] = {}
        self._resting: dict[int, int] = {}  # order id -> account id, placed here, may trigger
        self._order_ids = _Ids(first_order_id)
        self._trade_ids = _Ids(first_trade_id)
        self._position_ids = _Ids(first_position_id)

    # -- set-up and scenario feed ---------------------------------------------------------

    def add_account(self, info: AccountInfo) -> None:
        """Make an account known (what Account/search returns); replaces its info if known."""
        book = self._books.get(info.id)
        if book is None:
            self._books[info.id] = AccountBook(info)
        else:
            book.info = info

    def update_account(self, info: AccountInfo) -> None:
        """Change an account as the broker would (e.g. canTrade false) and emit GatewayUserAccount."""
        self.add_account(info)
        self._send("GatewayUserAccount", account_to_wire(info))

    def load_snapshot(
        self, positions: Iterable[Position] = (), orders: Iterable[Order] = (), trades: Iterable[Fill] = ()
    ) -> None:
        """What REST returns at start-up (a scenario's ``snapshot``); accounts must be added first."""
        for position in positions:
            self._book_of(position.account_id).set_position(position, self._position_ids.take())
        for order in orders:
            self._keep_order(order)
        for fill in sorted(trades, key=lambda f: (f.at, f.id)):
            self._keep_fill(fill)

    def observe(self, type: str, data: object, contract_id: str | None = None) -> None:
        """Keep the REST view in step with one scenario event (a bare or wrapped gateway payload).

        A position update sets the position, an order update upserts the order, a trade is
        recorded once per id, a quote sets the last price (and may trigger resting orders
        placed here), an account update sets the account. Types other than the user and
        quote events (GatewayTrade, GatewayLogout, ...) are ignored. Raises ``WireError``
        for a malformed payload and ``ValueError`` for an account never added.
        """
        if type not in EVENT_TYPES:
            return
        event = parse_event(type, data, self._clock(), contract_id)
        if isinstance(event, AccountUpdated):
            self.add_account(event.account)
        elif isinstance(event, OrderUpdated):
            self._keep_order(event.order)
        elif isinstance(event, FillReceived):
            self._keep_fill(event.fill)
        elif isinstance(event, PositionUpdated):
            gateway_id = position_id(data)
            self._position_ids.seen(gateway_id)
            self._book_of(event.position.account_id).set_position(event.position, gateway_id)
        elif isinstance(event, QuoteReceived) and event.quote.last is not None:
            self._last_price[event.quote.contract_id] = event.quote.last
            if self.execute:
                self._trigger(event.quote.contract_id, event.quote.last)

    def fail_next(
        self, method: str, times: int = 1, error: BrokerError | None = None, *, apply: bool = False
    ) -> None:
        """Make the next ``times`` calls of ``method`` raise ``error`` (default BrokerUnavailable).

        With ``apply`` the call takes effect (events emitted, state changed) and raises
        anyway: pass an ``OutcomeUnknown`` to script a lost answer.
        """
        self._faults.add(method, times, error, apply)

    def last_price(self, contract_id: str) -> Decimal | None:
        """The price a market order on ``contract_id`` would fill at now, None if none is known."""
        price = self._last_price.get(contract_id)
        return price if price is not None else self._last_fill_price.get(contract_id)

    # -- Broker protocol: reads -----------------------------------------------------------

    async def search_accounts(self) -> list[AccountInfo]:
        return self._call("search_accounts", None, {}, self._accounts)

    async def search_open_positions(self, account_id: int) -> list[Position]:
        def read() -> list[Position]:
            return self._book("search_open_positions", account_id).open_positions()

        return self._call("search_open_positions", account_id, {"account_id": account_id}, read)

    async def search_open_orders(self, account_id: int) -> list[Order]:
        """Working orders: Open, Pending and Suspended bracket children."""

        def read() -> list[Order]:
            return self._book("search_open_orders", account_id).working_orders()

        return self._call("search_open_orders", account_id, {"account_id": account_id}, read)

    async def search_trades(
        self, account_id: int, start: datetime, end: datetime | None = None
    ) -> list[Fill]:
        """Fills with ``start <= creationTimestamp <= end``, voided ones included (as the gateway)."""

        def read() -> list[Fill]:
            fills = self._book("search_trades", account_id).trades.values()
            return [f for f in fills if start <= f.at and (end is None or f.at <= end)]

        args: dict[str, object] = {"account_id": account_id, "start": start, "end": end}
        return self._call("search_trades", account_id, args, read)

    # -- Broker protocol: mutations -------------------------------------------------------

    async def cancel_order(self, account_id: int, order_id: int) -> None:
        args: dict[str, object] = {"account_id": account_id, "order_id": order_id}
        self._call("cancel_order", account_id, args, lambda: self._cancel(account_id, order_id))

    async def close_position(self, account_id: int, contract_id: str) -> None:
        """Close the whole position at market; resting stops and targets stay working."""
        args: dict[str, object] = {"account_id": account_id, "contract_id": contract_id}
        self._call("close_position", account_id, args, lambda: self._close(account_id, contract_id, None))

    async def partial_close(self, account_id: int, contract_id: str, size: int) -> None:
        args: dict[str, object] = {"account_id": account_id, "contract_id": contract_id, "size": size}
        self._call("partial_close", account_id, args, lambda: self._close(account_id, contract_id, size))

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
        """Market orders fill at once; limit and stop orders rest (status Open) until a quote reaches them."""
        order = Order(
            id=0,
            account_id=account_id,
            contract_id=contract_id,
            type=type,
            side=side,
            size=size,
            status=OrderStatus.OPEN,
            created_at=self._clock(),
            limit_price=limit_price,
            stop_price=stop_price,
            custom_tag=custom_tag,
        )
        args: dict[str, object] = {
            "account_id": account_id,
            "contract_id": contract_id,
            "type": type,
            "side": side,
            "size": size,
            "limit_price": limit_price,
            "stop_price": stop_price,
            "custom_tag": custom_tag,
        }
        return self._call("place_order", account_id, args, lambda: self._place(order))

    async def modify_order(
        self,
        account_id: int,
        order_id: int,
        *,
        size: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        args: dict[str, object] = {
            "account_id": account_id,
            "order_id": order_id,
            "size": size,
            "limit_price": limit_price,
            "stop_price": stop_price,
        }
        changes: dict[str, Any] = {"size": size, "limit_price": limit_price, "stop_price": stop_price}
        changes = {name: value for name, value in changes.items() if value is not None}
        self._call("modify_order", account_id, args, lambda: self._modify(account_id, order_id, changes))

    # -- call plumbing --------------------------------------------------------------------

    def _call(self, method: str, account_id: int | None, args: dict[str, object], run: Callable[[], T]) -> T:
        """Record the call, apply a scripted fault (before or after it takes effect), run it."""
        self.calls.append((method, args))
        fault = self._faults.take(method)
        error = None
        if fault is not None:
            error = fault.error or BrokerUnavailable(
                "simulated outage (fail_next)", endpoint=ENDPOINTS[method], account_id=account_id
            )
            if not fault.apply:
                raise error
        result = run()
        if error is not None:
            raise error
        return result

    def _rejected(self, method: str, account_id: int, code: int, message: str) -> BrokerRejected:
        return BrokerRejected(message, endpoint=ENDPOINTS[method], account_id=account_id, code=code)

    def _book(self, method: str, account_id: int) -> AccountBook:
        """The account's book, or the endpoint's AccountNotFound (code 1 everywhere)."""
        book = self._books.get(account_id)
        if book is None:
            raise self._rejected(
                method, account_id, ACCOUNT_NOT_FOUND, f"AccountNotFound: account {account_id}"
            )
        return book

    def _book_of(self, account_id: int) -> AccountBook:
        """The book for scenario data: an unknown account is a set-up mistake, not a broker answer."""
        book = self._books.get(account_id)
        if book is None:
            raise ValueError(f"sim broker: account {account_id} was never added (add_account first)")
        return book

    def _send(self, type: str, data: dict[str, Any]) -> None:
        if self._emit is not None:
            self._emit(type, data, None)

    def _accounts(self) -> list[AccountInfo]:
        return [book.info for _, book in sorted(self._books.items())]

    def _keep_order(self, order: Order) -> None:
        self._order_ids.seen(order.id)
        self._book_of(order.account_id).orders[order.id] = order

    def _keep_fill(self, fill: Fill) -> None:
        self._trade_ids.seen(fill.id)
        self._book_of(fill.account_id).trades[fill.id] = fill
        if not fill.voided:
            self._last_fill_price[fill.contract_id] = fill.price

    # -- execution ------------------------------------------------------------------------

    def _cancel(self, account_id: int, order_id: int) -> None:
        if self.refuse_cancels:
            raise self._rejected(
                "cancel_order", account_id, CANCEL_ACCOUNT_REJECTED, "Live accounts not supported"
            )
        if not self.execute:
            return
        book = self._book("cancel_order", account_id)
        order = book.orders.get(order_id)
        if order is None or not order.is_working:
            raise self._rejected(
                "cancel_order", account_id, ORDER_NOT_FOUND, f"OrderNotFound: order {order_id}"
            )
        cancelled = replace(order, status=OrderStatus.CANCELLED)
        book.orders[order_id] = cancelled
        self._resting.pop(order_id, None)
        self._send("GatewayUserOrder", order_to_wire(cancelled, updated_at=self._clock()))

    def _close(self, account_id: int, contract_id: str, size: int | None) -> None:
        """closeContract (``size`` None) or partialCloseContract, each with its own error codes."""
        if not self.execute:
            return
        method = "close_position" if size is None else "partial_close"
        book = self._book(method, account_id)
        held = book.positions.get(contract_id)
        if held is None or held.size == 0:
            raise self._rejected(method, account_id, POSITION_NOT_FOUND, f"PositionNotFound: {contract_id}")
        if self._catalog.tick(contract_id) is None:
            raise self._rejected(
                method, account_id, CLOSE_CONTRACT_NOT_FOUND, f"ContractNotFound: {contract_id}"
            )
        if size is not None and not 0 < size <= abs(held.size):
            message = f"InvalidCloseSize: {size} of a position of {abs(held.size)}"
            raise self._rejected(method, account_id, PARTIAL_INVALID_SIZE, message)
        price = self.last_price(contract_id)
        if price is None:
            code = CLOSE_ORDER_REJECTED if size is None else PARTIAL_ORDER_REJECTED
            raise self._rejected(method, account_id, code, f"OrderRejected: no price for {contract_id}")
        market = self._new_order(held, abs(held.size) if size is None else size)
        self._fill(book, market, price)

    def _new_order(self, held: Position, size: int) -> Order:
        """The market order the gateway creates for a close (closeContract returns no orderId)."""
        return Order(
            id=self._order_ids.take(),
            account_id=held.account_id,
            contract_id=held.contract_id,
            type=OrderType.MARKET,
            side=OrderSide.closing(held.size),
            size=size,
            status=OrderStatus.PENDING,
            created_at=self._clock(),
        )

    def _place(self, order: Order) -> int:
        if not self.execute:
            return self._order_ids.take()
        book = self._book("place_order", order.account_id)
        self._check_placeable(order, book)
        placed = replace(order, id=self._order_ids.take())
        if placed.type is OrderType.MARKET:
            price = self.last_price(placed.contract_id)
            if price is None:
                raise self._place_rejected(order, f"no price for {order.contract_id}")
            self._fill(book, placed, price)
        else:
            book.orders[placed.id] = placed
            self._resting[placed.id] = placed.account_id
            self._send("GatewayUserOrder", order_to_wire(placed))
        return placed.id

    def _place_rejected(self, order: Order, why: str) -> BrokerRejected:
        return self._rejected("place_order", order.account_id, PLACE_REJECTED, f"OrderRejected: {why}")

    def _check_placeable(self, order: Order, book: AccountBook) -> None:
        """Order/place validation: errorCode 8 for an unknown contract, 2 for the rest."""
        if self._catalog.tick(order.contract_id) is None:
            message = f"ContractNotFound: {order.contract_id}"
            raise self._rejected("place_order", order.account_id, PLACE_CONTRACT_NOT_FOUND, message)
        if order.size <= 0:
            raise self._place_rejected(order, f"size must be positive (got {order.size})")
        if order.type not in (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP):
            raise self._place_rejected(
                order, f"the simulator places market, limit and stop orders, not {order.type.name}"
            )
        if order.type is OrderType.LIMIT and order.limit_price is None:
            raise self._place_rejected(order, "a limit order needs limitPrice")
        if order.type is OrderType.STOP and order.stop_price is None:
            raise self._place_rejected(order, "a stop order needs stopPrice")
        if order.custom_tag is not None and book.has_tag(order.custom_tag):
            raise self._place_rejected(
                order, f"customTag {order.custom_tag!r} is already used on this account"
            )

    def _modify(self, account_id: int, order_id: int, changes: dict[str, Any]) -> None:
        if not self.execute:
            return
        book = self._book("modify_order", account_id)
        order = book.orders.get(order_id)
        if order is None or not order.is_working:
            raise self._rejected(
                "modify_order", account_id, ORDER_NOT_FOUND, f"OrderNotFound: order {order_id}"
            )
        if changes.get("size", 1) <= 0:
            raise self._rejected(
                "modify_order", account_id, MODIFY_REJECTED, f"Rejected: size {changes['size']}"
            )
        modified = replace(order, **changes)
        book.orders[order_id] = modified
        self._send("GatewayUserOrder", order_to_wire(modified, updated_at=self._clock()))

    def _trigger(self, contract_id: str, last: Decimal) -> None:
        """Fill resting orders placed here that ``last`` reaches, oldest first."""
        for order_id, account_id in sorted(self._resting.items()):
            book = self._books[account_id]
            order = book.orders.get(order_id)
            if order is None or not order.is_working:
                self._resting.pop(order_id, None)
                continue
            price = _trigger_price(order, last) if order.contract_id == contract_id else None
            if price is not None:
                self._fill(book, order, price)

    def _tick(self, contract_id: str) -> TickSpec:
        tick = self._catalog.tick(contract_id)
        if tick is None:  # callers reject unknown contracts first
            raise ValueError(f"sim broker: no tick spec for {contract_id}")
        return tick

    def _fill(self, book: AccountBook, order: Order, price: Decimal) -> None:
        """Fill ``order`` completely at ``price``; emit order, trade, position in the gateway's order."""
        now = self._clock()
        held = book.positions.get(order.contract_id)
        size, avg = (held.size, held.avg_price) if held is not None else (0, ZERO)
        outcome = apply_fill(size, avg, order.size * order.side.sign, price, self._tick(order.contract_id))
        filled = replace(order, status=OrderStatus.FILLED, fill_volume=order.size, filled_price=price)
        book.orders[filled.id] = filled
        self._resting.pop(filled.id, None)
        self._send("GatewayUserOrder", order_to_wire(filled, updated_at=now))
        fill = self._book_fill(book, filled, outcome, now)
        self._send("GatewayUserTrade", fill_to_wire(fill))
        position, gateway_id = self._move_position(book, filled, held, outcome, now)
        self._send("GatewayUserPosition", position_to_wire(position, gateway_id))

    def _book_fill(self, book: AccountBook, order: Order, outcome: FillOutcome, now: datetime) -> Fill:
        """Record the trade row and its effect on the balance (P&L net of fees)."""
        fees = self._fees.get(self._catalog.symbol(order.contract_id), ZERO) * order.size
        price = order.filled_price if order.filled_price is not None else ZERO
        fill = Fill(
            id=self._trade_ids.take(),
            account_id=order.account_id,
            order_id=order.id,
            contract_id=order.contract_id,
            side=order.side,
            size=order.size,
            price=price,
            pnl=outcome.pnl,
            fees=fees,
            voided=False,
            at=now,
        )
        self._keep_fill(fill)
        book.info = replace(book.info, balance=book.info.balance + (outcome.pnl or ZERO) - fees)
        return fill

    def _move_position(
        self, book: AccountBook, order: Order, held: Position | None, outcome: FillOutcome, now: datetime
    ) -> tuple[Position, int]:
        """The position after the fill, under its gateway id (a new id when it opens from flat)."""
        gateway_id = book.position_ids.get(order.contract_id) if held is not None else None
        if gateway_id is None:
            gateway_id = self._position_ids.take()
        reopened = held is None or (held.size > 0) != (outcome.size > 0)
        position = Position(
            account_id=order.account_id,
            contract_id=order.contract_id,
            size=outcome.size,
            avg_price=outcome.avg_price,
            opened_at=now if reopened or held is None else held.opened_at,
        )
        book.set_position(position, gateway_id)
        return position, gateway_id


__all__ = ["Emit", "SimBroker"]
