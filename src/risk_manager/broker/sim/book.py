"""Per-account state of the simulated broker and the fill arithmetic the gateway applies.

Kept apart from :mod:`.broker` so the money math (average price, realized P&L of a
closing fill, reversals through zero) is a pure function with its own table of tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from risk_manager.domain import ZERO, AccountInfo, Fill, Order, Position, TickSpec, cents

#: Averages are kept to 8 places: the gateway reports a double, and 8 places survive the
#: JSON float round trip exactly, so the emitted and the stored average stay equal.
AVERAGE_PLACES = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class FillOutcome:
    """A position after one fill. ``pnl`` is None for an opening fill (the gateway's null)."""

    size: int
    avg_price: Decimal
    pnl: Decimal | None


def _average(old_size: int, old_avg: Decimal, qty: int, price: Decimal) -> Decimal:
    total = abs(old_size) + abs(qty)
    weighted = old_avg * abs(old_size) + price * abs(qty)
    return (weighted / total).quantize(AVERAGE_PLACES, rounding=ROUND_HALF_EVEN)


def apply_fill(size: int, avg_price: Decimal, qty: int, price: Decimal, tick: TickSpec) -> FillOutcome:
    """Book a fill of signed ``qty`` (+buy/-sell) at ``price`` on a position of signed ``size``.

    An entry fill moves the average; an exit fill realizes
    (price - avg) / tick_size x tick_value x closed x (+1 long / -1 short), half-up to cents,
    and keeps the average; a fill larger than the position reverses it: the rest opens a
    new position at ``price``. Flat positions have average 0.
    """
    if qty == 0:
        raise ValueError("a fill has a non-zero size")
    if size == 0 or (size > 0) == (qty > 0):
        return FillOutcome(size + qty, _average(size, avg_price, qty, price), None)
    closed = min(abs(size), abs(qty))
    direction = 1 if size > 0 else -1
    pnl = cents((price - avg_price) / tick.tick_size * tick.tick_value * closed * direction)
    new_size = size + qty
    if new_size == 0:
        return FillOutcome(0, ZERO, pnl)
    if (new_size > 0) != (size > 0):
        return FillOutcome(new_size, price, pnl)
    return FillOutcome(new_size, avg_price, pnl)


@dataclass(slots=True)
class AccountBook:
    """What the gateway knows about one account: its REST view (open positions, orders, fills)."""

    info: AccountInfo
    positions: dict[str, Position] = field(default_factory=dict)
    position_ids: dict[str, int] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    trades: dict[int, Fill] = field(default_factory=dict)

    def working_orders(self) -> list[Order]:
        """Working orders (Open, Pending, Suspended) in id order."""
        return [o for _, o in sorted(self.orders.items()) if o.is_working]

    def open_positions(self) -> list[Position]:
        return [p for _, p in sorted(self.positions.items()) if p.size != 0]

    def set_position(self, position: Position, position_id: int) -> None:
        """Keep an open position under its gateway id; a flat one leaves the book."""
        if position.size == 0:
            self.positions.pop(position.contract_id, None)
            self.position_ids.pop(position.contract_id, None)
            return
        self.positions[position.contract_id] = position
        self.position_ids[position.contract_id] = position_id

    def has_tag(self, custom_tag: str) -> bool:
        """customTag must be unique per account (Order/place rejects a duplicate, code 2)."""
        return any(o.custom_tag == custom_tag for o in self.orders.values())


__all__ = ["AVERAGE_PLACES", "AccountBook", "FillOutcome", "apply_fill"]
