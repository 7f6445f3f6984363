"""RULE-012 Trade Management: attach and manage protective orders (SPEC §3, automation).

For every held contract the rule compares the protective orders it finds with the ones
the position should have, and returns the orders to place, modify or cancel:

* the *managed stop* is the daemon's stop, else the trader's RULE-008-qualifying stop
  (working, opposite side, with a stop or trail price) nearest the mark;
* with none, a stop of |size| is placed ``auto_stop_loss.ticks`` beyond the average price
  on the loss side (or at the breakeven/trailing level when that is more protective);
* with ``auto_take_profit``, a limit of |size| ``ticks`` beyond the average on the profit side;
* breakeven (best ``trigger_ticks`` in profit: avg + ``offset_ticks`` toward profit) and
  trailing (best ``activation_ticks`` in profit: ``trail_ticks`` behind the best) move the
  managed stop, the more protective of the two, and only ever tighter;
* a size change resizes the daemon's orders, a flat position cancels them.

It never closes a position and never locks. Prices are rounded to the tick grid: a long
stop and a short target down, a short stop and a long target up, breakeven away from the
loss. "Best" is the most favourable mark since the position opened (``state.best_marks``,
kept by the engine on every quote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from risk_manager.config.risk import TradeManagementConfig
from risk_manager.domain import (
    ZERO,
    Action,
    ActionKind,
    Decision,
    Evaluate,
    Event,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Position,
    PositionUpdated,
    QuoteReceived,
    TickSpec,
    cancel_order,
)
from risk_manager.domain.trading import STOP_TYPES
from risk_manager.ledger import AccountState
from risk_manager.rules.bands import Band, every_quote, one_sided
from risk_manager.rules.pending import close_pending

RULE_ID = "RULE-012"
#: the engine keeps ``state.best_marks`` on every quote for accounts with this rule on
TRACKS_BEST_MARKS = True
_NO_DISTANCE = Decimal("Infinity")
#: ``now`` for the rule's arithmetic in ``headroom``: no close counts as pending then
_NEVER = datetime.min.replace(tzinfo=UTC)
_HALF_TICK = Decimal("0.5")
#: a quote band stops this many ticks short of the trigger: far above float rounding, far below a tick
_TICK_MARGIN = Decimal("0.001")


def triggers(config: TradeManagementConfig) -> frozenset[type]:
    """SPEC: position, quote and order events; startup and reload (SPEC §4.2)."""
    return frozenset({PositionUpdated, OrderUpdated, QuoteReceived, Evaluate})


def evaluate(
    config: TradeManagementConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    if isinstance(event, OrderUpdated) and event.order.id in state.daemon_orders:
        # The echo of the daemon's own place, modify or cancel. The other actions of the same
        # decision may still be on their way (their echoes queued behind this one), so the
        # state seen now is half-updated: acting on it would place or cancel twice.
        return []
    decisions: list[Decision] = []
    for contract_id in _contracts(state, event):
        if _fill_under_way(event, contract_id):
            continue  # the position update that follows this fill is the one to act on
        decisions.extend(_manage(config, state, contract_id, now))
    return decisions


def headroom(config: TradeManagementConfig, state: AccountState) -> Decimal | None:
    """Money the marks may move this account before a quote could make the rule act.

    Zero while a position lacks its stop or target, or a close is under way; otherwise, per
    position, the distance from the mark to its next trigger: breakeven's and trailing's
    arming prices, a level armed but waiting for the mark to pass it, and once trailing is
    armed, a new best. None when no quote can make it act. Work a position's own events
    start (a resize, a reversal) is done on those events, not on quotes.
    """
    if state.pending_closes or _contracts_to_fix(state):
        return ZERO
    room: Decimal | None = None
    covered = state.protected_quantities()
    for contract_id, position in state.positions.items():
        tick = state.catalog.tick(contract_id)
        if tick is None:
            continue
        ticks = _ticks_to_act(config, state, position, tick, covered)
        if ticks is not None:
            money = ticks * tick.tick_value * abs(position.size)
            room = money if room is None else min(room, money)
    return room


def quote_bands(config: TradeManagementConfig, state: AccountState) -> dict[str, Band]:
    """Per held contract, the marks a quote of it may reach before the rule acts on it.

    ``headroom``'s reasoning per position, since a quote manages only its own contract: no
    band while the position lacks its stop or target, a daemon order on it needs fixing or a
    close is under way; otherwise up to its next trigger in the position's favour. A move
    against the position arms and moves nothing: breakeven and the trail follow the best
    mark, and a level waiting for the mark to pass it waits on the profit side.
    """
    fixing = _contracts_to_fix(state)
    closing = "*" in state.pending_closes
    covered = state.protected_quantities()
    bands: dict[str, Band] = {}
    for contract_id, position in state.positions.items():
        mark = state.market.marks.get(contract_id)
        if mark is None:
            continue  # the contract's first quote is evaluated by every holder
        if closing or contract_id in state.pending_closes or contract_id in fixing:
            bands[contract_id] = every_quote(float(mark))
            continue
        tick = state.catalog.tick(contract_id)
        if tick is None:
            continue  # no price can be computed (SPEC §4.4): nothing to place or move
        ticks = _ticks_to_act(config, state, position, tick, covered)
        if ticks is not None:
            distance = float((ticks - _TICK_MARGIN) * tick.tick_size)
            bands[contract_id] = one_sided(float(mark), distance, up=position.size > 0)
    return bands


def _contracts_to_fix(state: AccountState) -> set[str]:
    """Contracts with a daemon order to resize, cancel (flat, reversed) or de-duplicate: work for
    the next quote."""
    fixing: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    for order in state.orders.values():
        if order.id not in state.daemon_orders or not _is_protective(order):
            continue
        size = state.position_size(order.contract_id)
        key = (order.contract_id, order.type in STOP_TYPES)
        if size == 0 or order.side is not OrderSide.closing(size) or order.size != abs(size) or key in seen:
            fixing.add(order.contract_id)
        seen.add(key)
    return fixing


def _ticks_to_act(
    config: TradeManagementConfig,
    state: AccountState,
    position: Position,
    tick: TickSpec,
    covered: Mapping[str, int],
) -> Decimal | None:
    """Ticks the mark must move in the position's favour before the rule acts on a quote of it.

    Zero when it may act on any quote (a stop or target to place); None when no quote can
    make it act. ``covered`` is ``state.protected_quantities()``.
    """
    auto_stop = config.auto_stop_loss is not None and config.auto_stop_loss.enabled
    if auto_stop and position.contract_id not in covered:
        return ZERO  # no protective stop
    if _target_missing(config, state, position):
        return ZERO
    return _ticks_to_trigger(config, state, position, tick)


def _target_missing(config: TradeManagementConfig, state: AccountState, position: Position) -> bool:
    take_profit = config.auto_take_profit
    if take_profit is None or not take_profit.enabled:
        return False
    closing = OrderSide.closing(position.size)
    working = state.working_orders(position.contract_id)
    return not any(o.type is OrderType.LIMIT and o.side is closing for o in working)


def _ticks_to_trigger(
    config: TradeManagementConfig, state: AccountState, position: Position, tick: TickSpec
) -> Decimal | None:
    """Ticks the mark must move in the position's favour before breakeven or the trail moves."""
    mark = state.market.mark(position.contract_id)
    best = state.best_marks.get(position.contract_id)
    if mark is None or best is None:
        return ZERO
    direction = 1 if position.size > 0 else -1
    profit_at_mark = (mark - position.avg_price) * direction / tick.tick_size
    profit_at_best = (best - position.avg_price) * direction / tick.tick_size
    arming: list[Decimal] = []
    breakeven, trailing = config.breakeven, config.trailing_stop
    any_armed = False
    if breakeven is not None and breakeven.enabled:
        if profit_at_best < breakeven.trigger_ticks:
            arming.append(breakeven.trigger_ticks - profit_at_mark)
        else:
            any_armed = True
    if trailing is not None and trailing.enabled:
        if profit_at_best >= trailing.activation_ticks:
            any_armed = True
            # once armed, only a new best moves the trail, by whole ticks: half a tick of margin
            arming.append(profit_at_best - profit_at_mark + _HALF_TICK)
        else:
            arming.append(trailing.activation_ticks - profit_at_mark)
    if not any_armed:  # no breakeven or trail level exists yet: nothing waits for the mark
        return max(ZERO, min(arming)) if arming else None
    book = _Book(config, state, position, tick, _NEVER)
    daemon_stops = [
        o
        for o in state.working_orders(position.contract_id)
        if o.id in state.daemon_orders and o.type in STOP_TYPES and o.side is book.closing
    ]
    if not daemon_stops and len(state.protective_stops(position.contract_id)) > 1:
        return ZERO  # the trader's stop nearest the mark is the managed one: any quote may change it
    managed = book.managed_stop(daemon_stops)
    current = managed.stop_price if managed is not None else None
    for level in book._moved_levels():  # armed, tighter, but waiting for the mark to pass it
        if current is None or book._tighter(level.price, current):
            arming.append((level.price - mark) * direction / tick.tick_size)
    if not arming:
        return None
    return max(ZERO, min(arming))


