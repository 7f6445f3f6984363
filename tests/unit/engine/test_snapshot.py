"""The meta snapshot the status screen reads (SPEC §5)."""

from __future__ import annotations

import json

from factories import ES, MNQ, NOON, order, state
from risk_manager.config.risk import RiskConfig
from risk_manager.domain import OrderSide, OrderType
from risk_manager.engine.snapshot import snapshot


def test_snapshot_has_the_spec_shape_and_money_in_cents() -> None:
    st = state(
        (MNQ, 2, "21000"), (ES, -1, "6000"), marks={MNQ: "20990.25"}, realized_gross="-120.5", fees="3.7"
    )
    st.name, st.can_trade = "PRAC-101", False
    data = json.loads(json.dumps(snapshot({st.account_id: st})))
    assert data["schema"] == 1
    [account] = data["accounts"]
    assert account["id"] == 101 and account["name"] == "PRAC-101" and account["can_trade"] is False
    assert (account["realized"], account["fees"], account["unrealized"]) == ("-124.20", "3.70", "-39.00")
    assert account["trading_date"] == "2026-03-10"
    by_contract = {p["contract_id"]: p for p in account["positions"]}
    assert by_contract[MNQ] == {
        "contract_id": MNQ,
        "symbol": "MNQ",
        "size": 2,
        "avg_price": "21000",
        "mark": "20990.25",
        "unrealized": "-39.00",
        "protected": False,
    }
    assert by_contract[ES]["mark"] is None and by_contract[ES]["unrealized"] is None  # no quote yet: unknown


def test_with_configs_each_account_carries_its_rules_usage_and_the_accounts_in_error() -> None:
    st = state((MNQ, 4, "21000"))
    st.apply_order(order(5, MNQ, OrderSide.SELL, 4, type=OrderType.STOP, stop="20990", price=None))
    rules = {
        "max_contracts": {"enabled": True, "limit": 5},
        "symbol_blocks": {"enabled": True, "blocked_symbols": ["RTY"]},
    }
    config = RiskConfig.model_validate({"rules": rules})
    data = snapshot(
        {st.account_id: st},
        now=NOON,
        config_of=lambda account_id: config,
        account_errors={"PRAC-9": "account PRAC-9 is not visible to this API key"},
    )
    data = json.loads(json.dumps(data))
    [account] = data["accounts"]
    assert account["positions"][0]["protected"] is True
    assert account["rules"][0] == {
        "rule": "RULE-001", "label": "Max contracts", "current": 4, "limit": 5,
        "text": "4/5", "ratio": 0.8, "level": "warn",
    }  # fmt: skip
    assert account["blocked_symbols"] == ["RTY"]
    assert data["account_errors"] == [
        {"account": "PRAC-9", "error": "account PRAC-9 is not visible to this API key"}
    ]
