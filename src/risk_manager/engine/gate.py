"""Lockout mode (SPEC §1): what happens to new exposure while a lock is active.

The gateway has no pre-trade hook, so a new order from a locked account is cancelled
the moment it appears, and a position opened or increased by a fill is closed. Orders
that can only reduce a position pass. Actions carry the causing lock's rule (the
first in evaluation order if several).
"""

from __future__ import annotations

from risk_manager.domain import (
    Decision,
    Evaluate,
    Event,
    Order,
    OrderSide,
    OrderUpdated,
    PositionUpdated,
    cancel_order,
    close,
    flatten,
)
from risk_manager.ledger import AccountState
from risk_manager.rules import rank


def causing_rule(state: AccountState, symbol: str) -> str | None:
    """The rule of the first active lock (in evaluation order) covering ``symbol``."""
    rules = state.locks_covering(symbol)
    return min(rules, key=rank) if rules else None


def lockout_mode(state: AccountState, event: Event, previous: Order | int | None) -> list[Decision]:
    """Decisions for ``event`` under active locks; ``previous`` is the order or size before it."""
    if not state.held_locks:
        return []
    if isinstance(event, OrderUpdated) and previous is None:
        return _new_order(state, event.order)
    if isinstance(event, PositionUpdated) and isinstance(previous, int):
        return _grown_position(state, event, previous)
    if isinstance(event, Evaluate):
        return _exposure(state, event.why)
    return []


def _exposure(state: AccountState, why: str) -> list[Decision]:
    """At startup or reload, whatever a lock covers must go (SPEC §4.2: a restored lock flattens)."""
    rule = causing_rule(state, "")
    if rule is not None and state.is_locked():
        if not (state.positions or state.orders):
            return []
        return [flatten(state.account_id, rule, f"{why}: exposed while locked by {rule}", None)]
    decisions = []
    for contract_id, position in state.positions.items():
        symbol_rule = causing_rule(state, state.catalog.symbol(contract_id))
        if symbol_rule is not None:
            reason = f"{why}: {contract_id} held while locked by {symbol_rule}"
            decisions.append(
                Decision(state.account_id, symbol_rule, reason, (close(contract_id, abs(position.size)),))
            )
    for order in list(state.working_orders()):
        symbol_rule = causing_rule(state, state.catalog.symbol(order.contract_id))
        if symbol_rule is not None and order.id not in state.daemon_orders:
            reason = f"{why}: order {order.id} working while locked by {symbol_rule}"
            decisions.append(
                Decision(state.account_id, symbol_rule, reason, (cancel_order(order.id, order.contract_id),))
            )
    return decisions


def _new_order(state: AccountState, order: Order) -> list[Decision]:
    if not order.is_working or order.id in state.daemon_orders:
        return []
    rule = causing_rule(state, state.catalog.symbol(order.contract_id))
    if rule is None or _reduces_only(state, order):
        return []
    reason = f"order {order.id} placed while locked by {rule}"
    return [Decision(state.account_id, rule, reason, (cancel_order(order.id, order.contract_id),))]


def _reduces_only(state: AccountState, order: Order) -> bool:
    size = state.position_size(order.contract_id)
    return size != 0 and order.side is OrderSide.closing(size) and order.size <= abs(size)


def _grown_position(state: AccountState, event: PositionUpdated, previous: int) -> list[Decision]:
    size = event.position.size
    grew = abs(size) > abs(previous) or size * previous < 0
    if size == 0 or not grew:
        return []
    contract_id = event.position.contract_id
    rule = causing_rule(state, state.catalog.symbol(contract_id))
    if rule is None:
        return []
    reason = f"position {contract_id} {size:+d} opened while locked by {rule}"
    return [Decision(state.account_id, rule, reason, (close(contract_id, abs(size)),))]


__all__ = ["causing_rule", "lockout_mode"]