@dataclass(frozen=True, slots=True)
class _Level:
    """A stop or target price and the reason (with its numbers) that chose it.

    The reason is written only when the level becomes an order: the rule weighs levels on
    every quote, and formatting numbers would be most of its cost.
    """

    price: Decimal
    why: Callable[[], str]

    @property
    def reason(self) -> str:
        return self.why()


# -- which contracts -------------------------------------------------------------------------


def _contracts(state: AccountState, event: Event) -> list[str]:
    """A quote, position or order concerns its own contract; startup and reload check all."""
    if isinstance(event, QuoteReceived):
        return [event.quote.contract_id]
    if isinstance(event, PositionUpdated):
        return [event.position.contract_id]
    if isinstance(event, OrderUpdated):
        return [event.order.contract_id]
    if isinstance(event, Evaluate):
        ours = {o.contract_id for o in state.orders.values() if o.id in state.daemon_orders}
        return sorted(set(state.positions) | ours)
    return []


def _fill_under_way(event: Event, contract_id: str) -> bool:
    """An order just filled on this contract: its position update has not arrived yet."""
    return (
        isinstance(event, OrderUpdated)
        and event.order.contract_id == contract_id
        and event.order.status is OrderStatus.FILLED
    )


# -- one contract ----------------------------------------------------------------------------


