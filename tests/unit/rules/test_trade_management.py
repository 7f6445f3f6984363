"""RULE-012 Trade Management: the Given/When/Then of SPEC §3 and the edges.

Each case gives the account (positions, working orders, the daemon's order ids, the mark
and the best mark since open), one event, and expects the order actions the rule returns
as ``(kind, order id or side, size, price)``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from factories import ES, MNQ, NOON, order, order_event, position_event, quote_event, state
from risk_manager.config.risk import TradeManagementConfig
from risk_manager.domain import (
    Action,
    ActionKind,
    Decision,
    Evaluate,
    Event,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionUpdated,
    QuoteReceived,
    Tick,
)
from risk_manager.engine.merge import merge
from risk_manager.ledger import AccountState
from risk_manager.rules import REGISTRY, trade_management

BUY, SELL = OrderSide.BUY, OrderSide.SELL
UNKNOWN = "CON.F.US.ZZZ.H26"  # no tick spec anywhere


def config(
    sl: int | None = 40,
    tp: int | None = None,
    be: tuple[int, int] | None = (20, 1),
    trail: tuple[int, int] | None = (40, 20),
) -> TradeManagementConfig:
    """SPEC's example block; ``None`` switches a part off (``enabled: false``)."""
    block: dict[str, Any] = {
        "enabled": True,
        "auto_stop_loss": {"enabled": sl is not None, "ticks": sl or 40},
        "auto_take_profit": {"enabled": tp is not None, "ticks": tp or 80},
        "breakeven": {
            "enabled": be is not None,
            "trigger_ticks": (be or (20, 1))[0],
            "offset_ticks": (be or (20, 1))[1],
        },
        "trailing_stop": {
            "enabled": trail is not None,
            "activation_ticks": (trail or (40, 20))[0],
            "trail_ticks": (trail or (40, 20))[1],
        },
    }
    return TradeManagementConfig.model_validate(block)


def stop(order_id: int, side: OrderSide, size: int, price: str, contract: str = MNQ, **changes: Any) -> Order:
    return replace(order(order_id, contract, side, size, type=OrderType.STOP, stop=price), **changes)


def limit(order_id: int, side: OrderSide, size: int, price: str, contract: str = MNQ) -> Order:
    return order(order_id, contract, side, size, price=price)


def account(
    held: list[tuple[str, int, str]],
    orders: list[Order] = (),  # type: ignore[assignment]
    daemon: tuple[int, ...] = (),
    mark: dict[str, str] | None = None,
    best: dict[str, str] | None = None,
) -> AccountState:
    st = state(*held, marks=mark)
    for o in orders:
        st.apply_order(o)
    st.daemon_orders.update(daemon)
    st.best_marks = {cid: Decimal(price) for cid, price in (best or {}).items()}
    return st


def shown(action: Action) -> tuple[str, object, int | None, str | None]:
    who: object = (
        action.order_id
        if action.order_id is not None
        else action.side.name
        if action.side is not None
        else None
    )
    return (action.kind.value, who, action.size, None if action.price is None else f"{action.price}")


def run(cfg: TradeManagementConfig, st: AccountState, event: Event) -> list[Decision]:
    return trade_management.evaluate(cfg, st, event, event.at)


def actions(decisions: list[Decision]) -> list[tuple[str, object, int | None, str | None]]:
    return [shown(a) for d in decisions for a in d.actions]


LONG = [(MNQ, 1, "21000.00")]
OFF_GRID = "21000.125"  # two fills, 21000.00 and 21000.25: the average is off the tick grid

