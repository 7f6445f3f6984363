"""Decisions: what a rule wants done, as values (never exceptions).

A rule returns :class:`Decision` objects; the engine merges them (SPEC §4.1), the
enforcer executes their actions and ``replay --json`` prints them. Action kinds use
the replay vocabulary of ARCHITECTURE.md, so what is decided is what is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from risk_manager.domain.trading import OrderSide

LockKind = Literal["hard", "cooldown", "session", "broker"]
ACCOUNT_SCOPE = "account"


class ActionKind(StrEnum):
    CANCEL_ALL = "cancel_all"
    CANCEL_ORDER = "cancel_order"
    CLOSE_ALL = "close_all"
    CLOSE = "close"
    REDUCE = "reduce"
    PLACE_STOP = "place_stop"
    PLACE_TARGET = "place_target"
    MODIFY_STOP = "modify_stop"
    MODIFY_TARGET = "modify_target"


#: Kinds that take contracts off (merged per contract, superseded by a flatten).
CUTS = frozenset({ActionKind.CLOSE, ActionKind.REDUCE})


@dataclass(frozen=True, slots=True)
class Action:
    """One broker-facing step. Which fields matter depends on ``kind``.

    ``size`` is unsigned contracts; ``contract_id`` on ``cancel_all`` limits it to one contract.
    ``side`` is set for orders the daemon places (RULE-012).
    """

    kind: ActionKind
    contract_id: str | None = None
    size: int | None = None
    order_id: int | None = None
    price: Decimal | None = None
    side: OrderSide | None = None


@dataclass(frozen=True, slots=True)
class Lock:
    """A restriction to create; ``until`` None = until a condition (canTrade, admin)."""

    kind: LockKind
    scope: str
    until: datetime | None

    @property
    def is_account_wide(self) -> bool:
        return self.scope == ACCOUNT_SCOPE


@dataclass(frozen=True, slots=True)
class TimerChange:
    """Start (``expires_at`` set) or cancel (None) a persisted countdown, e.g. RULE-008's grace.

    Names follow SPEC §5 (``grace:<acct>:<contract>``); a timer survives restarts.
    """

    name: str
    expires_at: datetime | None
    kind: str = "grace"
    payload: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What one rule decided on one event for one account.

    ``state`` is the figures the rule saw (for the enforcement log and the reason's
    audit trail), e.g. ``{"realized": "-550.00", "limit": "-500.00"}``.
    """

    account_id: int
    rule: str
    reason: str
    actions: tuple[Action, ...]
    lock: Lock | None = None
    state: dict[str, str] = field(default_factory=dict)
    #: clear this rule's active locks, saying why ("broker": canTrade is back, RULE-010)
    release: str | None = None
    timers: tuple[TimerChange, ...] = ()

    @property
    def is_flatten(self) -> bool:
        return any(a.kind is ActionKind.CLOSE_ALL for a in self.actions)


def flatten(account_id: int, rule: str, reason: str, lock: Lock | None, **state: str) -> Decision:
    """Flatten = lock row, cancel every working order, close every position (SPEC §1)."""
    actions = (Action(ActionKind.CANCEL_ALL), Action(ActionKind.CLOSE_ALL))
    return Decision(account_id, rule, reason, actions, lock, dict(state))


def close(contract_id: str, size: int) -> Action:
    return Action(ActionKind.CLOSE, contract_id=contract_id, size=size)


def reduce(contract_id: str, size: int) -> Action:
    return Action(ActionKind.REDUCE, contract_id=contract_id, size=size)


def cancel_order(order_id: int, contract_id: str) -> Action:
    return Action(ActionKind.CANCEL_ORDER, contract_id=contract_id, order_id=order_id)


__all__ = [
    "ACCOUNT_SCOPE",
    "CUTS",
    "Action",
    "ActionKind",
    "Decision",
    "Lock",
    "LockKind",
    "TimerChange",
    "cancel_order",
    "close",
    "flatten",
    "reduce",
]
