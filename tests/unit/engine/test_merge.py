"""SPEC §4.1: several rules on one event."""

from __future__ import annotations

from factories import ACCOUNT, DAY_END, ES, MNQ
from risk_manager.domain import Action, ActionKind, Decision, Lock, cancel_order, close, flatten, reduce
from risk_manager.engine import merge


def decision(rule: str, *actions: Action, lock: Lock | None = None) -> Decision:
    return Decision(ACCOUNT, rule, f"{rule} fired", actions, lock)


def sent(plan) -> list[tuple[str, str, str | None, int | None]]:
    return [(d.rule, a.kind.value, a.contract_id, a.size) for d, a in plan.send]


def test_flatten_supersedes_closes_and_reductions_but_keeps_every_lock() -> None:
    hard = Lock("hard", "account", DAY_END)
    cooldown = Lock("cooldown", "account", DAY_END)
    decisions = [
        flatten(ACCOUNT, "RULE-003", "loss", hard),
        decision("RULE-007", Action(ActionKind.CANCEL_ALL), Action(ActionKind.CLOSE_ALL), lock=cooldown),
        decision("RULE-001", reduce(MNQ, 1)),
    ]
    plan = merge(decisions, {MNQ: 6}, {})
    assert sent(plan) == [("RULE-003", "cancel_all", None, None), ("RULE-003", "close_all", None, None)]
    assert [d.rule for d in plan.locks] == ["RULE-003", "RULE-007"]
    assert [(d.rule, a.kind.value) for d, a in plan.superseded] == [
        ("RULE-007", "cancel_all"),
        ("RULE-007", "close_all"),
        ("RULE-001", "reduce"),
    ]


def test_largest_cut_on_one_contract_wins_capped_at_the_position() -> None:
    decisions = [decision("RULE-001", reduce(MNQ, 1)), decision("RULE-002", reduce(MNQ, 2))]
    plan = merge(decisions, {MNQ: 6}, {})
    assert sent(plan) == [("RULE-002", "reduce", MNQ, 2)]
    assert [(d.rule, a.size) for d, a in plan.superseded] == [("RULE-001", 1)]


def test_cut_larger_than_position_becomes_a_close_with_its_orders_cancelled() -> None:
    plan = merge([decision("RULE-004", close(MNQ, 9))], {MNQ: 3}, {MNQ: 2})
    assert sent(plan) == [("RULE-004", "cancel_all", MNQ, None), ("RULE-004", "close", MNQ, 3)]


def test_equal_cuts_keep_the_first_in_rule_order() -> None:
    plan = merge([decision("RULE-001", reduce(MNQ, 1)), decision("RULE-002", reduce(MNQ, 1))], {MNQ: 6}, {})
    assert sent(plan) == [("RULE-001", "reduce", MNQ, 1)]


def test_cuts_on_different_contracts_all_go() -> None:
    plan = merge([decision("RULE-001", reduce(MNQ, 1), close(ES, 2))], {MNQ: 6, ES: -2}, {})
    assert sent(plan) == [("RULE-001", "reduce", MNQ, 1), ("RULE-001", "close", ES, 2)]


def test_cut_on_a_flat_contract_sends_nothing() -> None:
    assert sent(merge([decision("RULE-001", close(MNQ, 1))], {}, {})) == []


def test_an_order_cancelled_twice_is_sent_once_and_moot_when_its_contract_closes() -> None:
    decisions = [
        decision("RULE-011", cancel_order(7, ES)),
        decision("RULE-009", cancel_order(7, ES)),
        decision("RULE-011", cancel_order(8, MNQ), close(MNQ, 1)),
    ]
    plan = merge(decisions, {MNQ: 1}, {MNQ: 1})
    assert sent(plan) == [
        ("RULE-011", "cancel_all", MNQ, None),
        ("RULE-011", "close", MNQ, 1),
        ("RULE-011", "cancel_order", ES, None),
    ]
    assert len(plan.superseded) == 2
