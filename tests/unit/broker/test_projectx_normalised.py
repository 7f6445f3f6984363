"""The journal's normalised form: snake_case JSON of a domain event, and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from broker_payloads import MNQ, order_payload, position_payload, quote_payload, trade_payload

from risk_manager.broker.projectx import event_from_normalised, event_type, normalised, parse_event
from risk_manager.broker.projectx.wire import WireError
from risk_manager.domain import (
    AccountInfo,
    AccountUpdated,
    Evaluate,
    Event,
    Fill,
    FillReceived,
    OrderSide,
    Quote,
    QuoteReceived,
    Tick,
)

AT = datetime(2026, 3, 10, 14, 0, 5, 123456, tzinfo=UTC)
FILL = Fill(
    5000,
    101,
    1000,
    MNQ,
    OrderSide.SELL,
    2,
    Decimal("20925.00"),
    Decimal("-300.00"),
    Decimal("0.74"),
    False,
    AT,
)

EVENTS: list[Any] = [
    pytest.param(parse_event("GatewayUserOrder", order_payload(), AT), id="OrderUpdated"),
    pytest.param(
        parse_event("GatewayUserOrder", order_payload(type=42, status=8), AT), id="OrderUpdated-odd"
    ),
    pytest.param(
        parse_event("GatewayUserPosition", position_payload(type=2, size=3), AT), id="PositionUpdated"
    ),
    pytest.param(parse_event("GatewayUserTrade", trade_payload(), AT), id="FillReceived-opening"),
    pytest.param(FillReceived(AT, FILL), id="FillReceived-closing"),
    pytest.param(parse_event("GatewayQuote", quote_payload(), AT, MNQ), id="QuoteReceived"),
    pytest.param(QuoteReceived(AT, Quote(MNQ, None, Decimal("1.5"), None, AT)), id="QuoteReceived-partial"),
    pytest.param(
        AccountUpdated(AT, AccountInfo(101, "PRAC-101", Decimal("50000.00"), False, False)), id="Account"
    ),
    pytest.param(Tick(AT), id="Tick"),
    pytest.param(Evaluate(AT, 101, "startup"), id="Evaluate"),
]


@pytest.mark.parametrize("event", EVENTS)
def test_normalised_round_trip_through_json(event: Event) -> None:
    stored = json.loads(json.dumps(normalised(event)))
    back = event_from_normalised(event_type(event), stored)
    assert back == event
    assert type(back) is type(event)


def test_normalised_fill_is_snake_case_with_exact_strings_for_money() -> None:
    assert event_type(FillReceived(AT, FILL)) == "FillReceived"
    assert normalised(FillReceived(AT, FILL)) == {
        "at": "2026-03-10T14:00:05.123456Z",
        "fill": {
            "id": 5000,
            "account_id": 101,
            "order_id": 1000,
            "contract_id": MNQ,
            "side": 1,
            "size": 2,
            "price": "20925.00",
            "pnl": "-300.00",
            "fees": "0.74",
            "voided": False,
            "at": "2026-03-10T14:00:05.123456Z",
        },
    }


def test_decimal_scale_survives_so_the_journal_reads_back_identically() -> None:
    back = event_from_normalised("FillReceived", normalised(FillReceived(AT, FILL)))
    assert isinstance(back, FillReceived)
    assert str(back.fill.pnl) == "-300.00"
    assert back.fill.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("type_", "data", "message"),
    [
        pytest.param("Tock", {}, "journal: unknown event type 'Tock'", id="unknown-type"),
        pytest.param("Tick", {}, "journal Tick: field 'at' is missing", id="missing-at"),
        pytest.param(
            "FillReceived",
            {"at": "2026-03-10T14:00:05Z", "fill": {"id": 1}},
            "Fill: field 'account_id' is missing",
            id="missing-nested",
        ),
        pytest.param(
            "AccountUpdated",
            {
                "at": "2026-03-10T14:00:05Z",
                "account": {"id": 1, "name": "x", "balance": "lots", "can_trade": True},
            },
            "AccountInfo: field 'balance': not a decimal number (got 'lots')",
            id="bad-decimal",
        ),
        pytest.param(
            "Tick", {"at": "noon"}, "journal Tick: field 'at': Invalid isoformat string", id="bad-time"
        ),
        pytest.param(
            "OrderUpdated",
            {"at": "2026-03-10T14:00:05Z", "order": []},
            "Order: expected an object",
            id="list",
        ),
    ],
)
def test_malformed_journal_entry_raises_wire_error(type_: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(WireError) as caught:
        event_from_normalised(type_, data)
    assert str(caught.value).startswith(message)


def test_datetime_subclasses_are_encoded_too() -> None:
    class Stamp(datetime):
        pass

    stamp = Stamp(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert normalised(Tick(stamp)) == {"at": "2026-03-10T14:00:00Z"}
