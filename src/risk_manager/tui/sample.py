"""A sample status database, as the daemon would leave it mid-morning on a bad day.

For the screenshot in the docs (``scripts/status_screenshot.py``) and the screen's
snapshot test: the same content every time for a given ``now``. Account 101 hit its daily
loss limit and is LOCKED until the reset; account 102 trades on, close to its hourly trade
limit, with one position covered by a stop and one in its grace period. The snapshot is
built by the daemon's own code (:func:`risk_manager.engine.snapshot.snapshot` over real
ledger states), so the usage figures are the ones the daemon would write.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from risk_manager import __version__
from risk_manager.config.risk import RiskConfig
from risk_manager.domain import (
    AccountInfo,
    ContractCatalog,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)
from risk_manager.domain.trading import Quote
from risk_manager.engine.snapshot import snapshot
from risk_manager.ledger import AccountState, Market
from risk_manager.schedule import DailyReset, grace_timer_name
from risk_manager.store import DATABASE_FILENAME, Store
from risk_manager.store.rows import EnforcementRow, LockRow, TimerRow
from risk_manager.store.timefmt import to_iso

MNQ, ES = "CON.F.US.MNQ.H26", "CON.F.US.EP.H26"

RULES: dict[str, Any] = {
    "max_contracts": {"enabled": True, "limit": 5},
    "daily_realized_loss": {"enabled": True, "limit": -500.0},
    "trade_frequency_limit": {"enabled": True, "limits": {"per_minute": 3, "per_hour": 10}},
    "no_stop_loss_grace": {"enabled": True, "grace_period_seconds": 10},
    "session_block_outside": {"enabled": True, "session": {"start": "09:30", "end": "16:00"}},
    "auth_loss_guard": {"enabled": True},
    "symbol_blocks": {"enabled": True, "blocked_symbols": ["RTY", "M2K"]},
    "daily_realized_profit": {"enabled": True, "target": 1000.0},
}
HOLIDAYS: dict[str, Any] = {
    "version": 1,
    "holidays": [{"date": "2025-12-25", "name": "Christmas"}],
    "early_closes": [{"date": "2025-12-24", "close_time": "13:00", "name": "Christmas Eve"}],
}


def write_sample(config_dir: Path, data_dir: Path, now: datetime) -> Path:
    """Write the config files and the database (heartbeat 1 s before ``now``); returns the database."""
    _write_config(config_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / DATABASE_FILENAME
    config = RiskConfig.model_validate({"rules": RULES})
    reset_at = DailyReset().next_reset(now)
    states = {101: _locked_account(now, reset_at), 102: _trading_account(now, reset_at)}
    snap = snapshot(states, now=now, config_of=lambda account_id: config, account_errors={})
    with Store.open(database) as store:
        store.set_meta_many(_meta(now, reset_at, snap))
        store.insert_lockout(LockRow(1, 101, "RULE-003", "account", "hard", "daily P&L -512.40 <= -500.00",
                                     now - timedelta(minutes=41), reset_at))  # fmt: skip
        name = grace_timer_name(102, ES)
        store.upsert_timer(TimerRow(name, 102, "grace", now + timedelta(seconds=7), {"contract_id": ES}))
        for row in _actions(now):
            store.log_enforcement(row)
    return database


def _write_config(config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    gateway = {"firm": "simulator", "username": "demo", "api_key": "demo"}
    accounts = {"version": 1, "gateway": gateway, "accounts": [{"id": 101}, {"id": 102}]}
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump({"version": 1, "rules": RULES}))
    (config_dir / "holidays.yaml").write_text(yaml.safe_dump(HOLIDAYS))


def _state(account_id: int, balance: str, now: datetime, reset_at: datetime) -> AccountState:
    state = AccountState(account_id, ContractCatalog(), Market())
    state.apply_account(AccountInfo(account_id, f"PRAC-V2-{account_id}", Decimal(balance), True))
    state.start_day(DailyReset().trading_date(now), reset_at)
    return state


def _locked_account(now: datetime, reset_at: datetime) -> AccountState:
    state = _state(101, "49487.60", now, reset_at)
    state.realized_gross, state.fees = Decimal("-500.00"), Decimal("12.40")
    state.held_locks = {("RULE-003", "account")}
    return state


def _trading_account(now: datetime, reset_at: datetime) -> AccountState:
    state = _state(102, "50210.00", now, reset_at)
    state.realized_gross, state.fees = Decimal("-330.00"), Decimal("8.88")
    opened = now - timedelta(minutes=3)
    for contract_id, size, avg, mark in ((MNQ, 2, "21450.25", "21432.00"), (ES, -1, "6050.00", "6046.50")):
        state.apply_position(Position(102, contract_id, size, Decimal(avg), opened))
        state.market.apply(Quote(contract_id, Decimal(mark), None, None, now))
    stop = Order(7, 102, MNQ, OrderType.STOP, OrderSide.SELL, 2, OrderStatus.OPEN, opened,
                 stop_price=Decimal("21400.00"))  # fmt: skip
    state.apply_order(stop)
    ages = (20, 50, 300, 900, 1500, 2100, 2700, 3300)  # seconds ago: 2 in the minute, 8 in the hour
    state.trades = {order_id: now - timedelta(seconds=age) for order_id, age in enumerate(ages, start=20)}
    return state


def _meta(now: datetime, reset_at: datetime, snap: dict[str, Any]) -> dict[str, str]:
    pending = {
        "apply_at": to_iso(reset_at),
        "changes": [{"text": "rules.max_contracts.limit 5 -> 8 (looser)"}],
    }
    return {
        "version": __version__,
        "daemon_pid": "0",
        "started_at": to_iso(now - timedelta(hours=2)),
        "heartbeat_at": to_iso(now - timedelta(seconds=1)),
        "connection": "CONNECTED",
        "config_state": "OK",
        "pending_config": json.dumps(pending),
        "snapshot": json.dumps(snap),
    }


def _actions(now: datetime) -> list[EnforcementRow]:
    def row(
        minutes: int, account: int, rule: str, action: str, contract: str | None, reason: str
    ) -> EnforcementRow:
        at = now - timedelta(minutes=minutes)
        return EnforcementRow(None, at, account, rule, action, contract, None, reason, "OK", None, 42.0)

    return [
        row(65, 102, "RULE-001", "reduce", MNQ, "gross contracts 6 > 5"),
        row(41, 101, "RULE-003", "cancel_all", None, "daily P&L -512.40 <= -500.00"),
        row(41, 101, "RULE-003", "close_all", None, "daily P&L -512.40 <= -500.00"),
        row(12, 101, "RULE-003", "cancel_order", MNQ, "order 31 placed while locked by RULE-003"),
        row(2, 102, "RULE-008", "close", "CON.F.US.MES.H26", "MES +1 unprotected for 10s"),
    ]


__all__ = ["RULES", "write_sample"]
