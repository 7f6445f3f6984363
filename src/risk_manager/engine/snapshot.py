"""The meta-table snapshot (SPEC §5): what the status screen shows when it reads the database.

Written by the daemon every second with the heartbeat, so the trader sees balances,
positions and P&L even while the daemon is down (with the heartbeat saying how old).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from risk_manager.domain import cents
from risk_manager.ledger import AccountState

SNAPSHOT_SCHEMA = 1


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{cents(value):.2f}"


def account_snapshot(state: AccountState) -> dict[str, Any]:
    positions = [
        {
            "contract_id": contract_id,
            "symbol": state.catalog.symbol(contract_id),
            "size": position.size,
            "avg_price": str(position.avg_price),
            "mark": None if (mark := state.market.mark(contract_id)) is None else str(mark),
            "unrealized": _money(state.position_unrealized(contract_id)),
        }
        for contract_id, position in sorted(state.positions.items())
    ]
    return {
        "id": state.account_id,
        "name": state.name,
        "balance": _money(state.balance),
        "can_trade": state.can_trade,
        "positions": positions,
        "realized": _money(state.realized_pnl),
        "fees": _money(state.fees),
        "unrealized": _money(state.unrealized_pnl),
        "trading_date": None if state.trading_date is None else state.trading_date.isoformat(),
    }


def snapshot(states: dict[int, AccountState]) -> dict[str, Any]:
    """``{"schema": 1, "accounts": [...]}`` in account id order; money as strings of cents."""
    return {"schema": SNAPSHOT_SCHEMA, "accounts": [account_snapshot(states[a]) for a in sorted(states)]}


__all__ = ["SNAPSHOT_SCHEMA", "account_snapshot", "snapshot"]
