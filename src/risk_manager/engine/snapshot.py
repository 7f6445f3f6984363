"""The meta-table snapshot (SPEC §5): what the status screen shows when it reads the database.

Written by the daemon every second with the heartbeat, so the trader sees balances,
positions and P&L even while the daemon is down (with the heartbeat saying how old).
Beyond SPEC §5's keys (schema 1, additions only, so older readers keep working): each
position says whether stops cover it (``protected``), each account carries its rules'
usage figures (``rules``, :mod:`risk_manager.engine.usage`) and its blocked symbols, and
the snapshot lists the accounts the daemon could not monitor (``account_errors``, SPEC §8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from risk_manager.config.risk import RiskConfig
from risk_manager.domain import cents
from risk_manager.engine.usage import rule_usage
from risk_manager.ledger import AccountState

SNAPSHOT_SCHEMA = 1

#: An account's rules by id (the engine's ``config_of``); None = not monitored.
ConfigOf = Callable[[int], RiskConfig | None]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{cents(value):.2f}"


def _positions(state: AccountState) -> list[dict[str, Any]]:
    return [
        {
            "contract_id": contract_id,
            "symbol": state.catalog.symbol(contract_id),
            "size": position.size,
            "avg_price": str(position.avg_price),
            "mark": None if (mark := state.market.mark(contract_id)) is None else str(mark),
            "unrealized": _money(state.position_unrealized(contract_id)),
            "protected": state.protected_quantity(contract_id) >= abs(position.size),
        }
        for contract_id, position in sorted(state.positions.items())
    ]


def account_snapshot(
    state: AccountState, config: RiskConfig | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """One account; with its ``config`` and ``now`` also its rules' usage and blocked symbols."""
    snap: dict[str, Any] = {
        "id": state.account_id,
        "name": state.name,
        "balance": _money(state.balance),
        "can_trade": state.can_trade,
        "positions": _positions(state),
        "realized": _money(state.realized_pnl),
        "fees": _money(state.fees),
        "unrealized": _money(state.unrealized_pnl),
        "trading_date": None if state.trading_date is None else state.trading_date.isoformat(),
    }
    if config is not None and now is not None:
        snap["rules"] = [usage.as_dict() for usage in rule_usage(config, state, now)]
        blocks = config.rules.symbol_blocks
        snap["blocked_symbols"] = (
            list(blocks.blocked_symbols) if blocks is not None and blocks.enabled else []
        )
    return snap


def snapshot(
    states: Mapping[int, AccountState],
    *,
    now: datetime | None = None,
    config_of: ConfigOf | None = None,
    account_errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``{"schema": 1, "accounts": [...]}`` in account id order; money as strings of cents.

    With ``now`` (UTC) and ``config_of`` each account also carries its rules' usage;
    ``account_errors`` (account as configured -> message) become ``account_errors``.
    """
    accounts = [
        account_snapshot(states[a], config_of(a) if config_of is not None else None, now)
        for a in sorted(states)
    ]
    snap: dict[str, Any] = {"schema": SNAPSHOT_SCHEMA, "accounts": accounts}
    if account_errors is not None:
        snap["account_errors"] = [{"account": k, "error": v} for k, v in sorted(account_errors.items())]
    return snap


__all__ = ["SNAPSHOT_SCHEMA", "ConfigOf", "account_snapshot", "snapshot"]
