"""``journal export``: one trading day of the daemon's journal as a scenario file.

The exported events already hold the broker's responses to the daemon's actions, so
the scenario sets ``sim.execute: false``: replaying it shows what the daemon decided
without the simulator filling those closes a second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from risk_manager.broker.projectx import wire
from risk_manager.broker.projectx.normalised import event_from_normalised
from risk_manager.domain import AccountUpdated, FillReceived, OrderUpdated, PositionUpdated, QuoteReceived
from risk_manager.replay.output import iso_z
from risk_manager.store import JournalRow

#: REST reads journaled during a resync, and the hub event each one stands for.
_REST_AS_EVENT = {
    "Account/search": "GatewayUserAccount",
    "Position/searchOpen": "GatewayUserPosition",
    "Order/searchOpen": "GatewayUserOrder",
    "Trade/search": "GatewayUserTrade",
}


def export_day(
    rows: Iterable[JournalRow], start: datetime, end: datetime, general: dict[str, Any], rules: dict[str, Any]
) -> dict[str, Any]:
    """Build the scenario dict for journal rows of one trading day [start, end)."""
    events: list[dict[str, Any]] = []
    accounts: dict[int, dict[str, Any]] = {}
    for row in rows:
        event = _event(row)
        if event is None:
            continue
        events.append(event)
        if event["type"] == "GatewayUserAccount":
            data = event["data"]
            accounts.setdefault(
                int(data["id"]),
                {
                    "id": int(data["id"]),
                    "name": data["name"],
                    "balance": data["balance"],
                    "canTrade": data["canTrade"],
                },
            )
        elif row.account_id is not None:
            accounts.setdefault(row.account_id, {"id": row.account_id, "name": f"ACCOUNT-{row.account_id}"})
    events.sort(key=lambda e: str(e["at"]))  # coalesced quotes are journaled at the next tick
    return {
        "start": iso_z(start),
        "end": iso_z(end),
        "accounts": list(accounts.values()),
        "general": general,
        "rules": rules,
        "sim": {"execute": False},
        "events": events,
    }


def _event(row: JournalRow) -> dict[str, Any] | None:
    payload = dict(row.body)
    kind = payload.pop("event", None)
    if not isinstance(kind, str) or row.type == "Decision":
        return None
    gateway_type = row.type if row.type.startswith("Gateway") else _REST_AS_EVENT.get(row.type)
    if gateway_type is None:
        return None
    event = event_from_normalised(kind, payload)
    data = row.raw if isinstance(row.raw, dict) and row.type.startswith("Gateway") else _to_wire(event)
    if data is None:
        return None
    out: dict[str, Any] = {"at": iso_z(row.ts), "type": gateway_type, "data": wire.unwrap(data)}
    if isinstance(event, QuoteReceived):
        out["contractId"] = event.quote.contract_id
    return out


def _to_wire(event: object) -> dict[str, Any] | None:
    if isinstance(event, AccountUpdated):
        return wire.account_to_wire(event.account)
    if isinstance(event, PositionUpdated):
        return wire.position_to_wire(event.position, 0)
    if isinstance(event, OrderUpdated):
        return wire.order_to_wire(event.order)
    if isinstance(event, FillReceived):
        return wire.fill_to_wire(event.fill)
    return None


__all__ = ["export_day"]
