"""RULE-003 Daily Realized Loss: stop the day at the daily loss limit (SPEC §3, hard lockout)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from risk_manager.config.risk import DailyRealizedLossConfig
from risk_manager.domain import Decision, Event, Lock, cents, flatten
from risk_manager.ledger import AccountState
from risk_manager.rules.triggers import pnl_triggers

RULE_ID = "RULE-003"


def triggers(config: DailyRealizedLossConfig) -> frozenset[type]:
    """SPEC: fills (plus quotes and positions with include_unrealized), startup, reload."""
    return pnl_triggers(config.include_unrealized)


def headroom(config: DailyRealizedLossConfig, state: AccountState) -> Decimal | None:
    """How far the P&L is above the limit: a quote moving it by less cannot breach."""
    if state.holds_lock(RULE_ID):
        return None
    return state.realized_pnl + state.unrealized_pnl - config.limit


def evaluate(
    config: DailyRealizedLossConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    if state.holds_lock(RULE_ID):
        return []
    realized = state.realized_pnl
    unrealized = state.unrealized_pnl if config.include_unrealized else None
    pnl = cents(realized + (unrealized or 0))
    if pnl > config.limit:
        return []  # cents() rounds half-up; the limit is inclusive: -500.00 breaches -500.00
    reason = f"daily P&L {pnl:.2f} <= {config.limit:.2f}"
    lock = Lock(kind="hard", scope="account", until=state.day_ends_at)
    seen = {"realized": f"{cents(realized):.2f}", "limit": f"{config.limit:.2f}"}
    if unrealized is not None:
        seen["unrealized"] = f"{cents(unrealized):.2f}"
    return [flatten(state.account_id, RULE_ID, reason, lock, **seen)]


__all__ = ["RULE_ID", "evaluate", "headroom", "triggers"]
