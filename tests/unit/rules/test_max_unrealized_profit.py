"""RULE-005 Max Unrealized Profit (per position): the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import ES, MES, MNQ, NOON, position_event, quote_event, state
from risk_manager.config.risk import MaxUnrealizedProfitConfig
from risk_manager.domain import Decision, Evaluate, PositionUpdated, QuoteReceived
from risk_manager.rules import max_unrealized_profit

ES_M26 = "CON.F.US.EP.M26"


def config(target: str = "500") -> MaxUnrealizedProfitConfig:
    return MaxUnrealizedProfitConfig.model_validate({"enabled": True, "target": float(target)})


def cuts(decisions: list[Decision]) -> list[tuple[str, str | None, int | None]]:
    return [(a.kind.value, a.contract_id, a.size) for d in decisions for a in d.actions]


@pytest.mark.parametrize(
    ("held", "marks", "event", "expected", "reasons"),
    [
        pytest.param(
            [(ES, 1, "6000.00")], {ES: "6009.75"}, quote_event(ES, "6009.75"), [], [], id="RULE-005.1"
        ),
        pytest.param(
            [(ES, 1, "6000.00"), (MNQ, 1, "21000.00")],
            {ES: "6010.00", MNQ: "21300.00"},
            quote_event(ES, "6010.00"),
            [("close", ES, 1)],
            ["ES unrealized 500.00 >= 500.00"],
            id="RULE-005.2-sell-1-MNQ-untouched",
        ),
        pytest.param(
            [(MES, -2, "5000.00")],
            {MES: "4950.00"},
            quote_event(MES, "4950.00"),
            [("close", MES, 2)],
            ["MES unrealized 500.00 >= 500.00"],
            id="RULE-005.3-short-buy-2",
        ),
        pytest.param(
            [(ES, 1, "6000.00")],
            {ES: "6010.25"},
            quote_event(ES, "6010.25"),
            [("close", ES, 1)],
            ["ES unrealized 512.50 >= 500.00"],
            id="one-tick-over",
        ),
        pytest.param(
            [(ES, 1, "6000.00")],
            {ES: "6009.9999"},  # 499.995 rounds half-up to 500.00
            quote_event(ES, "6009.9999"),
            [("close", ES, 1)],
            ["ES unrealized 500.00 >= 500.00"],
            id="half-up-cents-reach",
        ),
        pytest.param(
            [(ES, 1, "6000.00")],
            {ES: "6009.9997"},
            quote_event(ES, "6009.9997"),
            [],
            [],
            id="half-up-cents-short",  # 499.985 -> 499.99
        ),
        pytest.param(
            [(ES, -1, "6000.00")],
            {ES: "6010.00"},
            quote_event(ES, "6010.00"),
            [],
            [],
            id="short-losing-never-taken",
        ),
        pytest.param(
            [(ES, -1, "6005.00")],
            {ES: "6010.00"},
            position_event(ES, -1, "6005.00"),
            [],
            [],
            id="reversed-position-uses-its-new-average",  # the old long +1 @6000 would be +500
        ),
        pytest.param(
            [(ES, 2, "6000.00")],
            {ES: "6005.00"},
            position_event(ES, 2),
            [("close", ES, 2)],
            ["ES unrealized 500.00 >= 500.00"],
            id="position-grows-into-the-target",
        ),
        pytest.param([(ES, 1, "6000.00")], {}, position_event(ES, 1), [], [], id="quote-gap-no-mark"),
        pytest.param(
            [(ES, 1, "6000.00"), (ES_M26, 1, "6055.00")],
            {ES: "6060.00", ES_M26: "6060.00"},
            quote_event(ES_M26, "6060.00"),
            [],
            [],
            id="each-roll-month-is-its-own-position",  # ES.H26 is +750 but its quote did not move
        ),
    ],
)
def test_max_unrealized_profit(held, marks, event, expected, reasons) -> None:
    st = state(*held, marks=marks)
    decisions = max_unrealized_profit.evaluate(config(), st, event, NOON)
    assert cuts(decisions) == expected
    assert [d.reason for d in decisions] == reasons
    assert all(d.lock is None and d.rule == "RULE-005" for d in decisions)


def test_startup_takes_profit_on_every_position_at_target() -> None:
    st = state(
        (ES, 1, "6000.00"), (ES_M26, 1, "6055.00"), (MES, -2, "5000.00"), (MNQ, 3, "21000.00"),
        marks={ES: "6060.00", ES_M26: "6060.00", MES: "4900.00"},
    )  # fmt: skip
    decisions = max_unrealized_profit.evaluate(config(), st, Evaluate(NOON, st.account_id, "startup"), NOON)
    assert cuts(decisions) == [("close", ES, 1), ("close", MES, 2)]  # ES.M26 +250, MNQ unquoted
    assert decisions[1].state["unrealized"] == "1000.00"
    assert decisions[1].state["target"] == "500.00"


def test_triggers_are_quotes_positions_and_evaluations() -> None:
    assert max_unrealized_profit.triggers(config()) == {QuoteReceived, PositionUpdated, Evaluate}


def test_headroom_is_the_best_known_position_distance_to_the_target() -> None:
    """The engine skips quotes that move the account by less than this (none can reach it)."""
    st = state(
        (ES, 1, "6000.00"), (MES, -2, "5000.00"), (MNQ, 1, "21000.00"), marks={ES: "6009.75", MES: "4990.00"}
    )
    assert max_unrealized_profit.headroom(config(), st) == Decimal("12.50")  # ES 487.50 vs MES 100.00
    assert max_unrealized_profit.headroom(config(), state((ES, 1, "6000.00"))) is None
