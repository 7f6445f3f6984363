"""RULE-005 Max Unrealized Profit: take profit on one position at its target (SPEC §3, trade-by-trade)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from risk_manager.config.risk import MaxUnrealizedProfitConfig
from risk_manager.domain import Decision, Evaluate, Event, PositionUpdated, QuoteReceived
from risk_manager.ledger import AccountState
from risk_manager.rules.bands import Band
from risk_manager.rules.unrealized import bands_within, close_positions_where, least_room

RULE_ID = "RULE-005"


def triggers(config: MaxUnrealizedProfitConfig) -> frozenset[type]:
    """SPEC (as RULE-004): quote of a held contract, position opened/updated, startup, reload."""
    return frozenset({QuoteReceived, PositionUpdated, Evaluate})


def headroom(config: MaxUnrealizedProfitConfig, state: AccountState) -> Decimal | None:
    """How far the best position is below the target: a quote moving the account by less cannot reach it."""
    target = config.target
    return least_room(state, lambda value: target - value)


def quote_bands(config: MaxUnrealizedProfitConfig, state: AccountState) -> dict[str, Band]:
    """Per position, how far its mark may rise (a long) or fall (a short) before the target."""
    target = config.target
    return bands_within(state, lambda value: target - value, toward_profit=True)


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


__all__ = ["RULE_ID", "evaluate", "headroom", "quote_bands", "triggers"]
