"""The ProjectX wire format: hub events and REST payloads in, gateway JSON out (PROJECTX.md §2, §4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from broker_payloads import (
    ES,
    MNQ,
    account_payload,
    order_payload,
    position_payload,
    quote_payload,
    trade_payload,
)
from hypothesis import given
from hypothesis import strategies as st

from risk_manager.broker.projectx import wire
from risk_manager.broker.projectx.wire import (
    Bracket,
    OrderModifyRequest,
    OrderPlaceRequest,
    OrderQueryFilter,
    OrderQueryRequest,
    TradeSearchRequest,
    WireError,
    account_to_wire,
    fill_to_wire,
    order_to_wire,
    parse_accounts,
    parse_contracts,
    parse_envelope,
    parse_event,
    parse_events,
    parse_orders,
    parse_positions,
    parse_trades,
    position_to_wire,
    quote_to_wire,
    symbol_id,
    unwrap,
    wrap,
)
from risk_manager.domain import (
    AccountInfo,
    AccountUpdated,
    ContractCatalog,
    Fill,
    FillReceived,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Position,
    PositionUpdated,
    Quote,
    QuoteReceived,
    TickSpec,
)

AT = datetime(2026, 3, 10, 14, 0, 5, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# -- unwrapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda d: d, id="bare"),
        pytest.param(lambda d: {"action": 1, "data": d}, id="wrapped"),
        pytest.param(lambda d: [d], id="list"),
        pytest.param(lambda d: [{"action": 2, "data": d}], id="list-of-wrapped"),
    ],
)
def test_parse_event_accepts_every_shape_the_user_hub_sends(shape: Any) -> None:
    event = parse_event("GatewayUserOrder", shape(order_payload()), AT)
    assert event == parse_event("GatewayUserOrder", order_payload(), AT)


def test_unwrap_returns_the_data_of_a_wrapped_payload_and_drops_action() -> None:
    assert unwrap({"action": 0, "data": {"id": 1}}) == {"id": 1}
    assert wrap({"id": 1}, 2) == {"action": 2, "data": {"id": 1}}


def test_parse_events_reads_every_object_of_a_list() -> None:
    events = parse_events(
        "GatewayUserTrade", [trade_payload(id=1), {"action": 0, "data": trade_payload(id=2)}], AT
    )
    assert [e.fill.id for e in events if isinstance(e, FillReceived)] == [1, 2]


# -- hub events ---------------------------------------------------------------------------


def test_order_event_maps_every_field_including_the_hub_extras() -> None:
    event = parse_event("GatewayUserOrder", {"action": 1, "data": order_payload(trailPrice=5.5)}, AT)
    assert event == OrderUpdated(
        AT,
        Order(
            id=3_000_000_123,
            account_id=101,
            contract_id=MNQ,
            type=OrderType.STOP,
            side=OrderSide.SELL,
            size=2,
            status=OrderStatus.OPEN,
            created_at=datetime(2026, 3, 10, 14, 0, 1, 123456, tzinfo=UTC),
            stop_price=Decimal("20990.25"),
            trail_price=Decimal("5.5"),
            custom_tag="RM-abc-SL",
            parent_order_id=3_000_000_100,
        ),
    )


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        pytest.param("2026-03-10T14:00:01Z", datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC), id="Z"),
        pytest.param("2026-03-10T14:00:01+00:00", datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC), id="+00:00"),
        pytest.param(
            "2026-03-10T14:00:01.5Z", datetime(2026, 3, 10, 14, 0, 1, 500000, tzinfo=UTC), id="1-digit"
        ),
        pytest.param(
            "2026-03-10T14:00:01.1234567+00:00",
            datetime(2026, 3, 10, 14, 0, 1, 123456, tzinfo=UTC),
            id="7-digits-dotnet",
        ),
        pytest.param(
            "2026-03-10T14:00:01.123456789Z",
            datetime(2026, 3, 10, 14, 0, 1, 123456, tzinfo=UTC),
            id="9-digits",
        ),
        pytest.param("2026-03-10T09:00:01-05:00", datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC), id="offset"),
        pytest.param("2026-03-10T14:00:01", datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC), id="naive-is-utc"),
    ],
)
def test_timestamps_become_utc_whatever_their_form(stamp: str, expected: datetime) -> None:
    event = parse_event("GatewayUserTrade", trade_payload(creationTimestamp=stamp), AT)
    assert isinstance(event, FillReceived)
    assert event.fill.at == expected
    assert event.fill.at.tzinfo is UTC


def test_unknown_order_type_and_status_are_tolerated() -> None:
    event = parse_event("GatewayUserOrder", order_payload(type=42, status=9), AT)
    assert isinstance(event, OrderUpdated)
    assert (event.order.type, event.order.status) == (OrderType.UNKNOWN, OrderStatus.NONE)


def test_suspended_bracket_child_keeps_status_8_and_counts_as_working() -> None:
    event = parse_event("GatewayUserOrder", order_payload(status=8, stopPrice=None), AT)
    assert isinstance(event, OrderUpdated)
    assert event.order.status is OrderStatus.SUSPENDED
    assert event.order.is_working


@pytest.mark.parametrize(
    ("kind", "size", "signed"),
    [
        pytest.param(1, 2, 2, id="long"),
        pytest.param(2, 3, -3, id="short"),
        pytest.param(0, 0, 0, id="closed-type-0"),
        pytest.param(1, 0, 0, id="size-0-any-type"),
    ],
)
def test_position_size_is_signed_by_type(kind: int, size: int, signed: int) -> None:
    event = parse_event(
        "GatewayUserPosition", {"action": 2, "data": position_payload(type=kind, size=size)}, AT
    )
    assert isinstance(event, PositionUpdated)
    assert event.position.size == signed
    assert event.position.opened_at == datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC)


def test_closed_position_without_average_price_is_flat_at_zero() -> None:
    event = parse_event("GatewayUserPosition", position_payload(type=0, size=0, averagePrice=None), AT)
    assert isinstance(event, PositionUpdated)
    assert (event.position.size, event.position.avg_price) == (0, Decimal(0))


def test_opening_trade_has_null_profit_and_loss_and_exact_decimals() -> None:
    event = parse_event("GatewayUserTrade", {"action": 0, "data": trade_payload()}, AT)
    assert event == FillReceived(
        AT,
        Fill(
            id=8_000_000_001,
            account_id=101,
            order_id=3_000_000_100,
            contract_id=MNQ,
            side=OrderSide.BUY,
            size=2,
            price=Decimal("21000.25"),
            pnl=None,
            fees=Decimal("0.74"),
            voided=False,
            at=datetime(2026, 3, 10, 14, 0, 1, tzinfo=UTC),
        ),
    )


def test_prices_carry_no_float_noise() -> None:
    event = parse_event(
        "GatewayUserTrade", trade_payload(price=0.1 + 0.2, profitAndLoss=-150.1, fees=1.1), AT
    )
    assert isinstance(event, FillReceived)
    assert (str(event.fill.price), str(event.fill.pnl), str(event.fill.fees)) == (
        "0.30000000000000004",  # what the float really is: no noise added, none hidden
        "-150.1",
        "1.1",
    )


def test_trade_without_fees_books_zero_fees() -> None:
    data = trade_payload()
    del data["fees"], data["commissions"]
    event = parse_event("GatewayUserTrade", data, AT)
    assert isinstance(event, FillReceived)
    assert event.fill.fees == 0


def test_account_event_defaults_simulated_when_an_old_sample_omits_it() -> None:
    data = account_payload(canTrade=False)
    del data["simulated"]
    assert parse_event("GatewayUserAccount", data, AT) == AccountUpdated(
        AT, AccountInfo(101, "PRAC-V2-101", Decimal("50000.0"), can_trade=False, simulated=True)
    )


def test_full_quote_takes_its_own_timestamp() -> None:
    event = parse_event("GatewayQuote", quote_payload(), AT, MNQ)
    assert event == QuoteReceived(
        AT,
        Quote(
            MNQ,
            Decimal("21000.25"),
            Decimal("21000.0"),
            Decimal("21000.25"),
            utc("2026-03-10T14:00:02.5+00:00"),
        ),
    )


def test_partial_quote_leaves_missing_prices_none_and_uses_receipt_time() -> None:
    event = parse_event("GatewayQuote", {"bestBid": 20999.75}, AT, MNQ)
    assert event == QuoteReceived(AT, Quote(MNQ, None, Decimal("20999.75"), None, AT))


# -- malformed payloads -------------------------------------------------------------------


def without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    ("type_", "data", "contract_id", "message"),
    [
        pytest.param(
            "GatewayUserOrder",
            without(order_payload(), "accountId"),
            None,
            "GatewayUserOrder: field 'accountId' is missing",
            id="missing-field",
        ),
        pytest.param(
            "GatewayUserTrade",
            trade_payload(price="abc"),
            None,
            "GatewayUserTrade: field 'price': Input should be a valid decimal (got 'abc')",
            id="bad-decimal",
        ),
        pytest.param(
            "GatewayUserPosition",
            position_payload(creationTimestamp="yesterday"),
            None,
            "GatewayUserPosition: field 'creationTimestamp': Input should be a valid datetime or date, "
            "input is too short (got 'yesterday')",
            id="bad-timestamp",
        ),
        pytest.param(
            "GatewayUserOrder",
            order_payload(size="two", status=None),
            None,
            "GatewayUserOrder: field 'status': Input should be a valid integer (got None) (+1 more)",
            id="several-errors",
        ),
        pytest.param(
            "GatewayUserTrade",
            trade_payload(side=7),
            None,
            "GatewayUserTrade: field 'side': unknown side 7 (0 buy, 1 sell)",
            id="unknown-side",
        ),
        pytest.param(
            "GatewayUserPosition",
            position_payload(type=0, size=2),
            None,
            "GatewayUserPosition: field 'type': position type 0 with size 2 (1 long, 2 short)",
            id="sized-position-without-side",
        ),
        pytest.param(
            "GatewayUserPosition",
            position_payload(size=-1),
            None,
            "GatewayUserPosition: field 'size': Input should be greater than or equal to 0 (got -1)",
            id="negative-size",
        ),
        pytest.param(
            "GatewayUserOrder",
            "not json",
            None,
            "GatewayUserOrder: expected an object, got a str",
            id="not-an-object",
        ),
        pytest.param(
            "GatewayUserOrder",
            {"action": 1, "data": None},
            None,
            "GatewayUserOrder: expected an object, got null",
            id="wrapped-null",
        ),
        pytest.param(
            "GatewayUserOrder",
            [order_payload(), order_payload()],
            None,
            "GatewayUserOrder: expected one object, got 2",
            id="two-objects",
        ),
        pytest.param(
            "GatewayQuote",
            quote_payload(),
            None,
            "GatewayQuote: contractId is missing (market events carry it as their first argument)",
            id="quote-without-contract",
        ),
        pytest.param(
            "GatewayQuote",
            quote_payload(lastPrice=float("nan")),
            MNQ,
            "GatewayQuote: field 'lastPrice': Input should be a finite number (got nan)",
            id="nan-price",
        ),
        pytest.param(
            "GatewayDepth",
            {},
            None,
            "unknown event type 'GatewayDepth' (expected one of GatewayQuote, GatewayUserAccount, "
            "GatewayUserOrder, GatewayUserPosition, GatewayUserTrade)",
            id="unknown-type",
        ),
    ],
)
def test_malformed_payload_raises_one_line_wire_error(
    type_: str, data: object, contract_id: str | None, message: str
) -> None:
    with pytest.raises(WireError) as caught:
        parse_event(type_, data, AT, contract_id)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


# -- REST payloads ------------------------------------------------------------------------


def envelope(**payload: Any) -> dict[str, Any]:
    return {"success": True, "errorCode": 0, "errorMessage": None, **payload}


def test_parse_accounts_reads_account_search() -> None:
    payload = envelope(
        accounts=[account_payload(), account_payload(id=102, simulated=False, balance=1234.56)]
    )
    assert parse_accounts(payload) == [
        AccountInfo(101, "PRAC-V2-101", Decimal("50000.0"), can_trade=True, simulated=True),
        AccountInfo(102, "PRAC-V2-101", Decimal("1234.56"), can_trade=True, simulated=False),
    ]


def test_parse_positions_signs_sizes() -> None:
    payload = envelope(positions=[position_payload(), position_payload(contractId=ES, type=2, size=1)])
    assert [(p.contract_id, p.size) for p in parse_positions(payload)] == [(MNQ, 2), (ES, -1)]


def test_parse_orders_reads_a_list_or_search_by_id_single_order() -> None:
    assert [o.id for o in parse_orders(envelope(orders=[order_payload(id=1), order_payload(id=2)]))] == [1, 2]
    assert [o.id for o in parse_orders(envelope(order=order_payload(id=3)), "Order/searchById")] == [3]


def test_parse_trades_keeps_voided_fills_flagged() -> None:
    fills = parse_trades(
        envelope(trades=[trade_payload(), trade_payload(id=2, voided=True, profitAndLoss=-12.5)])
    )
    assert [(f.voided, f.pnl) for f in fills] == [(False, None), (True, Decimal("-12.5"))]


def test_parse_contracts_builds_tick_specs_and_symbols_via_the_catalog() -> None:
    contract = {
        "id": "CON.F.US.EP.U25",
        "name": "ESU5",
        "description": "E-mini S&P 500",
        "tickSize": 0.25,
        "tickValue": 12.5,
        "activeContract": True,
        "symbolId": "F.US.EP",
    }
    catalog = ContractCatalog()
    (from_list,) = parse_contracts(envelope(contracts=[contract]), catalog)
    (from_single,) = parse_contracts(envelope(contract=contract), catalog, "Contract/searchById")
    assert from_list == from_single
    assert (from_list.symbol, from_list.name, from_list.tick, from_list.active) == (
        "ES",
        "ESU5",
        TickSpec(Decimal("0.25"), Decimal("12.5")),
        True,
    )


@pytest.mark.parametrize(
    ("parse", "payload", "message"),
    [
        pytest.param(
            parse_positions,
            envelope(positions=[position_payload(), position_payload(size="x")]),
            "Position/searchOpen: field 'positions[1].size': Input should be a valid integer, "
            "unable to parse string as an integer (got 'x')",
            id="position-bad-size",
        ),
        pytest.param(
            parse_positions,
            envelope(positions=[position_payload(averagePrice=None)]),
            "Position/searchOpen: positions[0]: field 'averagePrice' is missing on an open position",
            id="open-position-without-average",
        ),
        pytest.param(
            parse_trades,
            envelope(trades=[trade_payload(side=5)]),
            "Trade/search: trades[0]: field 'side': unknown side 5 (0 buy, 1 sell)",
            id="trade-bad-side",
        ),
        pytest.param(
            parse_accounts,
            {"accounts": []},
            "Account/search: field 'success' is missing",
            id="no-envelope",
        ),
    ],
)
def test_malformed_rest_payload_names_endpoint_and_field(
    parse: Any, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(WireError) as caught:
        parse(payload)
    assert str(caught.value) == message


def test_envelope_of_a_business_failure() -> None:
    env = parse_envelope(
        {"success": False, "errorCode": 2, "errorMessage": None, "orderId": 99}, "Order/place"
    )
    assert (env.success, env.errorCode, env.errorMessage) == (False, 2, None)


# -- request bodies -----------------------------------------------------------------------


def test_place_body_sends_numbers_and_leaves_out_absent_fields() -> None:
    body = OrderPlaceRequest(
        accountId=101,
        contractId=MNQ,
        type=4,
        side=1,
        size=2,
        stopPrice=Decimal("20990.25"),
        customTag="RM-1",
        stopLossBracket=Bracket(ticks=-10, type=4),
    ).body()
    assert body == {
        "accountId": 101,
        "contractId": MNQ,
        "type": 4,
        "side": 1,
        "size": 2,
        "stopPrice": 20990.25,
        "customTag": "RM-1",
        "stopLossBracket": {"ticks": -10, "type": 4},
    }


def test_modify_and_search_bodies() -> None:
    assert OrderModifyRequest(accountId=101, orderId=7, stopPrice=Decimal("21000")).body() == {
        "accountId": 101,
        "orderId": 7,
        "stopPrice": 21000.0,
    }
    start = datetime(2026, 3, 9, 22, 0, tzinfo=UTC)
    assert TradeSearchRequest(accountId=101, startTimestamp=start).body() == {
        "accountId": 101,
        "startTimestamp": "2026-03-09T22:00:00Z",
    }
    query = OrderQueryRequest(filter=OrderQueryFilter(accountId=101, statuses=[1, 8]), pageSize=100)
    assert query.body() == {"filter": {"accountId": 101, "statuses": [1, 8]}, "pageSize": 100}


# -- domain -> wire -> domain ---------------------------------------------------------------

CREATED = datetime(2026, 3, 10, 14, 0, 1, 250000, tzinfo=UTC)
ORDER = Order(
    id=1000,
    account_id=101,
    contract_id=MNQ,
    type=OrderType.LIMIT,
    side=OrderSide.BUY,
    size=3,
    status=OrderStatus.OPEN,
    created_at=CREATED,
    limit_price=Decimal("20950.75"),
    custom_tag="RM-7",
)


def test_order_to_wire_is_the_gateway_shape() -> None:
    assert order_to_wire(ORDER, updated_at=AT) == {
        "id": 1000,
        "accountId": 101,
        "contractId": MNQ,
        "symbolId": "F.US.MNQ",
        "creationTimestamp": "2026-03-10T14:00:01.250000Z",
        "updateTimestamp": "2026-03-10T14:00:05Z",
        "status": 1,
        "type": 1,
        "side": 0,
        "size": 3,
        "limitPrice": 20950.75,
        "stopPrice": None,
        "fillVolume": 0,
        "filledPrice": None,
        "customTag": "RM-7",
    }


def test_flat_position_goes_out_as_size_0_type_0() -> None:
    flat = Position(101, MNQ, 0, Decimal(0), CREATED)
    assert position_to_wire(flat, 9) == {
        "id": 9,
        "accountId": 101,
        "contractId": MNQ,
        "creationTimestamp": "2026-03-10T14:00:01.250000Z",
        "type": 0,
        "size": 0,
        "averagePrice": 0.0,
    }


def test_partial_quote_goes_out_without_the_missing_prices() -> None:
    assert quote_to_wire(Quote(MNQ, Decimal("21000.5"), None, None, CREATED), "F.US.MNQ") == {
        "symbol": "F.US.MNQ",
        "lastPrice": 21000.5,
        "lastUpdated": "2026-03-10T14:00:01.250000Z",
        "timestamp": "2026-03-10T14:00:01.250000Z",
    }


def through_json(data: dict[str, Any]) -> Any:
    """What the other side of a socket sees."""
    return json.loads(json.dumps(data))


ROUND_TRIPS = [
    pytest.param("GatewayUserOrder", OrderUpdated(AT, ORDER), lambda e: order_to_wire(e.order), id="order"),
    pytest.param(
        "GatewayUserOrder",
        OrderUpdated(
            AT,
            Order(
                id=1001,
                account_id=101,
                contract_id=ES,
                type=OrderType.TRAILING_STOP,
                side=OrderSide.SELL,
                size=1,
                status=OrderStatus.FILLED,
                created_at=CREATED,
                stop_price=Decimal("4990.25"),
                trail_price=Decimal("10"),
                fill_volume=1,
                filled_price=Decimal("4990.25"),
                parent_order_id=999,
            ),
        ),
        lambda e: order_to_wire(e.order),
        id="order-filled-child",
    ),
    pytest.param(
        "GatewayUserPosition",
        PositionUpdated(AT, Position(101, MNQ, 2, Decimal("21000.41666667"), CREATED)),
        lambda e: position_to_wire(e.position, 1),
        id="position-long",
    ),
    pytest.param(
        "GatewayUserPosition",
        PositionUpdated(AT, Position(101, ES, -3, Decimal("5000.25"), CREATED)),
        lambda e: position_to_wire(e.position, 1),
        id="position-short",
    ),
    pytest.param(
        "GatewayUserPosition",
        PositionUpdated(AT, Position(101, ES, 0, Decimal(0), CREATED)),
        lambda e: position_to_wire(e.position, 1),
        id="position-flat",
    ),
    pytest.param(
        "GatewayUserTrade",
        FillReceived(
            AT,
            Fill(
                5000,
                101,
                1000,
                MNQ,
                OrderSide.SELL,
                2,
                Decimal("20925"),
                Decimal("-300"),
                Decimal("0.74"),
                False,
                CREATED,
            ),
        ),
        lambda e: fill_to_wire(e.fill),
        id="fill-closing",
    ),
    pytest.param(
        "GatewayUserTrade",
        FillReceived(
            AT,
            Fill(
                5001, 101, 1001, MNQ, OrderSide.BUY, 1, Decimal("21000.25"), None, Decimal(0), True, CREATED
            ),
        ),
        lambda e: fill_to_wire(e.fill),
        id="fill-opening-voided",
    ),
    pytest.param(
        "GatewayUserAccount",
        AccountUpdated(
            AT, AccountInfo(101, "PRAC-101", Decimal("49699.26"), can_trade=False, simulated=False)
        ),
        lambda e: account_to_wire(e.account),
        id="account",
    ),
    pytest.param(
        "GatewayQuote",
        QuoteReceived(AT, Quote(MNQ, Decimal("21000.25"), Decimal("21000"), Decimal("21000.25"), CREATED)),
        lambda e: quote_to_wire(e.quote, symbol_id(e.quote.contract_id)),
        id="quote",
    ),
    pytest.param(
        "GatewayQuote",
        QuoteReceived(AT, Quote(MNQ, None, Decimal("20999.75"), None, CREATED)),
        lambda e: quote_to_wire(e.quote, symbol_id(e.quote.contract_id)),
        id="quote-partial",
    ),
]


@pytest.mark.parametrize(("type_", "event", "to_wire"), ROUND_TRIPS)
def test_domain_to_wire_to_domain_round_trip(type_: str, event: Any, to_wire: Any) -> None:
    contract_id = MNQ if type_ == "GatewayQuote" else None
    assert parse_event(type_, through_json(to_wire(event)), AT, contract_id) == event
    assert parse_event(type_, wrap(to_wire(event), 1), AT, contract_id) == event


@given(
    ticks=st.integers(min_value=1, max_value=4_000_000),
    pnl_cents=st.integers(min_value=-10_000_000, max_value=10_000_000),
    size=st.integers(min_value=1, max_value=1000),
)
def test_fill_prices_and_money_survive_json_exactly(ticks: int, pnl_cents: int, size: int) -> None:
    price, pnl, fees = Decimal(ticks) * Decimal("0.25"), Decimal(pnl_cents) / 100, Decimal("0.37") * size
    fill = Fill(5000, 101, 1000, MNQ, OrderSide.SELL, size, price, pnl, fees, False, CREATED)
    event = parse_event("GatewayUserTrade", through_json(fill_to_wire(fill)), AT)
    assert event == FillReceived(AT, fill)


def test_symbol_id_of_contract_ids() -> None:
    assert symbol_id("CON.F.US.MNQ.Z25") == "F.US.MNQ"
    assert symbol_id("CON.F.US.EP.U25") == "F.US.EP"
    assert symbol_id("oddball") == "oddball"


def test_quote_model_is_complete_and_the_hot_path_reads_a_subset_of_it() -> None:
    assert set(wire.WireQuotePrices.model_fields) < set(wire.WireQuote.model_fields)
    full = wire.WireQuote.model_validate(quote_payload())
    assert (full.change, full.volume, full.symbolName) == (Decimal("12.5"), 123456, "/MNQ")