CASES = [
    # -- SPEC §3 RULE-012: G MNQ long 1 @21000.00 ----------------------------------------------
    pytest.param(
        config(),
        LONG,
        [],
        (),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 1, "21000.00"),
        [("place_stop", "SELL", 1, "20990.00")],
        ["auto stop 40 ticks below 21000.00"],
        id="RULE-012.1-sell-stop-20990",
    ),
    pytest.param(
        config(tp=80),
        LONG,
        [],
        (),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 1, "21000.00"),
        [("place_stop", "SELL", 1, "20990.00"), ("place_target", "SELL", 1, "21020.00")],
        ["auto stop 40 ticks below 21000.00", "auto target 80 ticks above 21000.00"],
        id="RULE-012.1-with-take-profit-sell-limit-21020",
    ),
    pytest.param(
        config(tp=80),
        LONG,
        [stop(1000, SELL, 1, "20990.00")],
        (1000,),
        {MNQ: "21001.00"},
        {MNQ: "21001.00"},
        quote_event(MNQ, "21001.00"),
        [("place_target", "SELL", 1, "21020.00")],
        ["auto target 80 ticks above 21000.00"],
        id="a-missing-target-is-placed",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "20990.00")],
        (1000,),
        {MNQ: "21005.00"},
        {MNQ: "21005.00"},
        quote_event(MNQ, "21005.00"),
        [("modify_stop", 1000, None, "21000.25")],
        ["breakeven 21000.00 + 1 tick (best 21005.00, 20 ticks in profit)"],
        id="RULE-012.2-breakeven-21000.25",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "20990.00")],
        (1000,),
        {MNQ: "21004.75"},
        {MNQ: "21004.75"},
        quote_event(MNQ, "21004.75"),
        [],
        [],
        id="RULE-012.2-19-ticks-not-yet",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "21000.25")],
        (1000,),
        {MNQ: "21012.00"},
        {MNQ: "21012.00"},
        quote_event(MNQ, "21012.00"),
        [("modify_stop", 1000, None, "21007.00")],
        ["trail 20 ticks behind best 21012.00"],
        id="RULE-012.3-trail-21007",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "21007.00")],
        (1000,),
        {MNQ: "21008.00"},
        {MNQ: "21012.00"},
        quote_event(MNQ, "21008.00"),
        [],
        [],
        id="RULE-012.3-back-to-21008-unchanged",
    ),
    pytest.param(
        config(sl=8),
        [(ES, -1, "6000.00")],
        [],
        (),
        {ES: "6000.00"},
        None,
        position_event(ES, -1, "6000.00"),
        [("place_stop", "BUY", 1, "6002.00")],
        ["auto stop 8 ticks above 6000.00"],
        id="RULE-012.4-ES-short-buy-stop-6002",
    ),
    # -- rounding: avg 21000.125 is off the grid -----------------------------------------------
    pytest.param(
        config(),
        [(MNQ, 2, OFF_GRID)],
        [],
        (),
        None,
        None,
        position_event(MNQ, 2, OFF_GRID),
        [("place_stop", "SELL", 2, "20990.00")],
        ["auto stop 40 ticks below 21000.125"],
        id="rounding-long-stop-down",
    ),
    pytest.param(
        config(),
        [(MNQ, -2, OFF_GRID)],
        [],
        (),
        None,
        None,
        position_event(MNQ, -2, OFF_GRID),
        [("place_stop", "BUY", 2, "21010.25")],
        ["auto stop 40 ticks above 21000.125"],
        id="rounding-short-stop-up",
    ),
    pytest.param(
        config(tp=80),
        [(MNQ, 2, OFF_GRID)],
        [stop(1000, SELL, 2, "20990.00")],
        (1000,),
        None,
        None,
        position_event(MNQ, 2, OFF_GRID),
        [("place_target", "SELL", 2, "21020.25")],
        ["auto target 80 ticks above 21000.125"],
        id="rounding-long-target-up",
    ),
    pytest.param(
        config(tp=80),
        [(MNQ, -2, OFF_GRID)],
        [stop(1000, BUY, 2, "21010.25")],
        (1000,),
        None,
        None,
        position_event(MNQ, -2, OFF_GRID),
        [("place_target", "BUY", 2, "20980.00")],
        ["auto target 80 ticks below 21000.125"],
        id="rounding-short-target-down",
    ),
    pytest.param(
        config(),
        [(MNQ, 2, OFF_GRID)],
        [stop(1000, SELL, 2, "20990.00")],
        (1000,),
        {MNQ: "21005.25"},
        {MNQ: "21005.25"},
        quote_event(MNQ, "21005.25"),
        [("modify_stop", 1000, None, "21000.50")],
        ["breakeven 21000.125 + 1 tick (best 21005.25, 20.5 ticks in profit)"],
        id="rounding-long-breakeven-up-away-from-loss",
    ),
    pytest.param(
        config(),
        [(MNQ, -2, OFF_GRID)],
        [stop(1000, BUY, 2, "21010.25")],
        (1000,),
        {MNQ: "20995.00"},
        {MNQ: "20995.00"},
        quote_event(MNQ, "20995.00"),
        [("modify_stop", 1000, None, "20999.75")],
        ["breakeven 21000.125 - 1 tick (best 20995.00, 20.5 ticks in profit)"],
        id="rounding-short-breakeven-down-away-from-loss",
    ),
    pytest.param(
        config(be=(20, 0)),
        [(MNQ, -2, OFF_GRID)],
        [stop(1000, BUY, 2, "21010.25")],
        (1000,),
        {MNQ: "20995.00"},
        {MNQ: "20995.00"},
        quote_event(MNQ, "20995.00"),
        [("modify_stop", 1000, None, "21000.00")],
        ["breakeven 21000.125 - 0 ticks (best 20995.00, 20.5 ticks in profit)"],
        id="rounding-short-breakeven-offset-0-never-on-the-loss-side",
    ),
    pytest.param(
        config(sl=8),
        [(ES, -1, "6000.00")],
        [stop(1000, BUY, 1, "6002.00", ES)],
        (1000,),
        {ES: "5990.00"},
        {ES: "5990.00"},
        quote_event(ES, "5990.00"),
        [("modify_stop", 1000, None, "5995.00")],
        ["trail 20 ticks behind best 5990.00"],
        id="short-trail-above-the-best",
    ),
    pytest.param(
        config(trail=(40, 21)),
        [(MNQ, -1, OFF_GRID)],
        [stop(1000, BUY, 1, "21010.25")],
        (1000,),
        {MNQ: "20990.00"},
        {MNQ: "20990.00"},
        quote_event(MNQ, "20990.00"),
        [("modify_stop", 1000, None, "20995.25")],
        ["trail 21 ticks behind best 20990.00"],
        id="short-trail-on-grid-from-the-best",
    ),
    # -- which stop is managed -----------------------------------------------------------------
    pytest.param(
        config(),
        [(MNQ, 2, "21000.00")],
        [stop(7, SELL, 1, "20980.00"), stop(8, SELL, 1, "20995.00")],
        (),
        {MNQ: "21005.00"},
        {MNQ: "21005.00"},
        quote_event(MNQ, "21005.00"),
        [("modify_stop", 8, None, "21000.25")],
        ["breakeven 21000.00 + 1 tick (best 21005.00, 20 ticks in profit)"],
        id="trader-stop-nearest-the-mark-is-managed",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(7, SELL, 1, "20995.00"), stop(1000, SELL, 1, "20990.00")],
        (1000,),
        {MNQ: "21005.00"},
        {MNQ: "21005.00"},
        quote_event(MNQ, "21005.00"),
        [("modify_stop", 1000, None, "21000.25")],
        ["breakeven 21000.00 + 1 tick (best 21005.00, 20 ticks in profit)"],
        id="daemon-stop-managed-before-a-nearer-trader-stop",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(7, SELL, 1, "20995.00")],
        (),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 1, "21000.00"),
        [],
        [],
        id="trader-stop-no-auto-stop",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(7, BUY, 1, "21010.00")],
        (),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 1, "21000.00"),
        [("place_stop", "SELL", 1, "20990.00")],
        ["auto stop 40 ticks below 21000.00"],
        id="a-buy-stop-on-a-long-is-not-a-stop-loss",
    ),
    pytest.param(
        config(),
        [(MNQ, 2, "21000.00")],
        [stop(7, SELL, 1, "20995.00")],
        (),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 2, "21000.00"),
        [],
        [],
        id="partial-trader-stop-is-managed-not-topped-up",
    ),
    # -- never loosen --------------------------------------------------------------------------
    pytest.param(
        config(),
        LONG,
        [stop(7, SELL, 1, "21008.00")],
        (),
        {MNQ: "21012.00"},
        {MNQ: "21012.00"},
        quote_event(MNQ, "21012.00"),
        [],
        [],
        id="never-loosen-trader-stop-above-the-trail",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "21007.00")],
        (1000,),
        {MNQ: "21006.00"},
        {MNQ: "21012.00"},
        quote_event(MNQ, "21006.00"),
        [],
        [],
        id="never-loosen-breakeven-below-the-trail",
    ),
    pytest.param(
        config(),
        [(ES, -1, "6000.00")],
        [stop(1000, BUY, 1, "5999.00", ES)],
        (1000,),
        {ES: "5995.00"},
        {ES: "5995.00"},
        quote_event(ES, "5995.00"),
        [],
        [],
        id="never-loosen-short",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "21007.00")],
        (1000,),
        {MNQ: "21007.50"},
        {MNQ: "21020.00"},
        position_event(MNQ, 1, "21000.00"),
        [],
        [],
        id="no-stop-at-or-through-the-mark",
    ),
    # -- placing when there is none ------------------------------------------------------------
    pytest.param(
        config(),
        LONG,
        [],
        (),
        {MNQ: "21012.00"},
        {MNQ: "21012.00"},
        Evaluate(NOON, 101, "startup"),
        [("place_stop", "SELL", 1, "21007.00")],
        ["trail 20 ticks behind best 21012.00"],
        id="startup-place-at-the-more-protective-level",
    ),
    pytest.param(
        config(sl=None),
        LONG,
        [],
        (),
        {MNQ: "21005.00"},
        {MNQ: "21005.00"},
        quote_event(MNQ, "21005.00"),
        [("place_stop", "SELL", 1, "21000.25")],
        ["breakeven 21000.00 + 1 tick (best 21005.00, 20 ticks in profit)"],
        id="no-auto-stop-place-one-at-breakeven",
    ),
    pytest.param(
        config(sl=None),
        LONG,
        [],
        (),
        {MNQ: "21004.00"},
        {MNQ: "21004.00"},
        quote_event(MNQ, "21004.00"),
        [],
        [],
        id="no-auto-stop-nothing-armed-nothing-placed",
    ),
    pytest.param(
        config(),
        LONG,
        [],
        (),
        {MNQ: "20985.00"},
        {MNQ: "21000.00"},
        position_event(MNQ, 1, "21000.00"),
        [],
        [],
        id="auto-stop-the-mark-already-passed-is-not-placed",
    ),
    pytest.param(
        config(),
        LONG,
        [],
        (),
        None,
        None,
        position_event(MNQ, 1, "21000.00"),
        [("place_stop", "SELL", 1, "20990.00")],
        ["auto stop 40 ticks below 21000.00"],
        id="no-quote-yet-stop-placed-from-the-average",
    ),
    pytest.param(
        config(),
        [(UNKNOWN, 1, "100.00")],
        [],
        (),
        None,
        None,
        position_event(UNKNOWN, 1, "100.00"),
        [],
        [],
        id="unknown-tick-spec-skipped",
    ),
    pytest.param(
        config(sl=None, tp=None, be=None, trail=None),
        LONG,
        [],
        (),
        {MNQ: "21050.00"},
        {MNQ: "21050.00"},
        quote_event(MNQ, "21050.00"),
        [],
        [],
        id="all-parts-off",
    ),
    # -- targets -------------------------------------------------------------------------------
    pytest.param(
        config(tp=80),
        LONG,
        [stop(1000, SELL, 1, "20990.00"), limit(9, SELL, 1, "21010.00")],
        (1000,),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 1, "21000.00"),
        [],
        [],
        id="trader-target-no-daemon-target",
    ),
    pytest.param(
        config(tp=80),
        LONG,
        [stop(1000, SELL, 1, "20990.00")],
        (1000,),
        {MNQ: "21020.00"},
        {MNQ: "21000.00"},
        position_event(MNQ, 1, "21000.00"),
        [],
        [],
        id="target-the-mark-reached-is-not-placed",
    ),
    # -- size changes, flat, reversal ----------------------------------------------------------
    pytest.param(
        config(tp=80),
        [(MNQ, 2, "21000.00")],
        [stop(1000, SELL, 1, "20990.00"), limit(1001, SELL, 1, "21020.00")],
        (1000, 1001),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 2, "21000.00"),
        [("modify_stop", 1000, 2, "20990.00"), ("modify_target", 1001, 2, "21020.00")],
        ["MNQ +2: resize daemon stop 1000 from 1 to 2", "MNQ +2: resize daemon target 1001 from 1 to 2"],
        id="size-up-daemon-orders-resized",
    ),
    pytest.param(
        config(),
        [(MNQ, 1, "21000.00")],
        [stop(1000, SELL, 3, "21000.00")],
        (1000,),
        {MNQ: "21012.00"},
        {MNQ: "21012.00"},
        position_event(MNQ, 1, "21000.00"),
        [("modify_stop", 1000, 1, "21007.00")],
        ["trail 20 ticks behind best 21012.00, resized to 1"],
        id="size-down-with-a-tighter-level-one-modify",
    ),
    pytest.param(
        config(),
        [(MNQ, 2, "21000.00")],
        [stop(7, SELL, 1, "20990.00")],
        (),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 2, "21000.00"),
        [],
        [],
        id="trader-stop-never-resized",
    ),
    pytest.param(
        config(tp=80),
        [],
        [stop(1000, SELL, 1, "20990.00"), limit(1001, SELL, 1, "21020.00"), stop(7, SELL, 1, "20980")],
        (1000, 1001),
        None,
        None,
        position_event(MNQ, 0, "0"),
        [("cancel_order", 1000, None, None), ("cancel_order", 1001, None, None)],
        ["MNQ flat: cancel daemon stop 1000", "MNQ flat: cancel daemon target 1001"],
        id="flat-daemon-orders-cancelled-trader-order-kept",
    ),
    pytest.param(
        config(tp=80),
        [(MNQ, -1, "21010.00")],
        [stop(1000, SELL, 1, "20990.00"), limit(1001, SELL, 1, "21020.00")],
        (1000, 1001),
        {MNQ: "21010.00"},
        None,
        position_event(MNQ, -1, "21010.00"),
        [
            ("cancel_order", 1000, None, None),
            ("cancel_order", 1001, None, None),
            ("place_stop", "BUY", 1, "21020.00"),
            ("place_target", "BUY", 1, "20990.00"),
        ],
        [
            "MNQ -1: daemon stop 1000 is on the opening side (reversed)",
            "MNQ -1: daemon target 1001 is on the opening side (reversed)",
            "auto stop 40 ticks above 21010.00",
            "auto target 80 ticks below 21010.00",
        ],
        id="reversal-old-orders-cancelled-new-stop",
    ),
    pytest.param(
        config(),
        LONG,
        [stop(1000, SELL, 1, "20990.00"), stop(1002, SELL, 1, "20990.00")],
        (1000, 1002),
        {MNQ: "21000.00"},
        None,
        quote_event(MNQ, "21000.00"),
        [("cancel_order", 1002, None, None)],
        ["MNQ +1: duplicate daemon stop 1002"],
        id="duplicate-daemon-stop-cancelled",
    ),
    pytest.param(
        config(),
        LONG,
        [order(1003, MNQ, SELL, 1, type=OrderType.MARKET, status=OrderStatus.PENDING)],
        (1003,),
        {MNQ: "21000.00"},
        None,
        position_event(MNQ, 1, "21000.00"),
        [("place_stop", "SELL", 1, "20990.00")],
        ["auto stop 40 ticks below 21000.00"],
        id="a-daemon-close-order-is-not-a-protective-order",
    ),
    # -- events that wait ----------------------------------------------------------------------
    pytest.param(
        config(),
        LONG,
        [],
        (),
        {MNQ: "21000.00"},
        None,
        order_event(order(5, MNQ, BUY, 1, type=OrderType.MARKET, status=OrderStatus.FILLED)),
        [],
        [],
        id="a-fill-under-way-waits-for-its-position-update",
    ),
    pytest.param(
        config(),
        [(MNQ, 1, "21000.00"), (ES, 1, "6000.00")],
        [],
        (),
        {MNQ: "21000.00", ES: "6000.00"},
        None,
        quote_event(ES, "6000.00"),
        [("place_stop", "SELL", 1, "5990.00")],
        ["auto stop 40 ticks below 6000.00"],
        id="a-quote-concerns-its-own-contract",
    ),
    pytest.param(
        config(),
        [(MNQ, 1, "21000.00"), (ES, -1, "6000.00")],
        [stop(1000, SELL, 1, "20990.00", ES)],
        (1000,),
        {MNQ: "21000.00", ES: "6000.00"},
        None,
        Evaluate(NOON, 101, "startup"),
        [
            ("cancel_order", 1000, None, None),
            ("place_stop", "BUY", 1, "6010.00"),
            ("place_stop", "SELL", 1, "20990.00"),
        ],
        [
            "ES -1: daemon stop 1000 is on the opening side (reversed)",
            "auto stop 40 ticks above 6000.00",
            "auto stop 40 ticks below 21000.00",
        ],
        id="startup-checks-every-contract",
    ),
]


