"""RULE-004 Daily Unrealized Loss: close one position at its floating-loss limit (SPEC §3, trade-by-trade)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from risk_manager.config.risk import DailyUnrealizedLossConfig
from risk_manager.domain import Decision, Evaluate, Event, PositionUpdated, QuoteReceived
from risk_manager.ledger import AccountState
from risk_manager.rules.bands import Band
from risk_manager.rules.unrealized import bands_within, close_positions_where, least_room

RULE_ID = "RULE-004"


def triggers(config: DailyUnrealizedLossConfig) -> frozenset[type]:
    """SPEC: quote of a held contract, position opened/updated, startup (and reload, SPEC §4.7)."""
    return frozenset({QuoteReceived, PositionUpdated, Evaluate})


def headroom(config: DailyUnrealizedLossConfig, state: AccountState) -> Decimal | None:
    """How far the worst position is above the limit: a quote moving the account by less cannot breach."""
    limit = config.limit
    return least_room(state, lambda value: value - limit)


def quote_bands(config: DailyUnrealizedLossConfig, state: AccountState) -> dict[str, Band]:
    """Per position, how far its mark may fall (a long) or rise (a short) before the loss limit."""
    limit = config.limit
    return bands_within(state, lambda value: value - limit, toward_profit=False)


def evaluate(
    config: DailyUnrealizedLossConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    """Close each position whose unrealized P&L is at or below the limit; no lock.

    Any realized loss the close produces is RULE-003's business, not this rule's.
    """
    limit = config.limit

    def breached(unrealized: Decimal) -> bool:
        return unrealized <= limit

    def reason(symbol: str, unrealized: Decimal) -> str:
        return f"{symbol} unrealized {unrealized:.2f} <= {limit:.2f}"

    return close_positions_where(state, event, RULE_ID, breached, reason, limit=f"{limit:.2f}")


__all__ = ["RULE_ID", "evaluate", "headroom", "quote_bands", "triggers"]