def _manage(
    config: TradeManagementConfig, state: AccountState, contract_id: str, now: datetime
) -> list[Decision]:
    symbol = state.catalog.symbol(contract_id)
    ours = sorted(
        (o for o in state.working_orders(contract_id) if o.id in state.daemon_orders and _is_protective(o)),
        key=lambda o: o.id,
    )
    position = state.positions.get(contract_id)
    if position is None:
        return [_cancel(state, o, f"{symbol} flat: cancel daemon {_noun(o)} {o.id}") for o in ours]
    size, held = position.size, abs(position.size)
    closing = OrderSide.closing(size)
    decisions = [
        _cancel(state, o, f"{symbol} {size:+d}: daemon {_noun(o)} {o.id} is on the opening side (reversed)")
        for o in ours
        if o.side is not closing
    ]
    ours = [o for o in ours if o.side is closing]
    tick = state.catalog.tick(contract_id)
    if tick is None:
        return decisions  # unknown tick spec (SPEC §4.4): no price can be computed
    book = _Book(config, state, position, tick, now)
    stops = [o for o in ours if o.type in STOP_TYPES]
    targets = [o for o in ours if o.type is OrderType.LIMIT]
    managed = book.managed_stop(stops)
    for extra in stops:
        if managed is not None and extra.id != managed.id:
            decisions.append(_cancel(state, extra, f"{symbol} {size:+d}: duplicate daemon stop {extra.id}"))
    stop = book.place_stop() if managed is None else book.move_stop(managed)
    if stop is not None:
        decisions.append(stop)
    for index, target in enumerate(targets):
        if index:
            decisions.append(
                _cancel(state, target, f"{symbol} {size:+d}: duplicate daemon target {target.id}")
            )
        elif target.size != held:
            decisions.append(book.resize(target, ActionKind.MODIFY_TARGET, target.limit_price))
    if not targets and book.wants_target():
        placed = book.place_target()
        if placed is not None:
            decisions.append(placed)
    return decisions


