"""Lockout mode (SPEC §1): new exposure under a lock is removed at once."""

from __future__ import annotations

from factories import ES, MNQ, order, order_event, position_event, state
from risk_manager.domain import OrderSide, OrderStatus
from risk_manager.engine.gate import causing_rule, lockout_mode

LOCKED = {("RULE-003", "account")}


def actions(decisions) -> list[tuple[str, str, str | None, int | None]]:
    return [(d.rule, a.kind.value, a.contract_id, a.order_id or a.size) for d in decisions for a in d.actions]


def test_new_order_while_locked_is_cancelled() -> None:
    st = state(held_locks=set(LOCKED))
    new = order(5, MNQ, OrderSide.BUY, 1)
    assert actions(lockout_mode(st, order_event(new), None)) == [("RULE-003", "cancel_order", MNQ, 5)]


def test_reduce_only_order_passes() -> None:
    st = state((MNQ, 2, "21000"), held_locks=set(LOCKED))
    assert lockout_mode(st, order_event(order(5, MNQ, OrderSide.SELL, 2)), None) == []
    assert lockout_mode(st, order_event(order(6, MNQ, OrderSide.SELL, 3)), None) != []


def test_known_or_finished_orders_are_left_alone() -> None:
    st = state(held_locks=set(LOCKED))
    working = order(5, MNQ, OrderSide.BUY, 1)
    assert lockout_mode(st, order_event(working), working) == []
    assert (
        lockout_mode(st, order_event(order(6, MNQ, OrderSide.BUY, 1, status=OrderStatus.FILLED)), None) == []
    )


def test_daemon_orders_pass() -> None:
    st = state(held_locks=set(LOCKED))
    st.daemon_orders.add(5)
    assert lockout_mode(st, order_event(order(5, MNQ, OrderSide.BUY, 1)), None) == []


def test_position_opened_or_increased_is_closed_but_a_decrease_is_not() -> None:
    st = state((MNQ, 2, "21000"), held_locks=set(LOCKED))
    assert actions(lockout_mode(st, position_event(MNQ, 2), 1)) == [("RULE-003", "close", MNQ, 2)]
    assert actions(lockout_mode(st, position_event(MNQ, -1), 2)) == [("RULE-003", "close", MNQ, 1)]
    assert lockout_mode(st, position_event(MNQ, 1), 2) == []
    assert lockout_mode(st, position_event(MNQ, 0), 2) == []


def test_nothing_without_a_lock() -> None:
    assert lockout_mode(state(), order_event(order(5, MNQ, OrderSide.BUY, 1)), None) == []


def test_symbol_lock_only_covers_its_symbol_and_first_rule_in_order_is_the_cause() -> None:
    st = state(held_locks={("RULE-011", "ES")})
    assert lockout_mode(st, order_event(order(5, MNQ, OrderSide.BUY, 1)), None) == []
    assert actions(lockout_mode(st, order_event(order(6, ES, OrderSide.BUY, 1)), None)) == [
        ("RULE-011", "cancel_order", ES, 6)
    ]
    st.held_locks |= {("RULE-006", "account"), ("RULE-010", "account")}
    assert causing_rule(st, "ES") == "RULE-010"
    assert causing_rule(st, "MNQ") == "RULE-010"
