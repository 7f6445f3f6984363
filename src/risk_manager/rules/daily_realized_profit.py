"""RULE-013 Daily Realized Profit Target: end the day once the target is banked (SPEC §3, hard lockout)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from risk_manager.config.risk import DailyRealizedProfitConfig
from risk_manager.domain import Decision, Event, Lock, cents, flatten
from risk_manager.ledger import AccountState
from risk_manager.rules.triggers import pnl_triggers

RULE_ID = "RULE-013"


def triggers(config: DailyRealizedProfitConfig) -> frozenset[type]:
    """SPEC (as RULE-003): fills (plus quotes and positions with include_unrealized), startup, reload."""
    return pnl_triggers(config.include_unrealized)


def headroom(config: DailyRealizedProfitConfig, state: AccountState) -> Decimal | None:
    """How far the P&L is below the target: a quote moving it by less cannot reach it."""
    if state.holds_lock(RULE_ID) or not config.include_unrealized:
        return None
    return config.target - (state.realized_pnl + state.unrealized_pnl)


def evaluate(
    config: DailyRealizedProfitConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    """Flatten and lock until the next daily reset once the day's P&L reaches the target.

    The configured ``message`` rides in the reason (so the lock row, the enforcement log
    and the status screen show it) and in ``Decision.state["message"]``.
    """
    if state.holds_lock(RULE_ID):
        return []
    realized = state.realized_pnl
    unrealized = state.unrealized_pnl if config.include_unrealized else None
    pnl = cents(realized + (unrealized or 0))
    if pnl < config.target:
        return []  # cents() rounds half-up; the target is inclusive: 1000.00 reaches 1000.00
    reason = f"daily P&L {pnl:.2f} >= {config.target:.2f}"
    seen = {"realized": f"{cents(realized):.2f}", "target": f"{config.target:.2f}"}
    if unrealized is not None:
        seen["unrealized"] = f"{cents(unrealized):.2f}"
    message = " ".join((config.message or "").split())  # the reason stays one line
    if message:
        reason = f"{reason}: {message}"
        seen["message"] = message
    lock = Lock(kind="hard", scope="account", until=state.day_ends_at)
    return [flatten(state.account_id, RULE_ID, reason, lock, **seen)]


__all__ = ["RULE_ID", "evaluate", "headroom", "triggers"]