class _Book:
    """The protective-order arithmetic for one held position (long or short)."""

    def __init__(
        self,
        config: TradeManagementConfig,
        state: AccountState,
        position: Position,
        tick: TickSpec,
        now: datetime,
    ) -> None:
        self.config = config
        self.state = state
        self.position = position
        self.contract_id = position.contract_id
        self.symbol = state.catalog.symbol(position.contract_id)
        self.size = position.size
        self.held = abs(position.size)
        self.long = position.size > 0
        self.direction = 1 if self.long else -1
        self.closing = OrderSide.closing(position.size)
        self.avg = position.avg_price
        self.tick_size = tick.tick_size
        self.mark = state.market.mark(position.contract_id)
        self.best = state.best_marks.get(position.contract_id)
        # a position with a daemon close on its way gets no new order (it would outlive it)
        self.closing_soon = close_pending(state, position.contract_id, now)

    # -- stops ---------------------------------------------------------------------------

    def managed_stop(self, daemon_stops: list[Order]) -> Order | None:
        """The daemon's stop, else the trader's qualifying stop nearest the mark (tie: lower id)."""
        candidates = daemon_stops or self.state.protective_stops(self.contract_id)
        reference = self.mark if self.mark is not None else self.avg
        return min(candidates, key=lambda o: (_distance(o, reference), o.id), default=None)

    def place_stop(self) -> Decision | None:
        """No managed stop: the auto stop, or the breakeven/trailing level when more protective."""
        levels = list(self._moved_levels())
        auto = self.config.auto_stop_loss
        if auto is not None and auto.enabled:
            side = "below" if self.long else "above"
            price = self._stop_price(self.avg - self.direction * auto.ticks * self.tick_size)
            levels.insert(0, _Level(price, lambda: f"auto stop {auto.ticks} ticks {side} {_num(self.avg)}"))
        level = self._most_protective(levels)
        if level is None or self.closing_soon or not self._rests(level.price, stop=True):
            return None
        action = Action(
            ActionKind.PLACE_STOP, self.contract_id, self.held, price=level.price, side=self.closing
        )
        return self._decision(level.reason, action, level.price)

    def move_stop(self, managed: Order) -> Decision | None:
        """Tighten the managed stop to breakeven or the trail; resize it if it is the daemon's."""
        level = self._most_protective(list(self._moved_levels()))
        current = managed.stop_price
        tighten = (
            level is not None
            and current is not None
            and self._tighter(level.price, current)
            and self._rests(level.price, stop=True)
        )
        resize = managed.id in self.state.daemon_orders and managed.size != self.held
        if tighten:
            assert level is not None and current is not None
            action = Action(
                ActionKind.MODIFY_STOP,
                self.contract_id,
                self.held if resize else None,
                managed.id,
                level.price,
            )
            reason = f"{level.reason}, resized to {self.held}" if resize else level.reason
            return self._decision(reason, action, level.price, order_id=str(managed.id), was=_num(current))
        if resize:
            return self.resize(managed, ActionKind.MODIFY_STOP, current)
        return None

    def _moved_levels(self) -> Iterable[_Level]:
        """Breakeven and trailing levels, for those the best mark has armed."""
        best_mark = self.best
        if best_mark is None:
            return
        profit = (best_mark - self.avg) * self.direction / self.tick_size  # ticks, maybe fractional
        breakeven = self.config.breakeven
        if breakeven is not None and breakeven.enabled and profit >= breakeven.trigger_ticks:
            # rounded away from the loss: the stop never ends on the losing side of the average
            raw = self.avg + self.direction * breakeven.offset_ticks * self.tick_size
            price = _to_tick(raw, self.tick_size, up=self.long)
            offset = breakeven.offset_ticks

            def breakeven_reason() -> str:
                sign = "+" if self.long else "-"
                return (
                    f"breakeven {_num(self.avg)} {sign} {_count(offset, 'tick')}"
                    f" (best {_num(best_mark)}, {_ticks(profit)} ticks in profit)"
                )

            yield _Level(price, breakeven_reason)
        trailing = self.config.trailing_stop
        if trailing is not None and trailing.enabled and profit >= trailing.activation_ticks:
            price = self._stop_price(best_mark - self.direction * trailing.trail_ticks * self.tick_size)
            trail = trailing.trail_ticks
            yield _Level(price, lambda: f"trail {trail} ticks behind best {_num(best_mark)}")

    def _stop_price(self, raw: Decimal) -> Decimal:
        """A long stop rounds down, a short stop up (SPEC §3 RULE-012)."""
        return _to_tick(raw, self.tick_size, up=not self.long)

    def _tighter(self, price: Decimal, than: Decimal) -> bool:
        return price > than if self.long else price < than

    def _most_protective(self, levels: list[_Level]) -> _Level | None:
        """The highest stop of a long, the lowest of a short; the first listed on a tie."""
        chosen: _Level | None = None
        for level in levels:
            if chosen is None or self._tighter(level.price, chosen.price):
                chosen = level
        return chosen

    # -- targets -------------------------------------------------------------------------

    def wants_target(self) -> bool:
        """Take-profit on, and no closing-side limit of the trader already takes the profit."""
        take_profit = self.config.auto_take_profit
        if take_profit is None or not take_profit.enabled:
            return False
        return not any(
            o.type is OrderType.LIMIT and o.side is self.closing
            for o in self.state.working_orders(self.contract_id)
        )

    def place_target(self) -> Decision | None:
        take_profit = self.config.auto_take_profit
        assert take_profit is not None
        # a long target rounds up, a short target down: never nearer than the configured ticks
        raw = self.avg + self.direction * take_profit.ticks * self.tick_size
        price = _to_tick(raw, self.tick_size, up=self.long)
        if self.closing_soon or not self._rests(price, stop=False):
            return None
        side = "above" if self.long else "below"
        reason = f"auto target {take_profit.ticks} ticks {side} {_num(self.avg)}"
        action = Action(ActionKind.PLACE_TARGET, self.contract_id, self.held, price=price, side=self.closing)
        return self._decision(reason, action, price)

    # -- shared --------------------------------------------------------------------------

    def resize(self, order: Order, kind: ActionKind, price: Decimal | None) -> Decision:
        """Size change: the daemon's order follows the position (its price is kept)."""
        action = Action(kind, self.contract_id, self.held, order.id, price)
        what = f"daemon {_noun(order)} {order.id}"
        reason = f"{self.symbol} {self.size:+d}: resize {what} from {order.size} to {self.held}"
        return self._decision(reason, action, price, order_id=str(order.id))

    def _rests(self, price: Decimal, *, stop: bool) -> bool:
        """Whether an order at ``price`` would rest: a stop below a long's mark, a target above it.

        One the mark has already passed would fill at once (or be refused), which would
        close the position; RULE-012 never closes. Unknown mark: nothing to check against.
        """
        if self.mark is None:
            return True
        below = price < self.mark
        return below == (stop == self.long) and price != self.mark

    def _decision(self, reason: str, action: Action, price: Decimal | None, **seen: str) -> Decision:
        state = {
            "contract_id": self.contract_id,
            "size": str(self.size),
            "avg_price": str(self.avg),
            "mark": "" if self.mark is None else str(self.mark),
            "best": "" if self.best is None else str(self.best),
            "price": "" if price is None else str(price),
            **seen,
        }
        return Decision(self.state.account_id, RULE_ID, reason, (action,), None, state)


