"""Fixtures for the store tests: a real SQLite file in tmp_path and row builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from risk_manager.domain.trading import OrderSide
from risk_manager.store import EnforcementRow, FillRow, JournalRow, LockRow, Store

NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 ET
TODAY = date(2026, 3, 10)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "risk_manager.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


@pytest.fixture
def make_lock() -> Callable[..., LockRow]:
    def build(**changes: Any) -> LockRow:
        base = LockRow(
            id=1,
            account_id=101,
            rule_id="RULE-003",
            scope="account",
            kind="hard",
            reason="daily P&L -550.00 <= -500.00",
            created_at=NOON,
            expires_at=datetime(2026, 3, 10, 21, 0, tzinfo=UTC),
        )
        return replace(base, **changes)

    return build


@pytest.fixture
def make_fill() -> Callable[..., FillRow]:
    def build(**changes: Any) -> FillRow:
        base = FillRow(
            fill_id=9001,
            account_id=101,
            order_id=77,
            contract_id="CON.F.US.MNQ.H26",
            symbol="MNQ",
            side=OrderSide.SELL,
            size=2,
            price=Decimal("21000.25"),
            pnl=Decimal("-12.50"),
            fees=Decimal("0.74"),
            voided=False,
            is_entry=False,
            daemon_order=False,
            executed_at=NOON,
            trading_date=TODAY,
        )
        return replace(base, **changes)

    return build


@pytest.fixture
def make_enforcement() -> Callable[..., EnforcementRow]:
    def build(**changes: Any) -> EnforcementRow:
        base = EnforcementRow(
            id=None,
            ts=NOON,
            account_id=101,
            rule_id="RULE-003",
            action="CLOSE_ALL",
            contract_id=None,
            quantity=None,
            reason="daily P&L -550.00 <= -500.00",
            result="OK",
            error=None,
            latency_ms=12.5,
        )
        return replace(base, **changes)

    return build


@pytest.fixture
def make_event() -> Callable[..., JournalRow]:
    def build(**changes: Any) -> JournalRow:
        base = JournalRow(
            seq=None,
            ts=NOON,
            account_id=101,
            type="GatewayUserTrade",
            raw={"id": 9001, "accountId": 101, "price": 21000.25},
            payload={"fill_id": 9001, "price": "21000.25"},
        )
        return replace(base, **changes)

    return build
