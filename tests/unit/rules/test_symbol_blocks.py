"""RULE-011 Symbol Blocks: the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

import pytest

from factories import ES, MES, MNQ, NOON, order, order_event, position_event, state
from risk_manager.config.risk import SymbolBlocksConfig
from risk_manager.domain import (
    Decision,
    Evaluate,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionUpdated,
)
from risk_manager.engine.merge import merge
from risk_manager.rules import symbol_blocks

RTY, M2K = "CON.F.US.RTY.H26", "CON.F.US.M2K.H26"
CL, MCL = "CON.F.US.CLE.Z25", "CON.F.US.MCLE.Z25"


def config(*blocked: str) -> SymbolBlocksConfig:
    return SymbolBlocksConfig.model_validate({"enabled": True, "blocked_symbols": list(blocked)})


def acts(decisions: list[Decision]) -> list[tuple[str, str | None, int | None]]:
    return [(a.kind.value, a.contract_id, a.size or a.order_id) for d in decisions for a in d.actions]


@pytest.mark.parametrize(
    ("blocked", "held", "event", "expected", "reasons"),
    [
        pytest.param(
            ("RTY", "M2K"),
            [(RTY, 1)],
            position_event(RTY, 1),
            [("close", RTY, 1)],
            ["RTY blocked"],
            id="RULE-011.1-position-closed",
        ),
        pytest.param(
            ("RTY", "M2K"),
            [],
            order_event(order(5, M2K, OrderSide.BUY, 1)),
            [("cancel_order", M2K, 5)],
            ["M2K blocked"],
            id="RULE-011.1-order-cancelled",
        ),
        pytest.param(("RTY", "M2K"), [(MNQ, 1)], position_event(MNQ, 1), [], [], id="RULE-011.1-MNQ-entry"),
        pytest.param(
            ("RTY", "M2K"),
            [],
            order_event(order(6, MNQ, OrderSide.BUY, 1)),
            [],
            [],
            id="RULE-011.1-MNQ-order",
        ),
        pytest.param(("M2K",), [(RTY, 1)], position_event(RTY, 1), [], [], id="RULE-011.2-RTY-unlisted"),
        pytest.param(
            ("CL",),
            [(CL, 1)],
            position_event(CL, 1),
            [("close", CL, 1)],
            ["CL blocked"],
            id="RULE-011.3-alias-CLE-is-CL",
        ),
        pytest.param(("CL",), [(MCL, 1)], position_event(MCL, 1), [], [], id="CL-does-not-block-MCL"),
        pytest.param(
            ("*ES",),
            [(MES, 1)],
            position_event(MES, 1),
            [("close", MES, 1)],
            ["MES blocked (*ES)"],
            id="RULE-011.4-wildcard",
        ),
        pytest.param(
            ("*ES",),
            [(ES, 2)],
            position_event(ES, 2),
            [("close", ES, 2)],
            ["ES blocked (*ES)"],
            id="wildcard-matches-ES-through-the-EP-alias",
        ),
        pytest.param(("*ES",), [(MNQ, 1)], position_event(MNQ, 1), [], [], id="wildcard-leaves-MNQ"),
        pytest.param(
            ("M?K",),
            [],
            order_event(order(7, M2K, OrderSide.SELL, 2)),
            [("cancel_order", M2K, 7)],
            ["M2K blocked (M?K)"],
            id="single-char-wildcard",
        ),
        pytest.param(
            ("rty",),
            [(RTY, -3)],
            position_event(RTY, -3),
            [("close", RTY, 3)],
            ["RTY blocked"],
            id="case-insensitive-and-short",
        ),
        pytest.param(
            ("RTY",),
            [(RTY, -2)],
            position_event(RTY, -2),
            [("close", RTY, 2)],
            ["RTY blocked"],
            id="reversed-position-closed-whole",
        ),
        pytest.param(("RTY",), [], position_event(RTY, 0), [], [], id="flat-position-nothing-to-close"),
        pytest.param(
            ("RTY",),
            [],
            order_event(order(8, RTY, OrderSide.BUY, 1, status=OrderStatus.FILLED)),
            [],
            [],
            id="finished-order-not-cancelled",
        ),
        pytest.param(
            ("RTY",),
            [],
            order_event(order(9, RTY, OrderSide.BUY, 1, status=OrderStatus.SUSPENDED)),
            [("cancel_order", RTY, 9)],
            ["RTY blocked"],
            id="suspended-bracket-child-cancelled",
        ),
        pytest.param((), [(RTY, 1)], position_event(RTY, 1), [], [], id="empty-list-blocks-nothing"),
    ],
)
def test_symbol_blocks(blocked, held, event, expected, reasons) -> None:
    st = state(*[(cid, size, "100") for cid, size in held])  # no marks: a block needs none
    if isinstance(event, OrderUpdated):
        st.apply_order(event.order)
    decisions = symbol_blocks.evaluate(config(*blocked), st, event, NOON)
    assert acts(decisions) == expected
    assert [d.reason for d in decisions] == reasons
    assert all(d.lock is None and d.rule == "RULE-011" for d in decisions)


def test_the_daemons_own_close_order_is_never_cancelled() -> None:
    st = state((RTY, 1, "2000"))
    closing = order(1001, RTY, OrderSide.SELL, 1, status=OrderStatus.PENDING)
    st.apply_order(closing)
    st.daemon_orders.add(closing.id)
    assert symbol_blocks.evaluate(config("RTY"), st, order_event(closing), NOON) == []


def test_startup_sweeps_positions_and_orders_of_blocked_symbols() -> None:
    st = state((RTY, 2, "2000"), (MNQ, 1, "21000"))
    for o in (
        order(11, RTY, OrderSide.SELL, 2, type=OrderType.STOP, stop="1990"),  # on the held contract
        order(12, M2K, OrderSide.BUY, 1),  # no position there
        order(13, MNQ, OrderSide.SELL, 1),  # not blocked
    ):
        st.apply_order(o)
    decisions = symbol_blocks.evaluate(
        config("RTY", "M2K"), st, Evaluate(NOON, st.account_id, "startup"), NOON
    )
    assert [(d.reason, acts([d])) for d in decisions] == [
        ("M2K blocked", [("cancel_order", M2K, 12)]),
        ("RTY blocked", [("close", RTY, 2)]),
    ]
    # Closing RTY whole cancels that contract's orders too (SPEC §2, engine merge).
    plan = merge(decisions, {RTY: 2, MNQ: 1}, {RTY: 1, M2K: 1, MNQ: 1})
    sent = [(a.kind.value, a.contract_id, a.order_id) for _, a in plan.send]
    assert sent == [("cancel_all", RTY, None), ("close", RTY, None), ("cancel_order", M2K, 12)]


def test_reload_without_the_symbol_leaves_it_tradable() -> None:
    """RULE-011.2: RTY unlisted + reload -> RTY tradable."""
    st = state((RTY, 1, "2000"))
    st.apply_order(order(21, RTY, OrderSide.BUY, 1))
    assert symbol_blocks.evaluate(config("M2K"), st, Evaluate(NOON, st.account_id, "reload"), NOON) == []


def test_decision_state_names_the_symbol_and_pattern() -> None:
    st = state((MES, 1, "6000"))
    [decision] = symbol_blocks.evaluate(config("NQ", "*ES"), st, position_event(MES, 1), NOON)
    assert decision.state == {"symbol": "MES", "pattern": "*ES"}


def test_triggers_are_orders_positions_and_evaluations() -> None:
    assert symbol_blocks.triggers(config("RTY")) == {OrderUpdated, PositionUpdated, Evaluate}
