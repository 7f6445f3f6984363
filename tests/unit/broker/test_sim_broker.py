"""SimBroker executes the engine's calls as the gateway would and feeds gateway events back."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from broker_payloads import ES, MNQ, T0, FakeClock, order_payload, position_payload, trade_payload

from risk_manager.broker import Broker, BrokerRejected, BrokerUnavailable, OutcomeUnknown
from risk_manager.broker.projectx import parse_event, position_to_wire, quote_to_wire, symbol_id
from risk_manager.broker.sim import SimBroker
from risk_manager.domain import (
    AccountInfo,
    ContractCatalog,
    Fill,
    FillReceived,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Quote,
)

T = TypeVar("T")
D = Decimal
ACCOUNT = AccountInfo(101, "PRAC-101", D("50000.00"), can_trade=True)
Emitted = list[tuple[str, dict[str, Any], str | None]]


def run(call: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(call)


def make_sim(clock: FakeClock, **options: Any) -> tuple[SimBroker, Emitted]:
    emitted: Emitted = []
    sim = SimBroker(
        clock,
        ContractCatalog(),
        fees={"mnq": D("0.37"), "ES": D("1.40")},
        emit=lambda type_, data, contract_id: emitted.append((type_, data, contract_id)),
        **options,
    )
    sim.add_account(ACCOUNT)
    return sim, emitted


def hold(sim: SimBroker, contract_id: str, size: int, avg: str, position_id: int = 77) -> None:
    """The scenario says the account holds a position (a GatewayUserPosition event)."""
    position = Position(101, contract_id, size, D(avg), T0)
    sim.observe("GatewayUserPosition", position_to_wire(position, position_id), None)


def quote(sim: SimBroker, contract_id: str, last: str) -> None:
    data = quote_to_wire(Quote(contract_id, D(last), None, None, T0), symbol_id(contract_id))
    sim.observe("GatewayQuote", data, contract_id)


def types(emitted: Emitted) -> list[str]:
    return [type_ for type_, _, _ in emitted]


def by_type(emitted: Emitted, type_: str) -> list[dict[str, Any]]:
    return [data for t, data, _ in emitted if t == type_]


@pytest.fixture
def sim_and_events(clock: FakeClock) -> tuple[SimBroker, Emitted]:
    return make_sim(clock)


def test_sim_broker_satisfies_the_broker_protocol(clock: FakeClock) -> None:
    broker: Broker = SimBroker(clock, ContractCatalog())
    assert isinstance(broker, Broker)


# -- closes -------------------------------------------------------------------------------


def test_close_long_fills_at_the_quote_with_gateway_pnl_and_fees(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 2, "21000.00")
    quote(sim, MNQ, "20925.00")
    clock.advance(seconds=3)

    run(sim.close_position(101, MNQ))

    assert types(emitted) == ["GatewayUserOrder", "GatewayUserTrade", "GatewayUserPosition"]
    assert all(contract_id is None for _, _, contract_id in emitted)
    (order,), (trade,), (position,) = (by_type(emitted, t) for t in types(emitted))
    assert {k: order[k] for k in ("id", "status", "type", "side", "size", "fillVolume", "filledPrice")} == {
        "id": 1000, "status": 2, "type": 2, "side": 1, "size": 2, "fillVolume": 2, "filledPrice": 20925.0,
    }  # fmt: skip
    assert trade == {
        "id": 5000,
        "accountId": 101,
        "contractId": MNQ,
        "creationTimestamp": "2026-03-10T14:00:03Z",
        "price": 20925.0,
        "profitAndLoss": -300.0,  # (20925 - 21000) / 0.25 = -300 ticks x 0.50 x 2
        "fees": 0.74,
        "side": 1,
        "size": 2,
        "voided": False,
        "orderId": 1000,
    }
    assert (position["id"], position["type"], position["size"]) == (77, 0, 0)
    assert run(sim.search_open_positions(101)) == []
    assert run(sim.search_accounts())[0].balance == D("49699.26")


def test_close_short_es_realizes_a_profit(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, ES, -3, "5000.00")
    quote(sim, ES, "4990.00")

    run(sim.close_position(101, ES))

    (trade,) = by_type(emitted, "GatewayUserTrade")
    assert (trade["side"], trade["profitAndLoss"], trade["fees"]) == (0, 1500.0, 4.2)


def test_close_without_a_quote_uses_the_last_fill_price(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    sim.observe("GatewayUserTrade", trade_payload(price=21010.5, size=1), None)
    hold(sim, MNQ, 1, "21010.50")

    run(sim.close_position(101, MNQ))

    (trade,) = by_type(emitted, "GatewayUserTrade")
    assert (trade["price"], trade["profitAndLoss"]) == (21010.5, 0.0)


def test_partial_close_keeps_the_rest_at_the_same_average(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 3, "21000.00")
    quote(sim, MNQ, "21010.00")

    run(sim.partial_close(101, MNQ, 1))

    (trade,) = by_type(emitted, "GatewayUserTrade")
    (position,) = by_type(emitted, "GatewayUserPosition")
    assert (trade["size"], trade["profitAndLoss"], trade["fees"]) == (1, 20.0, 0.37)
    assert (position["id"], position["type"], position["size"], position["averagePrice"]) == (
        77,
        1,
        2,
        21000.0,
    )
    assert run(sim.search_open_positions(101)) == [Position(101, MNQ, 2, D("21000.00"), T0)]


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        pytest.param(lambda s: s.close_position(101, ES), 2, "PositionNotFound", id="close-no-position"),
        pytest.param(lambda s: s.partial_close(101, MNQ, 4), 5, "InvalidCloseSize", id="partial-too-big"),
        pytest.param(lambda s: s.partial_close(101, MNQ, 0), 5, "InvalidCloseSize", id="partial-zero"),
        pytest.param(lambda s: s.close_position(999, MNQ), 1, "AccountNotFound", id="close-unknown-account"),
        pytest.param(lambda s: s.cancel_order(101, 123), 2, "OrderNotFound", id="cancel-unknown-order"),
        pytest.param(
            lambda s: s.modify_order(101, 123, size=1), 2, "OrderNotFound", id="modify-unknown-order"
        ),
        pytest.param(lambda s: s.search_open_orders(999), 1, "AccountNotFound", id="search-unknown-account"),
        pytest.param(
            lambda s: s.place_order(101, "CON.F.US.ZZZ.H26", OrderType.MARKET, OrderSide.BUY, 1),
            8,
            "ContractNotFound",
            id="place-unknown-contract",
        ),
        pytest.param(
            lambda s: s.place_order(101, MNQ, OrderType.STOP, OrderSide.SELL, 1),
            2,
            "needs stopPrice",
            id="stop-no-px",
        ),
        pytest.param(
            lambda s: s.place_order(101, MNQ, OrderType.TRAILING_STOP, OrderSide.SELL, 1, stop_price=D("1")),
            2,
            "not TRAILING_STOP",
            id="unsupported-type",
        ),
    ],
)
def test_refused_calls_raise_the_gateway_error_code(
    sim_and_events: tuple[SimBroker, Emitted], call: Any, code: int, message: str
) -> None:
    sim, emitted = sim_and_events
    hold(sim, MNQ, 3, "21000.00")
    quote(sim, MNQ, "21000.00")
    with pytest.raises(BrokerRejected, match=message) as caught:
        run(call(sim))
    assert caught.value.code == code
    assert emitted == []


def test_close_with_no_price_at_all_is_order_rejected(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 1, "21000.00")
    with pytest.raises(BrokerRejected, match=r"no price.*\[Position/closeContract, account 101\]") as caught:
        run(sim.close_position(101, MNQ))
    assert caught.value.code == 5
    with pytest.raises(BrokerRejected) as partial:
        run(sim.partial_close(101, MNQ, 1))
    assert partial.value.code == 6
    assert emitted == []


# -- market orders ------------------------------------------------------------------------


def test_market_entry_moves_the_average_and_has_null_pnl(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 1, "21000.00")
    quote(sim, MNQ, "21001.00")

    order_id = run(sim.place_order(101, MNQ, OrderType.MARKET, OrderSide.BUY, 1, custom_tag="RM-1"))

    assert order_id == 1000
    (order,), (trade,), (position,) = (by_type(emitted, t) for t in types(emitted))
    assert (order["customTag"], order["status"]) == ("RM-1", 2)
    assert trade["profitAndLoss"] is None
    assert (position["size"], position["averagePrice"]) == (2, 21000.5)


def test_market_order_through_zero_reverses_the_position(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 2, "21000.00")
    quote(sim, MNQ, "21010.00")
    clock.advance(minutes=1)

    run(sim.place_order(101, MNQ, OrderType.MARKET, OrderSide.SELL, 5))

    (trade,) = by_type(emitted, "GatewayUserTrade")
    (position,) = by_type(emitted, "GatewayUserPosition")
    assert trade["profitAndLoss"] == 40.0  # only the 2 closed contracts realize
    assert (position["type"], position["size"], position["averagePrice"]) == (2, 3, 21010.0)
    assert run(sim.search_open_positions(101)) == [Position(101, MNQ, -3, D("21010.00"), clock.now)]


def test_opening_from_flat_gets_a_new_position_id(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock, first_position_id=500)
    quote(sim, ES, "5000.00")
    run(sim.place_order(101, ES, OrderType.MARKET, OrderSide.SELL, 1))
    (position,) = by_type(emitted, "GatewayUserPosition")
    assert (position["id"], position["type"], position["size"]) == (500, 2, 1)


def test_duplicate_custom_tag_is_rejected(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    run(
        sim.place_order(
            101, MNQ, OrderType.LIMIT, OrderSide.BUY, 1, limit_price=D("20000"), custom_tag="RM-x"
        )
    )
    with pytest.raises(BrokerRejected, match="customTag 'RM-x'") as caught:
        run(
            sim.place_order(
                101, MNQ, OrderType.LIMIT, OrderSide.BUY, 1, limit_price=D("20000"), custom_tag="RM-x"
            )
        )
    assert caught.value.code == 2


# -- resting orders -----------------------------------------------------------------------


def test_resting_stop_rests_then_fills_at_its_price_when_a_quote_crosses(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 2, "21000.00")
    quote(sim, MNQ, "21000.00")

    stop_id = run(sim.place_order(101, MNQ, OrderType.STOP, OrderSide.SELL, 2, stop_price=D("20990.00")))
    assert [(d["id"], d["status"], d["stopPrice"]) for d in by_type(emitted, "GatewayUserOrder")] == [
        (stop_id, 1, 20990.0)
    ]
    assert [o.id for o in run(sim.search_open_orders(101))] == [stop_id]

    quote(sim, MNQ, "20990.25")
    assert len(emitted) == 1
    quote(sim, MNQ, "20985.00")  # gapped through: still fills at the stop price

    assert types(emitted)[1:] == ["GatewayUserOrder", "GatewayUserTrade", "GatewayUserPosition"]
    order, trade, position = (data for _, data, _ in emitted[1:])
    assert (order["id"], order["status"], order["filledPrice"]) == (stop_id, 2, 20990.0)
    assert (trade["orderId"], trade["price"], trade["profitAndLoss"]) == (
        stop_id,
        20990.0,
        -40.0,
    )  # -40 ticks x 0.50 x 2
    assert (position["size"], position["type"]) == (0, 0)
    assert run(sim.search_open_orders(101)) == []
    quote(sim, MNQ, "20900.00")
    assert len(emitted) == 4  # filled once only


def test_resting_buy_limit_fills_at_its_limit(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    quote(sim, MNQ, "21000.00")
    limit_id = run(sim.place_order(101, MNQ, OrderType.LIMIT, OrderSide.BUY, 1, limit_price=D("20950.00")))
    quote(sim, MNQ, "20960.00")
    assert len(emitted) == 1
    quote(sim, MNQ, "20949.75")
    (trade,) = by_type(emitted, "GatewayUserTrade")
    assert (trade["orderId"], trade["price"], trade["profitAndLoss"]) == (limit_id, 20950.0, None)
    assert run(sim.search_open_positions(101)) == [Position(101, MNQ, 1, D("20950.00"), T0)]


def test_scenario_orders_are_never_triggered_by_the_sim(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    sim.observe("GatewayUserOrder", order_payload(stopPrice=20990.25), None)
    quote(sim, MNQ, "20900.00")
    assert emitted == []
    assert [o.id for o in run(sim.search_open_orders(101))] == [3_000_000_123]


def test_modify_moves_a_resting_stop_and_emits_the_update(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 1, "21000.00")
    stop_id = run(sim.place_order(101, MNQ, OrderType.STOP, OrderSide.SELL, 1, stop_price=D("20990.00")))
    clock.advance(seconds=10)

    run(sim.modify_order(101, stop_id, stop_price=D("21000.00")))

    update = by_type(emitted, "GatewayUserOrder")[-1]
    assert (update["id"], update["status"], update["stopPrice"], update["updateTimestamp"]) == (
        stop_id,
        1,
        21000.0,
        "2026-03-10T14:00:10Z",
    )
    quote(sim, MNQ, "20999.75")
    assert by_type(emitted, "GatewayUserTrade")[0]["price"] == 21000.0


def test_modify_to_a_zero_size_is_rejected(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    stop_id = run(sim.place_order(101, MNQ, OrderType.STOP, OrderSide.SELL, 1, stop_price=D("20990.00")))
    with pytest.raises(BrokerRejected) as caught:
        run(sim.modify_order(101, stop_id, size=0))
    assert caught.value.code == 3


# -- cancels ------------------------------------------------------------------------------


def test_cancel_sets_status_cancelled_and_a_second_cancel_is_order_not_found(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    sim.observe("GatewayUserOrder", order_payload(), None)
    run(sim.cancel_order(101, 3_000_000_123))

    (update,) = by_type(emitted, "GatewayUserOrder")
    assert (update["id"], update["status"], update["customTag"], update["parentOrderId"]) == (
        3_000_000_123,
        3,
        "RM-abc-SL",
        3_000_000_100,
    )
    assert run(sim.search_open_orders(101)) == []
    with pytest.raises(
        BrokerRejected, match=r"OrderNotFound: order 3000000123 \[Order/cancel, account 101\]"
    ):
        run(sim.cancel_order(101, 3_000_000_123))


def test_refuse_cancels_answers_as_a_live_account(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    sim.refuse_cancels = True
    sim.observe("GatewayUserOrder", order_payload(), None)
    with pytest.raises(BrokerRejected, match="Live accounts not supported") as caught:
        run(sim.cancel_order(101, 3_000_000_123))
    assert caught.value.code == 6
    assert emitted == []
    assert len(run(sim.search_open_orders(101))) == 1


def test_suspended_bracket_children_are_working_orders(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    sim.observe("GatewayUserOrder", order_payload(id=1, status=8, stopPrice=None), None)
    sim.observe("GatewayUserOrder", order_payload(id=2, status=2), None)
    sim.observe("GatewayUserOrder", order_payload(id=3, status=6), None)
    assert [o.id for o in run(sim.search_open_orders(101))] == [1, 3]


# -- fault injection ----------------------------------------------------------------------


def test_fail_next_raises_without_effect_then_recovers(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 1, "21000.00")
    quote(sim, MNQ, "21000.00")
    sim.fail_next("close_position", times=2)

    for _ in range(2):
        with pytest.raises(BrokerUnavailable, match=r"\[Position/closeContract, account 101\]"):
            run(sim.close_position(101, MNQ))
    assert emitted == []
    assert len(run(sim.search_open_positions(101))) == 1

    run(sim.close_position(101, MNQ))
    assert run(sim.search_open_positions(101)) == []
    assert [name for name, _ in sim.calls].count("close_position") == 3


def test_outcome_unknown_with_apply_takes_effect_and_raises(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 1, "21000.00")
    quote(sim, MNQ, "21000.00")
    sim.fail_next(
        "close_position", error=OutcomeUnknown("timed out", endpoint="Position/closeContract"), apply=True
    )

    with pytest.raises(OutcomeUnknown, match="timed out"):
        run(sim.close_position(101, MNQ))

    assert types(emitted) == ["GatewayUserOrder", "GatewayUserTrade", "GatewayUserPosition"]
    assert run(sim.search_open_positions(101)) == []


def test_scripted_faults_are_used_in_order_and_only_by_their_method(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    rejected = BrokerRejected("Follower accounts cannot cancel orders", endpoint="Order/cancel", code=6)
    sim.fail_next("search_accounts")
    sim.fail_next("search_accounts", error=rejected)
    with pytest.raises(BrokerUnavailable):
        run(sim.search_accounts())
    with pytest.raises(BrokerRejected, match="Follower"):
        run(sim.search_accounts())
    assert run(sim.search_accounts()) == [ACCOUNT]


def test_fail_next_names_the_methods_it_knows() -> None:
    sim = SimBroker(FakeClock(), ContractCatalog())
    with pytest.raises(ValueError, match=r"unknown method 'close'.*close_position"):
        sim.fail_next("close")
    with pytest.raises(ValueError, match="times must be >= 1"):
        sim.fail_next("close_position", times=0)


def test_calls_records_every_call_with_its_arguments(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    sim.fail_next("cancel_order")
    with pytest.raises(BrokerUnavailable):
        run(sim.cancel_order(101, 7))
    run(sim.search_trades(101, T0))
    assert sim.calls == [
        ("cancel_order", {"account_id": 101, "order_id": 7}),
        ("search_trades", {"account_id": 101, "start": T0, "end": None}),
    ]


# -- execute=False --------------------------------------------------------------------------


def test_execute_false_records_calls_and_changes_nothing(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock, execute=False)
    hold(sim, MNQ, 2, "21000.00")
    sim.observe("GatewayUserOrder", order_payload(), None)
    quote(sim, MNQ, "20900.00")

    run(sim.close_position(101, MNQ))
    run(sim.partial_close(101, MNQ, 1))
    run(sim.cancel_order(101, 3_000_000_123))
    run(sim.modify_order(101, 3_000_000_123, stop_price=D("1")))
    order_id = run(sim.place_order(101, MNQ, OrderType.MARKET, OrderSide.SELL, 2))

    assert emitted == []
    assert order_id > 3_000_000_123  # never collides with an id the journal holds
    assert [name for name, _ in sim.calls] == [
        "close_position", "partial_close", "cancel_order", "modify_order", "place_order",
    ]  # fmt: skip
    assert run(sim.search_open_positions(101)) == [Position(101, MNQ, 2, D("21000.00"), T0)]
    assert len(run(sim.search_open_orders(101))) == 1


# -- observe and the REST view ----------------------------------------------------------------


def test_observe_keeps_the_rest_view_in_step(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    sim.observe("GatewayUserTrade", {"action": 0, "data": trade_payload()}, None)
    sim.observe("GatewayUserTrade", trade_payload(), None)  # the same fill twice is one fill
    sim.observe(
        "GatewayUserAccount", {"id": 101, "name": "PRAC-101", "balance": 49000.5, "canTrade": False}, None
    )
    sim.observe("GatewayUserPosition", {"action": 1, "data": position_payload(size=2)}, None)
    sim.observe("GatewayTrade", {"price": 1}, MNQ)  # market trades: not the sim's business
    sim.observe("GatewayLogout", None, None)

    assert [f.id for f in run(sim.search_trades(101, T0))] == [8_000_000_001]
    assert run(sim.search_accounts()) == [AccountInfo(101, "PRAC-101", D("49000.5"), can_trade=False)]
    assert [p.size for p in run(sim.search_open_positions(101))] == [2]

    sim.observe("GatewayUserPosition", {"action": 2, "data": position_payload(size=0, type=0)}, None)
    assert run(sim.search_open_positions(101)) == []
    assert emitted == []


def test_observing_its_own_events_changes_nothing(clock: FakeClock) -> None:
    """The replay may feed emitted events back: upserts keep the view identical."""
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 3, "21000.00")
    quote(sim, MNQ, "21010.00")
    run(sim.partial_close(101, MNQ, 1))
    before = (
        run(sim.search_open_positions(101)),
        run(sim.search_trades(101, T0)),
        run(sim.search_open_orders(101)),
    )

    for type_, data, contract_id in list(emitted):
        sim.observe(type_, data, contract_id)

    after = (
        run(sim.search_open_positions(101)),
        run(sim.search_trades(101, T0)),
        run(sim.search_open_orders(101)),
    )
    assert after == before


def test_emitted_events_parse_as_gateway_events(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    hold(sim, MNQ, 2, "21000.00")
    quote(sim, MNQ, "20925.00")
    run(sim.close_position(101, MNQ))
    events = [parse_event(type_, data, clock.now, contract_id) for type_, data, contract_id in emitted]
    assert [type(e).__name__ for e in events] == ["OrderUpdated", "FillReceived", "PositionUpdated"]
    assert isinstance(events[1], FillReceived)
    assert events[1].fill == Fill(
        5000, 101, 1000, MNQ, OrderSide.SELL, 2, D("20925"), D("-300"), D("0.74"), False, T0
    )


def test_ids_increase_and_skip_past_ids_the_scenario_used(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    quote(sim, MNQ, "21000.00")
    first = run(sim.place_order(101, MNQ, OrderType.MARKET, OrderSide.BUY, 1))
    sim.observe("GatewayUserOrder", order_payload(id=1500, status=2), None)
    sim.observe("GatewayUserTrade", trade_payload(id=7000), None)
    second = run(sim.place_order(101, MNQ, OrderType.MARKET, OrderSide.BUY, 1))
    assert (first, second) == (1000, 1501)
    assert [t["id"] for t in by_type(emitted, "GatewayUserTrade")] == [5000, 7001]


def test_load_snapshot_seeds_positions_orders_and_the_fill_price(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    fill = Fill(42, 101, 41, ES, OrderSide.SELL, 1, D("5001.25"), None, D(0), False, T0)
    working = Order(41, 101, ES, OrderType.STOP, OrderSide.BUY, 1, OrderStatus.OPEN, T0, stop_price=D("5010"))
    sim.load_snapshot([Position(101, ES, -1, D("5001.25"), T0)], [working], [fill])

    assert run(sim.search_open_orders(101)) == [working]
    assert run(sim.search_trades(101, T0, T0)) == [fill]
    run(sim.close_position(101, ES))  # no quote: the snapshot's last fill price
    (trade,) = by_type(emitted, "GatewayUserTrade")
    assert (trade["price"], trade["profitAndLoss"], trade["fees"]) == (5001.25, 0.0, 1.4)


def test_scenario_data_for_an_account_never_added_is_a_setup_error(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    with pytest.raises(ValueError, match="account 202 was never added"):
        sim.observe("GatewayUserTrade", trade_payload(accountId=202), None)


def test_search_trades_filters_by_time(clock: FakeClock) -> None:
    sim, _ = make_sim(clock)
    sim.observe("GatewayUserTrade", trade_payload(id=1, creationTimestamp="2026-03-10T13:59:59Z"), None)
    sim.observe("GatewayUserTrade", trade_payload(id=2, creationTimestamp="2026-03-10T14:30:00Z"), None)
    sim.observe("GatewayUserTrade", trade_payload(id=3, creationTimestamp="2026-03-10T15:00:01Z"), None)
    assert [f.id for f in run(sim.search_trades(101, T0))] == [2, 3]
    assert [f.id for f in run(sim.search_trades(101, T0, T0.replace(hour=15)))] == [2]


def test_update_account_emits_gateway_user_account(clock: FakeClock) -> None:
    sim, emitted = make_sim(clock)
    sim.update_account(AccountInfo(101, "PRAC-101", D("50000.00"), can_trade=False))
    assert emitted == [
        (
            "GatewayUserAccount",
            {
                "id": 101,
                "name": "PRAC-101",
                "balance": 50000.0,
                "canTrade": False,
                "isVisible": True,
                "simulated": True,
            },
            None,
        )
    ]
