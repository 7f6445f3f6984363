"""Which events can move a P&L figure (RULE-003, RULE-013)."""

from __future__ import annotations

from risk_manager.domain import Evaluate, FillReceived, PositionUpdated, QuoteReceived


def pnl_triggers(include_unrealized: bool) -> frozenset[type]:
    """Fills move realized P&L; quotes and positions move unrealized P&L."""
    base: frozenset[type] = frozenset({FillReceived, Evaluate})
    return base | {QuoteReceived, PositionUpdated} if include_unrealized else base


__all__ = ["pnl_triggers"]
