"""Merging the decisions of several rules on one event (SPEC §4.1).

A flatten supersedes every other close, reduction and cancel; cuts on one contract
merge into the largest, never more than the position; nothing is sent twice. Every
lock is kept whatever happens to the actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from risk_manager.domain import CUTS, Action, ActionKind, Decision, close, reduce

#: the automation's order work (RULE-012), moot on a contract this event closes whole
ORDER_WORK = frozenset(
    {ActionKind.PLACE_STOP, ActionKind.PLACE_TARGET, ActionKind.MODIFY_STOP, ActionKind.MODIFY_TARGET}
)


@dataclass(slots=True)
class Plan:
    """What to do with one event's decisions: lock rows, actions to send, actions superseded."""

    locks: list[Decision] = field(default_factory=list)
    send: list[tuple[Decision, Action]] = field(default_factory=list)
    superseded: list[tuple[Decision, Action]] = field(default_factory=list)


def merge(decisions: list[Decision], positions: Mapping[str, int], orders_on: Mapping[str, int]) -> Plan:
    """Plan one event's decisions.

    ``positions`` is the signed size per contract, ``orders_on`` the working orders per contract.
    """
    plan = Plan(locks=[d for d in decisions if d.lock is not None])
    flat = next((d for d in decisions if d.is_flatten), None)
    if flat is not None:
        plan.send = [(flat, a) for a in flat.actions]
        plan.superseded = [(d, a) for d in decisions if d is not flat for a in d.actions]
        return plan
    cancelled, closed = _merge_cuts(decisions, positions, orders_on, plan)
    seen_orders: set[int] = set()
    for decision in decisions:
        for action in decision.actions:
            if action.kind in CUTS:
                continue
            if action.kind in ORDER_WORK and action.contract_id in closed:
                plan.superseded.append((decision, action))  # SPEC §4.1: RULE-012 skips closed contracts
                continue
            if _covered(action, cancelled, seen_orders):
                plan.superseded.append((decision, action))
                continue
            if action.order_id is not None:
                seen_orders.add(action.order_id)
            elif action.kind is ActionKind.CANCEL_ALL:
                cancelled.add(action.contract_id or "*")
            plan.send.append((decision, action))
    return plan


def _merge_cuts(
    decisions: list[Decision], positions: Mapping[str, int], orders_on: Mapping[str, int], plan: Plan
) -> tuple[set[str], set[str]]:
    """Keep the largest cut per contract (first in rule order on a tie).

    Returns the contracts whose orders the plan already cancels, and those it closes whole.
    """
    best: dict[str, tuple[Decision, Action]] = {}
    for decision in decisions:
        for action in decision.actions:
            if action.kind not in CUTS or action.contract_id is None:
                continue
            current = best.get(action.contract_id)
            if current is None or (action.size or 0) > (current[1].size or 0):
                if current is not None:
                    plan.superseded.append(current)
                best[action.contract_id] = (decision, action)
            else:
                plan.superseded.append((decision, action))
    cancelled: set[str] = set()
    closed: set[str] = set()
    for contract_id, (decision, action) in best.items():
        held = abs(positions.get(contract_id, 0))
        if held == 0:
            continue
        size = min(action.size or held, held)
        if size == held:
            closed.add(contract_id)
            if orders_on.get(contract_id):
                cancelled.add(contract_id)
                plan.send.append((decision, Action(ActionKind.CANCEL_ALL, contract_id=contract_id)))
            plan.send.append((decision, close(contract_id, size)))
        else:
            plan.send.append((decision, reduce(contract_id, size)))
    return cancelled, closed


def _covered(action: Action, cancelled: set[str], seen_orders: set[int]) -> bool:
    """An order action is moot when its contract's orders are already being cancelled, or it was planned."""
    if "*" in cancelled or action.contract_id in cancelled:
        return action.kind in (ActionKind.CANCEL_ALL, ActionKind.CANCEL_ORDER)
    return action.order_id is not None and action.order_id in seen_orders


__all__ = ["Plan", "merge"]