@pytest.mark.parametrize(
    ("cfg", "held", "orders", "daemon", "mark", "best", "event", "expected", "reasons"), CASES
)
def test_trade_management(
    cfg: TradeManagementConfig,
    held: list[tuple[str, int, str]],
    orders: list[Order],
    daemon: tuple[int, ...],
    mark: dict[str, str] | None,
    best: dict[str, str] | None,
    event: Event,
    expected: list[tuple[str, object, int | None, str | None]],
    reasons: list[str],
) -> None:
    st = account(held, orders, daemon, mark, best)
    decisions = run(cfg, st, event)
    assert actions(decisions) == expected
    assert [d.reason for d in decisions] == reasons
    assert all(d.lock is None and d.rule == "RULE-012" for d in decisions)
    kinds = {a.kind for d in decisions for a in d.actions}
    assert not kinds & {ActionKind.CLOSE, ActionKind.REDUCE, ActionKind.CLOSE_ALL, ActionKind.CANCEL_ALL}


def test_placed_orders_carry_the_closing_side_and_price() -> None:
    st = account([(ES, -2, "6000.00")], mark={ES: "6000.00"})
    [decision] = run(config(sl=8), st, position_event(ES, -2, "6000.00"))
    [action] = decision.actions
    assert action == Action(ActionKind.PLACE_STOP, ES, 2, None, Decimal("6002.00"), BUY)
    assert decision.state["avg_price"] == "6000.00" and decision.state["price"] == "6002.00"


