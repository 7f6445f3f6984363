"""RULE-008 No-Stop-Loss Grace: every position needs a full protective stop within N seconds.

SPEC §3, trade-by-trade. A position is *protected* when its working opposite-side stop
orders with a stop or trail price (daemon stops included) cover at least its size. An
unprotected position runs a persisted grace timer (``grace:<acct>:<contract>``, SPEC §5);
the timer is cancelled as soon as the position is protected or flat, and a timer that
runs out while the position is still unprotected closes it. No lock.

The rule is a reconciliation: on every trigger it compares each held contract (and each
running grace timer of the account) with what it should be, so an event it did not see
(a restart, a resync) cannot leave a timer behind or a position without one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from risk_manager.config.risk import NoStopLossGraceConfig
from risk_manager.domain import (
    Decision,
    Evaluate,
    Event,
    OrderUpdated,
    PositionUpdated,
    Tick,
    TimerChange,
    close,
)
from risk_manager.ledger import AccountState
from risk_manager.rules.pending import close_pending
from risk_manager.schedule import grace_timer_name

RULE_ID = "RULE-008"
TIMER_KIND = "grace"


def triggers(config: NoStopLossGraceConfig) -> frozenset[type]:
    """SPEC: position/order events, the 1 s tick (a grace running out), startup and reload."""
    return frozenset({PositionUpdated, OrderUpdated, Tick, Evaluate})


def evaluate(
    config: NoStopLossGraceConfig, state: AccountState, event: Event, now: datetime
) -> list[Decision]:
    """Start, cancel or act on the grace timer of every held contract (and of every timer left).

    Whatever the event, the whole account is checked: it costs a pass over a handful of
    positions and orders, and a restart keeps a persisted timer's expiry (SPEC §3 Decision)
    because a running timer is never restarted, only started when none runs.
    """
    prefix = grace_timer_name(state.account_id, "")
    graces = {name.removeprefix(prefix): at for name, at in state.timers.items() if name.startswith(prefix)}
    covered = state.protected_quantities()
    if not graces and all(covered.get(c, 0) >= abs(p.size) for c, p in state.positions.items()):
        return []  # every position protected and no grace running: the common case
    decisions = []
    for contract_id in sorted(set(state.positions) | graces.keys()):
        expires_at = graces.get(contract_id)
        decision = _check(config, state, contract_id, covered.get(contract_id, 0), expires_at, now)
        if decision is not None:
            decisions.append(decision)
    return decisions


def _check(
    config: NoStopLossGraceConfig,
    state: AccountState,
    contract_id: str,
    covered: int,
    expires_at: datetime | None,
    now: datetime,
) -> Decision | None:
    """``covered``: the contracts its protective stops cover; ``expires_at``: its running grace."""
    size = state.position_size(contract_id)
    held = abs(size)
    if expires_at is None and covered >= held:
        return None  # protected or flat, no grace running: the common case, no reason to write
    if expires_at is not None and covered < held and expires_at > now:
        return None  # still in its grace
    name = grace_timer_name(state.account_id, contract_id)
    symbol = state.catalog.symbol(contract_id)
    if size == 0:
        return _cancel(state, name, f"{symbol} flat: grace cancelled", {"contract_id": contract_id})
    seen = {"contract_id": contract_id, "size": str(size), "covered": str(covered)}
    if covered >= held:
        if expires_at is None:
            return None
        reason = f"{symbol} {size:+d} protected (stops cover {covered} of {held}): grace cancelled"
        return _cancel(state, name, reason, seen)
    grace = config.grace_period_seconds
    if expires_at is None:
        if close_pending(state, contract_id, now):
            return None  # a daemon close is on its way: the position is going, not staying bare
        until = now + timedelta(seconds=grace)
        reason = f"{symbol} {size:+d} unprotected (stops cover {covered} of {held}): grace {grace} s"
        change = TimerChange(name, until, TIMER_KIND, (("contract_id", contract_id),))
        seen["until"] = until.isoformat()
        return Decision(state.account_id, RULE_ID, reason, (), None, seen, timers=(change,))
    if expires_at > now:
        return None
    reason = (
        f"{symbol} {size:+d} without a full stop loss after {grace} s grace (stops cover {covered} of {held})"
    )
    seen["expired_at"] = expires_at.isoformat()
    actions = (close(contract_id, held),)
    return Decision(state.account_id, RULE_ID, reason, actions, None, seen, timers=(TimerChange(name, None),))


def _cancel(state: AccountState, name: str, reason: str, seen: dict[str, str]) -> Decision:
    return Decision(state.account_id, RULE_ID, reason, (), None, seen, timers=(TimerChange(name, None),))


__all__ = ["RULE_ID", "evaluate", "triggers"]