# -- helpers ---------------------------------------------------------------------------------


def _is_protective(order: Order) -> bool:
    """The kinds of daemon order RULE-012 owns: stops and limits (a daemon close is a market order)."""
    return order.type in STOP_TYPES or order.type is OrderType.LIMIT


def _noun(order: Order) -> str:
    return "stop" if order.type in STOP_TYPES else "target"


def _cancel(state: AccountState, order: Order, reason: str) -> Decision:
    seen = {"contract_id": order.contract_id, "order_id": str(order.id)}
    return Decision(
        state.account_id, RULE_ID, reason, (cancel_order(order.id, order.contract_id),), None, seen
    )


def _distance(order: Order, reference: Decimal) -> Decimal:
    """How far a stop's trigger is from the mark; a trail-only stop ranks last."""
    return abs(order.stop_price - reference) if order.stop_price is not None else _NO_DISTANCE


def _to_tick(price: Decimal, tick_size: Decimal, *, up: bool) -> Decimal:
    """``price`` on the tick grid, rounded up (ceiling) or down (floor)."""
    steps = (price / tick_size).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return (steps * tick_size).quantize(tick_size)


def _num(value: Decimal) -> str:
    """A price for a reason: at least two decimals (21000.00), more only when it has them."""
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{value:.{max(2, places)}f}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ticks(value: Decimal) -> str:
    """A tick count for a reason: 20, or 20.5 when the average is off the tick grid."""
    return f"{value.normalize():f}"


__all__ = ["RULE_ID", "evaluate", "headroom", "quote_bands", "triggers"]
