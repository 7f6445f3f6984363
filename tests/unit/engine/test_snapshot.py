"""The meta snapshot the status screen reads (SPEC §5)."""

from __future__ import annotations

import json

from factories import ES, MNQ, state
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
    }
    assert by_contract[ES]["mark"] is None and by_contract[ES]["unrealized"] is None  # no quote yet: unknown
