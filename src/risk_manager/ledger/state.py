"""Per-account state folded from events: positions, orders, today's fills and P&L.

The ledger is the only writer; rules read it. Realized P&L is the broker's own
``profitAndLoss`` and ``fees`` (the firm's limits use the broker's numbers); the
ledger's own price × tick computation runs beside it as a cross-check and gives
unrealized P&L (SPEC §4.4).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from risk_manager.domain import (
    ZERO,
    AccountInfo,
    ContractCatalog,
    Fill,
    Order,
    OrderSide,
    Position,
)
from risk_manager.ledger.market import Market

if TYPE_CHECKING:
    from risk_manager.schedule.calendar import ExchangeCalendar


@dataclass(slots=True)
class FillEffect:
    """What one fill did, as the ledger's own bookkeeping sees it."""

    is_entry: bool
    closed: int
    computed_pnl: Decimal | None
    duplicate: bool = False


@dataclass(slots=True)
class AccountState:
    """Everything the rules may look at for one account, for the current trading day."""

    account_id: int
    catalog: ContractCatalog
    market: Market
    includes_fees: bool = True
    name: str = ""
    balance: Decimal = ZERO
    can_trade: bool = True
    trading_date: date | None = None
    day_ends_at: datetime | None = None
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    fills: dict[int, Fill] = field(default_factory=dict)
    #: order id -> ids of today's fills of that order, in arrival order (RULE-007 adds up partials)
    order_fill_ids: dict[int, list[int]] = field(default_factory=dict)
    realized_gross: Decimal = ZERO
    fees: Decimal = ZERO
    computed_realized: Decimal = ZERO
    #: order id -> time of its first entry fill, for trader orders that count as trades (RULE-006).
    trades: dict[int, datetime] = field(default_factory=dict)
    #: orders the daemon placed or whose fills follow a daemon close.
    daemon_orders: set[int] = field(default_factory=set)
    #: (contract, "place_stop"|"place_target") -> when the daemon sent it, until its order shows up
    placing: dict[tuple[str, str], datetime] = field(default_factory=dict)
    #: customTags of orders the daemon is placing (recognised by tag only if we sent it, SPEC §1)
    daemon_tags: set[str] = field(default_factory=set)
    #: contracts with a daemon close in flight: the next reducing fill there is the daemon's (SPEC §1).
    pending_closes: dict[str, datetime] = field(default_factory=dict)
    #: this account's running timers (name -> expiry, UTC), kept current by the engine.
    timers: dict[str, datetime] = field(default_factory=dict)
    #: most favourable mark per held contract since its position opened (RULE-012).
    best_marks: dict[str, Decimal] = field(default_factory=dict)
    #: exchange calendars (holidays, early closes) for session rules; set by the engine.
    calendar: ExchangeCalendar | None = None
    #: (rule id, scope) of every active lock, kept current by the engine.
    held_locks: set[tuple[str, str]] = field(default_factory=set)
    #: per rule, symbols its account-wide locks leave alone (RULE-009 per-instrument windows).
    lock_exempt: dict[str, frozenset[str]] = field(default_factory=dict)
    #: rules whose account locks let held positions stay (RULE-009 without close_at_session_end).
    holding_rules: frozenset[str] = frozenset()
    #: fill-derived (size, avg) per contract: the ledger's own view, used for the cross-check.
    _shadow: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    #: contracts closed by fills the broker's position does not show yet: that quantity is
    #: already in realized P&L and must not stay in unrealized until the position update lands
    _closed_ahead: dict[str, int] = field(default_factory=dict)
    #: the ledger's own P&L per fill, so a late void can take it back out
    _computed: dict[int, Decimal] = field(default_factory=dict)
    #: (mark, unrealized P&L) per held contract, valid while the mark is the same object.
    _unrealized: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    #: running unrealized total, its parts, and the market version it is valid for (-1: stale)
    _u_total: Decimal = ZERO
    _u_parts: dict[str, Decimal | None] = field(default_factory=dict)
    _u_version: int = -1

    # -- reading -------------------------------------------------------------------------------

    @property
    def realized_net(self) -> Decimal:
        return self.realized_gross - self.fees

    @property
    def realized_pnl(self) -> Decimal:
        """Realized P&L as the limits see it: net of fees unless ``pnl_includes_fees`` is off."""
        return self.realized_net if self.includes_fees else self.realized_gross

    def position_size(self, contract_id: str) -> int:
        position = self.positions.get(contract_id)
        return position.size if position else 0

    def position_unrealized(self, contract_id: str) -> Decimal | None:
        """Mark-to-market of one position; None when its mark or tick spec is unknown.

        Cached per contract against the mark it was computed from: a quote is evaluated by
        every account holding the contract, and the rules read the total several times.
        """
        mark = self.market.marks.get(contract_id)
        cached = self._unrealized.get(contract_id)
        if cached is not None and cached[0] is mark:
            return cached[1]
        position = self.positions.get(contract_id)
        if position is None:
            return None
        size = position.size
        ahead = self._closed_ahead.get(contract_id)
        if ahead:
            size = max(0, abs(size) - ahead) * (1 if size > 0 else -1)
        tick = self.catalog.tick(contract_id)
        value = None
        if mark is not None and tick is not None:
            value = (mark - position.avg_price) / tick.tick_size * tick.tick_value * size
        self._unrealized[contract_id] = (mark, value)
        return value

    @property
    def unrealized_pnl(self) -> Decimal:
        """Σ of the known unrealized P&L; positions without a mark are skipped (SPEC §4.4).

        Kept as a running total: when only one contract's mark moved since the last read,
        only that position is re-marked (a quote is evaluated by every account holding it).
        """
        market = self.market
        if market.version == self._u_version:
            return self._u_total
        changed = market.last_changed
        if market.version == self._u_version + 1 and changed is not None:
            old = self._u_parts.get(changed)
            new = self.position_unrealized(changed)
            self._u_total += (new or ZERO) - (old or ZERO)
            self._u_parts[changed] = new
        else:
            self._u_parts = {cid: self.position_unrealized(cid) for cid in self.positions}
            self._u_total = sum((v for v in self._u_parts.values() if v is not None), ZERO)
        self._u_version = market.version
        return self._u_total

    def fills_of_order(self, order_id: int) -> list[Fill]:
        """Today's fills of one order (voided ones included), in arrival order."""
        return [self.fills[fill_id] for fill_id in self.order_fill_ids.get(order_id, ())]

    def working_orders(self, contract_id: str | None = None) -> Iterator[Order]:
        for order in self.orders.values():
            if contract_id is None or order.contract_id == contract_id:
                yield order

    def protective_stops(self, contract_id: str) -> list[Order]:
        """Working stop orders on the opposite side of the position (RULE-008 candidates)."""
        size = self.position_size(contract_id)
        if size == 0:
            return []
        side = OrderSide.closing(size)
        return [o for o in self.working_orders(contract_id) if o.is_stop and o.side is side]

    def protected_quantity(self, contract_id: str) -> int:
        return sum(o.size for o in self.protective_stops(contract_id))

    def protected_quantities(self) -> dict[str, int]:
        """``protected_quantity`` of every contract with a protective stop, in one pass over the orders."""
        covered: dict[str, int] = {}
        for order in self.orders.values():
            if not order.is_stop:
                continue
            size = self.position_size(order.contract_id)
            if size and order.side is OrderSide.closing(size):
                covered[order.contract_id] = covered.get(order.contract_id, 0) + order.size
        return covered

    def is_locked(self) -> bool:
        return any(scope == "account" for _, scope in self.held_locks)

    def locks_covering(self, symbol: str) -> list[str]:
        """Rules of the active locks covering ``symbol``: its own, and account locks not exempting it."""
        exempt = self.lock_exempt
        return [
            rule
            for rule, scope in self.held_locks
            if scope == symbol or (scope == "account" and symbol not in exempt.get(rule, ()))
        ]

    def holds_lock(self, rule_id: str, scope: str = "account") -> bool:
        return (rule_id, scope) in self.held_locks

    def trades_between(self, start: datetime, end: datetime) -> int:
        """Trader trades whose first entry fill falls in (start, end]."""
        return sum(1 for at in self.trades.values() if start < at <= end)

    # -- folding -------------------------------------------------------------------------------

    def apply_account(self, info: AccountInfo) -> None:
        self.name, self.balance, self.can_trade = info.name, info.balance, info.can_trade

    def apply_order(self, order: Order) -> Order | None:
        """Track working orders; return the previous version of this order, if any."""
        previous = self.orders.get(order.id)
        if order.is_working:
            self.orders[order.id] = order
        else:
            self.orders.pop(order.id, None)
        return previous

    def apply_position(self, position: Position) -> int:
        """The broker's net position is the truth; return the previous signed size."""
        previous = self.position_size(position.contract_id)
        if position.size == 0:
            self.positions.pop(position.contract_id, None)
        else:
            self.positions[position.contract_id] = position
        if position.size * previous <= 0:  # opened, closed or reversed: a new "since open"
            self.best_marks.pop(position.contract_id, None)
            mark = self.market.marks.get(position.contract_id)
            if position.size and mark is not None:
                self.best_marks[position.contract_id] = mark
        self._closed_ahead.pop(position.contract_id, None)  # the broker's view caught up
        self._unrealized.pop(position.contract_id, None)
        self._u_version = -1
        return previous

    def apply_fill(self, fill: Fill, *, count_as_trade: bool) -> FillEffect:
        """Book a fill into today's P&L; a repeat of a known fill id only applies a late void."""
        known = self.fills.get(fill.id)
        if known is not None:
            if fill.voided and not known.voided:
                self.fills[fill.id] = fill
                self._book(known, sign=-1)
                self.computed_realized -= self._computed.pop(fill.id, ZERO)
            return FillEffect(is_entry=False, closed=0, computed_pnl=None, duplicate=True)
        self.fills[fill.id] = fill
        self.order_fill_ids.setdefault(fill.order_id, []).append(fill.id)
        if fill.voided:  # a busted trade: the broker's position never held it (SPEC §4.4)
            return FillEffect(is_entry=False, closed=0, computed_pnl=None)
        before = self._shadow.get(fill.contract_id, (0, ZERO))[0]
        effect = self._shadow_fill(fill)
        if effect.closed and self.position_size(fill.contract_id) == before:
            self._close_ahead(fill.contract_id, effect.closed)
        self._book(fill, sign=1)
        if effect.computed_pnl is not None:
            self.computed_realized += effect.computed_pnl
            self._computed[fill.id] = effect.computed_pnl
        if effect.is_entry and count_as_trade:
            self.trades.setdefault(fill.order_id, fill.at)
        return effect

    def _close_ahead(self, contract_id: str, closed: int) -> None:
        """A closing fill came before its position update: its P&L is realized now, so the
        unrealized P&L of that quantity goes now too (else the loss counts twice meanwhile)."""
        self._closed_ahead[contract_id] = self._closed_ahead.get(contract_id, 0) + closed
        self._unrealized.pop(contract_id, None)
        self._u_version = -1

    def _book(self, fill: Fill, *, sign: int) -> None:
        if fill.pnl is not None:
            self.realized_gross += sign * fill.pnl
        self.fees += sign * fill.fees

    def _shadow_fill(self, fill: Fill) -> FillEffect:
        """Move the fill-derived position; return whether the fill opened and what it closed."""
        size, avg = self._shadow.get(fill.contract_id, (0, ZERO))
        delta = fill.signed_size
        new_size = size + delta
        closed = min(abs(size), abs(delta)) if size * delta < 0 else 0
        is_entry = abs(new_size) > abs(size) or (size != 0 and new_size * size < 0)
        computed: Decimal | None = None
        if closed:
            tick = self.catalog.tick(fill.contract_id)
            if tick is not None:
                direction = 1 if size > 0 else -1
                computed = (fill.price - avg) / tick.tick_size * tick.tick_value * closed * direction
        if new_size == 0:
            new_avg = ZERO
        elif size == 0 or new_size * size < 0:
            new_avg = fill.price
        elif abs(new_size) > abs(size):
            new_avg = (avg * abs(size) + fill.price * abs(delta)) / abs(new_size)
        else:
            new_avg = avg
        self._shadow[fill.contract_id] = (new_size, new_avg)
        return FillEffect(is_entry=is_entry, closed=closed, computed_pnl=computed)

    def note_mark(self, contract_id: str, mark: Decimal) -> None:
        """Keep the most favourable mark since the position opened (high if long, low if short)."""
        size = self.position_size(contract_id)
        best = self.best_marks.get(contract_id)
        if size and (best is None or (mark > best if size > 0 else mark < best)):
            self.best_marks[contract_id] = mark

    def seed_shadow(self) -> None:
        """Align the fill-derived positions with the broker's (startup, resync)."""
        self._shadow = {cid: (p.size, p.avg_price) for cid, p in self.positions.items()}

    def start_day(self, trading_date: date, day_ends_at: datetime) -> None:
        """A new trading day: P&L and counters restart, positions and orders stay (SPEC §4.3)."""
        self.trading_date, self.day_ends_at = trading_date, day_ends_at
        self.fills.clear()
        self.order_fill_ids.clear()
        self.trades.clear()
        self._computed.clear()
        self.realized_gross = self.fees = self.computed_realized = ZERO


__all__ = ["AccountState", "FillEffect"]
