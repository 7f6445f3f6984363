"""RULE-010 Auth Loss Guard: mirror the broker's trading restriction (SPEC §3, hard lockout, broker-driven).

``canTrade`` false with no RULE-010 lock: flatten and lock, kind ``broker``, no expiry.
``canTrade`` true again: release that lock only (``unlock`` by broker); any other rule's
lock stays. The daily reset and admin unlock leave it alone (the engine and the control
API see to that). Account updates come from the user hub and from the account poll the
daemon runs every ``poll_interval_seconds`` (SPEC RULE-010.4), so a missed event is
caught by the next poll.
"""

from __future__ import annotations

from datetime import datetime

from risk_manager.config.risk import AuthLossGuardConfig
from risk_manager.domain import ACCOUNT_SCOPE, AccountUpdated, Decision, Evaluate, Event, Lock, flatten
from risk_manager.ledger import AccountState

RULE_ID = "RULE-010"
REASON = "broker disabled trading"


def triggers(config: AuthLossGuardConfig) -> frozenset[type]:
    """SPEC: account update, poll (delivered as account updates), startup."""
    return frozenset({AccountUpdated, Evaluate})


def evaluate(config: AuthLossGuardConfig, state: AccountState, event: Event, now: datetime) -> list[Decision]:
    """Lock on ``canTrade`` false; release on an account update saying ``canTrade`` true.

    Only an account update releases: ``Evaluate`` may run before the broker has been asked
    (a failed account search at startup leaves ``can_trade`` at its default), and a lock
    that survived a restart must not be dropped on a guess (SPEC §4.5).
    """
    held = state.holds_lock(RULE_ID)
    if not state.can_trade:
        if held:
            return []
        lock = Lock(kind="broker", scope=ACCOUNT_SCOPE, until=None)
        return [flatten(state.account_id, RULE_ID, REASON, lock, can_trade="false")]
    if held and isinstance(event, AccountUpdated) and event.account.can_trade:
        reason = "broker enabled trading"
        return [
            Decision(state.account_id, RULE_ID, reason, (), state={"can_trade": "true"}, release="broker")
        ]
    return []


__all__ = ["REASON", "RULE_ID", "evaluate", "triggers"]
