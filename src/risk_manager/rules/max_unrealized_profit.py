"""RULE-005 Max Unrealized Profit: take profit on one position at its target (SPEC §3, trade-by-trade)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from risk_manager.config.risk import MaxUnrealizedProfitConfig
from risk_manager.domain import Decision, Evaluate, Event, PositionUpdated, QuoteReceived
from risk_manager.ledger import AccountState
from risk_manager.rules.unrealized import close_positions_where, least_room

RULE_ID = "RULE-005"


def triggers(config: MaxUnrealizedProfitConfig) -> frozenset[type]:
    """SPEC (as RULE-004): quote of a held contract, position opened/updated, startup, reload."""
    return frozenset({QuoteReceived, PositionUpdated, Evaluate})


def headroom(config: MaxUnrealizedProfitConfig, state: AccountState) -> Decimal | None:
    """How far the best position is below the target: a quote moving the account by less cannot reach it."""
    target = config.target
    return least_room(state, lambda value: target - value)


def evaluate(
    config: MaxUnrealizedProfitConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    """Close each position whose unrealized P&L is at or above the target; no lock."""
    target = config.target

    def breached(unrealized: Decimal) -> bool:
        return unrealized >= target

    def reason(symbol: str, unrealized: Decimal) -> str:
        return f"{symbol} unrealized {unrealized:.2f} >= {target:.2f}"

    return close_positions_where(state, event, RULE_ID, breached, reason, target=f"{target:.2f}")


__all__ = ["RULE_ID", "evaluate", "headroom", "triggers"]
