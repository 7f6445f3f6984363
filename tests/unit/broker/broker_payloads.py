"""Shared helpers for the broker tests: a settable clock and realistic gateway payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


class FakeClock:
    """The simulated now; tests move it with :meth:`advance`, never by sleeping."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def order_payload(**overrides: Any) -> dict[str, Any]:
    """A GatewayUserOrder as the live hub sends it (PROJECTX.md §2, §4.3), a resting sell stop."""
    data: dict[str, Any] = {
        "id": 3_000_000_123,
        "accountId": 101,
        "contractId": MNQ,
        "symbolId": "F.US.MNQ",
        "creationTimestamp": "2026-03-10T14:00:01.1234567+00:00",
        "updateTimestamp": "2026-03-10T14:00:01.2Z",
        "status": 1,
        "type": 4,
        "side": 1,
        "size": 2,
        "limitPrice": None,
        "stopPrice": 20990.25,
        "fillVolume": 0,
        "filledPrice": None,
        "customTag": "RM-abc-SL",
        "trailPrice": None,
        "trailDistance": None,
        "parentOrderId": 3_000_000_100,
        "linkedOrderId": None,
    }
    return {**data, **overrides}


def trade_payload(**overrides: Any) -> dict[str, Any]:
    """A GatewayUserTrade: an opening buy, so profitAndLoss is null."""
    data: dict[str, Any] = {
        "id": 8_000_000_001,
        "accountId": 101,
        "contractId": MNQ,
        "creationTimestamp": "2026-03-10T14:00:01Z",
        "price": 21000.25,
        "profitAndLoss": None,
        "fees": 0.74,
        "commissions": 0.0,
        "side": 0,
        "size": 2,
        "voided": False,
        "orderId": 3_000_000_100,
    }
    return {**data, **overrides}


def position_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 4242,
        "accountId": 101,
        "contractId": MNQ,
        "creationTimestamp": "2026-03-10T14:00:01+00:00",
        "type": 1,
        "size": 2,
        "averagePrice": 21000.25,
        "contractDisplayName": "MNQH6",
    }
    return {**data, **overrides}


def account_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 101,
        "name": "PRAC-V2-101",
        "balance": 50000.0,
        "canTrade": True,
        "isVisible": True,
        "simulated": True,
    }
    return {**data, **overrides}


def quote_payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "symbol": "F.US.MNQ",
        "symbolName": "/MNQ",
        "lastPrice": 21000.25,
        "bestBid": 21000.0,
        "bestAsk": 21000.25,
        "change": 12.5,
        "changePercent": 0.06,
        "open": 20990.0,
        "high": 21010.5,
        "low": 20980.0,
        "volume": 123456,
        "lastUpdated": "2026-03-10T14:00:02.5Z",
        "timestamp": "2026-03-10T14:00:02.5Z",
    }
    return {**data, **overrides}
