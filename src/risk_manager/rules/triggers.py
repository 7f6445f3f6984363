"""Which events can move a P&L figure (RULE-003, RULE-013)."""

from __future__ import annotations

from risk_manager.domain import Evaluate, Event, FillReceived, PositionUpdated, QuoteReceived


def is_pnl_event(event: Event, include_unrealized: bool) -> bool:
    """Fills move realized P&L; quotes and positions move unrealized P&L."""
    if isinstance(event, FillReceived | Evaluate):
        return True
    return include_unrealized and isinstance(event, QuoteReceived | PositionUpdated)


__all__ = ["is_pnl_event"]