def test_the_whole_example_step_by_step() -> None:
    """SPEC RULE-012.1-3 on one state: open, 21005, 21012, 21008 (the daemon's orders confirmed)."""
    cfg = config(tp=80)
    st = account(LONG, mark={MNQ: "21000.00"}, best={MNQ: "21000.00"})
    placed = actions(run(cfg, st, position_event(MNQ, 1, "21000.00")))
    assert placed == [("place_stop", "SELL", 1, "20990.00"), ("place_target", "SELL", 1, "21020.00")]
    confirm(st, stop(1000, SELL, 1, "20990.00"))
    confirm(st, limit(1001, SELL, 1, "21020.00"))
    assert actions(run(cfg, st, quote(st, "21000.00"))) == []
    for price, expected in [("21005.00", "21000.25"), ("21012.00", "21007.00"), ("21008.00", None)]:
        event = quote(st, price)
        got = actions(run(cfg, st, event))
        assert got == ([("modify_stop", 1000, None, expected)] if expected else []), price
        if expected:
            confirm(st, replace(st.orders[1000], stop_price=Decimal(expected)))


def test_the_echo_of_a_daemon_order_is_not_acted_on() -> None:
    """Its decision's other actions may still be queued: the state is half-updated."""
    st = account(LONG, [stop(1000, SELL, 1, "20990.00")], (1000,), {MNQ: "21000.00"})
    assert run(config(tp=80), st, order_event(st.orders[1000])) == []  # the target was placed with it
    assert actions(run(config(tp=80), st, quote_event(MNQ, "21000.00"))) == [
        ("place_target", "SELL", 1, "21020.00")  # it never came: the next event places it
    ]
    trader = stop(7, BUY, 1, "21010.00")  # a trader's order on the contract is an event to act on
    assert actions(run(config(tp=80), st, order_event(trader))) == [("place_target", "SELL", 1, "21020.00")]


