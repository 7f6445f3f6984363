"""RULE-011 Symbol Blocks: never trade listed symbols (SPEC §3, trade-by-trade, symbol scope).

No lock row: a block lasts exactly as long as the symbol is listed, so every order and
position on it is refused for as long as the config says so.
"""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase
from functools import lru_cache

from risk_manager.config.risk import SymbolBlocksConfig
from risk_manager.domain import (
    Action,
    Decision,
    Evaluate,
    Event,
    Order,
    OrderUpdated,
    PositionUpdated,
    cancel_order,
    close,
)
from risk_manager.ledger import AccountState

RULE_ID = "RULE-011"


def triggers(config: SymbolBlocksConfig) -> frozenset[type]:
    """SPEC: order placed, position opened/updated, startup, reload."""
    return frozenset({OrderUpdated, PositionUpdated, Evaluate})


def evaluate(config: SymbolBlocksConfig, state: AccountState, event: Event, now: datetime) -> list[Decision]:
    """Cancel working orders and close positions on blocked symbols.

    An order or position event acts on that order or contract only; startup and reload
    sweep the account. Closing a whole position also cancels that contract's working
    orders (the engine adds the cancel, SPEC §2), so orders are cancelled one by one only
    on contracts with no position. The daemon's own orders (its closes) are never cancelled.
    """
    if not config.blocked_symbols:
        return []
    actions: dict[str, list[Action]] = {}
    if isinstance(event, OrderUpdated):
        order = event.order
        symbol = state.catalog.symbol(order.contract_id)
        if _blocking_pattern(config, symbol) is not None and _cancellable(state, order):
            actions[symbol] = [cancel_order(order.id, order.contract_id)]
    elif isinstance(event, PositionUpdated):
        contract_id = event.position.contract_id
        symbol = state.catalog.symbol(contract_id)
        size = state.position_size(contract_id)
        if size and _blocking_pattern(config, symbol) is not None:
            actions[symbol] = [close(contract_id, abs(size))]
    elif isinstance(event, Evaluate):
        for contract_id in sorted(state.positions):
            symbol = state.catalog.symbol(contract_id)
            actions.setdefault(symbol, []).append(close(contract_id, abs(state.positions[contract_id].size)))
        for order in sorted(state.orders.values(), key=lambda o: o.id):
            if order.contract_id not in state.positions and _cancellable(state, order):
                symbol = state.catalog.symbol(order.contract_id)
                actions.setdefault(symbol, []).append(cancel_order(order.id, order.contract_id))
    decisions = []
    for symbol in sorted(actions):
        pattern = _blocking_pattern(config, symbol)
        if pattern is None:
            continue
        reason = f"{symbol} blocked" if pattern == symbol else f"{symbol} blocked ({pattern})"
        seen = {"symbol": symbol, "pattern": pattern}
        decisions.append(Decision(state.account_id, RULE_ID, reason, tuple(actions[symbol]), None, seen))
    return decisions


def _cancellable(state: AccountState, order: Order) -> bool:
    return order.is_working and order.id not in state.daemon_orders


def _blocking_pattern(config: SymbolBlocksConfig, symbol: str) -> str | None:
    """The first ``blocked_symbols`` entry matching ``symbol`` (as ``config.is_blocked`` matches)."""
    return _first_match(tuple(config.blocked_symbols), symbol)


@lru_cache(maxsize=1024)
def _first_match(patterns: tuple[str, ...], symbol: str) -> str | None:
    """Remembered: every order and position event asks, and the answer depends on these two only."""
    upper = symbol.upper()
    return next((p for p in patterns if fnmatchcase(upper, p)), None)


__all__ = ["RULE_ID", "evaluate", "triggers"]
