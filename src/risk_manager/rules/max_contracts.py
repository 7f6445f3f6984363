"""RULE-001 Max Contracts: cap the contracts held account-wide (SPEC §3, trade-by-trade)."""

from __future__ import annotations

from datetime import datetime

from risk_manager.config.risk import MaxContractsConfig
from risk_manager.domain import Decision, Evaluate, Event, PositionUpdated
from risk_manager.domain.decisions import Action, ActionKind
from risk_manager.ledger import AccountState
from risk_manager.rules.cuts import cut_excess

RULE_ID = "RULE-001"


def triggers(config: MaxContractsConfig) -> frozenset[type]:
    """SPEC: position opened/updated/closed, startup, reload."""
    return frozenset({PositionUpdated, Evaluate})


def evaluate(config: MaxContractsConfig, state: AccountState, event: Event, now: datetime) -> list[Decision]:
    sizes = {cid: p.size for cid, p in state.positions.items()}
    net = sum(sizes.values())
    count = abs(net) if config.count_type == "net" else sum(abs(s) for s in sizes.values())
    if count <= config.limit:
        return []
    reason = f"{config.count_type} contracts {count} > {config.limit}"
    seen = {"count": str(count), "limit": str(config.limit), "count_type": config.count_type}
    if config.enforcement == "close_all":
        return [Decision(state.account_id, RULE_ID, reason, (Action(ActionKind.CLOSE_ALL),), None, seen)]
    if config.count_type == "net":
        sizes = {cid: s for cid, s in sizes.items() if s * net > 0}
    trigger = event.position.contract_id if isinstance(event, PositionUpdated) else None
    actions = cut_excess(sizes, count - config.limit, trigger)
    return [Decision(state.account_id, RULE_ID, reason, actions, None, seen)]


__all__ = ["RULE_ID", "evaluate", "triggers"]
