"""RULE-007 Cooldown After Loss: a forced break after a loss, longer for bigger losses
(SPEC §3, timer-cooldown).

The loss of a closing order is Σ over its fills so far of profitAndLoss − fees (fees only
with ``pnl_includes_fees``), so the partial fills of one exit order add up. The deepest
tier the loss reaches wins, whatever the order of the list; the cooldown ends at the
fill's ``creationTimestamp`` + that tier's duration, or later if the rule already holds
one ending later (the engine's ``LockoutBook.set_cooldown`` keeps the max). Daemon closes
count (SPEC §1 Decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from risk_manager.config.fields import format_duration
from risk_manager.config.risk import CooldownAfterLossConfig, LossTier
from risk_manager.domain import ZERO, Decision, Event, Fill, FillReceived, Lock, cents, flatten
from risk_manager.ledger import AccountState

RULE_ID = "RULE-007"


def triggers(config: CooldownAfterLossConfig) -> frozenset[type]:
    """SPEC: fills with P&L, daemon closes included."""
    return frozenset({FillReceived})


def evaluate(
    config: CooldownAfterLossConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    if not isinstance(event, FillReceived):
        return []
    fill = event.fill
    if fill.pnl is None or fill.voided:
        return []  # an opening fill closes nothing; a void only takes a fill back
    loss = cents(order_result(state, fill))
    tier = deepest_tier(config.tiers, loss)
    if tier is None:
        return []
    until = fill.at + tier.duration
    if until <= now:
        return []  # a loss found late (resync, a repeated fill) whose break is already over
    duration = format_duration(tier.duration)
    reason = f"loss {loss:.2f} <= {tier.loss_amount:.2f}: cooldown {duration}"
    seen = {
        "order_id": str(fill.order_id),
        "loss": f"{loss:.2f}",
        "loss_amount": f"{tier.loss_amount:.2f}",
        "duration": duration,
        "includes_fees": str(state.includes_fees).lower(),
    }
    lock = Lock(kind="cooldown", scope="account", until=until)
    if state.holds_lock(RULE_ID):
        # Already in this cooldown, so flat and in lockout mode (SPEC §1): a deeper loss
        # (another partial, the flatten's own daemon closes) only moves the end later.
        return [Decision(state.account_id, RULE_ID, reason, (), lock, seen)]
    return [flatten(state.account_id, RULE_ID, reason, lock, **seen)]


def order_result(state: AccountState, fill: Fill) -> Decimal:
    """Σ (profitAndLoss − fees if included) over the non-voided fills of ``fill``'s order so far.

    ``fill`` itself is counted even when the ledger kept it out of today's fills (it
    belongs to the trading day before the reset): a loss is a loss whichever day it is booked to.
    """
    fills = state.fills_of_order(fill.order_id)
    if fill.id not in state.fills:
        fills.append(fill)
    total = ZERO
    for f in fills:
        if f.voided:
            continue
        total += f.pnl or ZERO
        if state.includes_fees:
            total -= f.fees
    return total


def deepest_tier(tiers: Iterable[LossTier], loss: Decimal) -> LossTier | None:
    """The most negative tier the loss reaches (loss <= loss_amount, inclusive), or None."""
    reached = [tier for tier in tiers if loss <= cents(tier.loss_amount)]
    return min(reached, key=lambda tier: tier.loss_amount, default=None)


__all__ = ["RULE_ID", "deepest_tier", "evaluate", "order_result", "triggers"]
