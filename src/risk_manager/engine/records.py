"""Records: what the engine did, in the replay vocabulary of ARCHITECTURE.md.

Every lock, unlock, reset and action sent becomes one :class:`Record`, in the order
it was decided. ``replay --json`` prints them; the daemon logs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from risk_manager.domain import Action, ActionKind


@dataclass(frozen=True, slots=True)
class Record:
    at: datetime
    account_id: int
    action: str
    rule: str | None
    reason: str
    extras: dict[str, Any] = field(default_factory=dict)


RecordSink = Callable[[Record], None]


def action_extras(action: Action) -> dict[str, Any]:
    """The keys ARCHITECTURE.md gives each action besides at, account_id, rule and reason."""
    kind = action.kind
    extras: dict[str, Any] = {}
    if kind is ActionKind.CANCEL_ALL:
        if action.contract_id is not None:
            extras["contract_id"] = action.contract_id
    elif kind is ActionKind.CANCEL_ORDER:
        extras = {"order_id": action.order_id, "contract_id": action.contract_id}
    elif kind in (ActionKind.CLOSE, ActionKind.REDUCE):
        extras = {"contract_id": action.contract_id, "size": action.size}
    elif kind in (ActionKind.PLACE_STOP, ActionKind.PLACE_TARGET):
        extras = {"contract_id": action.contract_id, "size": action.size, "price": action.price}
    elif kind in (ActionKind.MODIFY_STOP, ActionKind.MODIFY_TARGET):
        extras = {"contract_id": action.contract_id, "order_id": action.order_id, "price": action.price}
    return extras


__all__ = ["Record", "RecordSink", "action_extras"]