def confirm(st: AccountState, o: Order) -> None:
    """The daemon placed ``o`` and its order event arrived."""
    st.daemon_orders.add(o.id)
    st.apply_order(o)


def quote(st: AccountState, price: str) -> QuoteReceived:
    event = quote_event(MNQ, price)
    st.market.apply(event.quote)
    st.note_mark(MNQ, Decimal(price))
    return event


def test_a_pending_daemon_close_adds_no_order() -> None:
    st = account(LONG, mark={MNQ: "21000.00"})
    st.pending_closes[MNQ] = NOON - timedelta(seconds=2)
    assert run(config(), st, position_event(MNQ, 1, "21000.00")) == []
    st.pending_closes[MNQ] = NOON - timedelta(seconds=6)  # unconfirmed for too long: place again
    assert actions(run(config(), st, position_event(MNQ, 1, "21000.00"))) == [
        ("place_stop", "SELL", 1, "20990.00")
    ]


def test_orders_on_a_contract_closed_by_another_rule_are_not_sent() -> None:
    """SPEC §4.1: RULE-012 skips contracts closed by that event (the merge drops its orders)."""
    st = account(LONG, mark={MNQ: "21000.00"})
    ours = run(config(), st, position_event(MNQ, 1, "21000.00"))
    closing = Decision(
        101, "RULE-004", "MNQ unrealized -300.00 <= -300.00", (Action(ActionKind.CLOSE, MNQ, 1),)
    )
    plan = merge([closing, *ours], {MNQ: 1}, {})
    assert [a.kind.value for _, a in plan.send] == ["close"]
    assert [a.kind.value for _, a in plan.superseded] == ["place_stop"]


def test_triggers_and_every_quote_is_seen() -> None:
    assert trade_management.triggers(config()) == frozenset(
        {PositionUpdated, OrderUpdated, QuoteReceived, Evaluate}
    )
    assert Tick not in trade_management.triggers(config())
    spec = REGISTRY["RULE-012"]
    assert spec.key == "trade_management"
    assert spec.headroom is not None  # quotes that can arm or move nothing are skipped (engine pruning test)
