"""Whether a daemon close is still on its way for a contract (SPEC §4.1).

The engine notes when it sends a close or reduction (``state.pending_closes``) and forgets
it when the position shrinks. Until then the position is going away: RULE-008 starts no
new grace for it and RULE-012 adds no order to it. An unconfirmed close counts for 5 s,
SPEC §4.1's confirmation window; after that the position is treated as staying.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from risk_manager.ledger import AccountState

#: SPEC §4.1: an action awaits confirmation for up to 5 s.
CONFIRMATION_WINDOW = timedelta(seconds=5)


def close_pending(state: AccountState, contract_id: str, now: datetime) -> bool:
    """True while a close or reduction of ``contract_id`` (or a flatten, ``"*"``) sent in the
    last 5 s is unconfirmed."""
    for key in (contract_id, "*"):
        sent = state.pending_closes.get(key)
        if sent is not None and now - sent <= CONFIRMATION_WINDOW:
            return True
    return False


__all__ = ["CONFIRMATION_WINDOW", "close_pending"]
