"""RULE-004 Daily Unrealized Loss (per position): the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import ES, MNQ, NOON, NQ, fill, fill_event, position_event, quote_event, state
from risk_manager.config.risk import DailyRealizedLossConfig, DailyUnrealizedLossConfig
from risk_manager.domain import Decision, Evaluate, OrderSide, Position, PositionUpdated, QuoteReceived
from risk_manager.rules import daily_realized_loss, daily_unrealized_loss

UNKNOWN = "CON.F.US.ZZZ.H26"  # no tick spec anywhere: unrealized unknown


def config(limit: str = "-300") -> DailyUnrealizedLossConfig:
    return DailyUnrealizedLossConfig.model_validate({"enabled": True, "limit": float(limit)})


def cuts(decisions: list[Decision]) -> list[tuple[str, str | None, int | None]]:
    return [(a.kind.value, a.contract_id, a.size) for d in decisions for a in d.actions]


@pytest.mark.parametrize(
    ("held", "marks", "event", "expected", "reasons"),
    [
        pytest.param(
            [(MNQ, 2, "21000.00")], {MNQ: "20962.50"}, quote_event(MNQ, "20962.50"), [], [], id="RULE-004.1"
        ),
        pytest.param(
            [(MNQ, 2, "21000.00"), (ES, 1, "6000.00")],
            {MNQ: "20925.00", ES: "5999.00"},
            quote_event(MNQ, "20925.00"),
            [("close", MNQ, 2)],
            ["MNQ unrealized -300.00 <= -300.00"],
            id="RULE-004.2-sell-2-ES-untouched",
        ),
        pytest.param(
            [(NQ, -1, "21000.00")],
            {NQ: "21015.00"},
            quote_event(NQ, "21015.00"),
            [("close", NQ, 1)],
            ["NQ unrealized -300.00 <= -300.00"],
            id="RULE-004.3-short-buy-1",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "20925.25"},
            quote_event(MNQ, "20925.25"),
            [],
            [],
            id="one-tick-inside",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "20924.75"},
            quote_event(MNQ, "20924.75"),
            [("close", MNQ, 2)],
            ["MNQ unrealized -301.00 <= -300.00"],
            id="one-tick-over",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "20925.00125"},  # -299.995 rounds half-up to -300.00
            quote_event(MNQ, "20925.00125"),
            [("close", MNQ, 2)],
            ["MNQ unrealized -300.00 <= -300.00"],
            id="half-up-cents-breach",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "20925.00375"},
            quote_event(MNQ, "20925.00375"),
            [],
            [],
            id="half-up-cents-inside",  # -299.985 -> -299.99
        ),
        pytest.param(
            [(MNQ, -2, "21000.00")],
            {MNQ: "21075.00"},
            quote_event(MNQ, "21075.00"),
            [("close", MNQ, 2)],
            ["MNQ unrealized -300.00 <= -300.00"],
            id="short-losing-on-a-rise",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "21075.00"},
            quote_event(MNQ, "21075.00"),
            [],
            [],
            id="long-winning-never-cut",
        ),
        pytest.param(
            [(MNQ, -2, "20950.00")],
            {MNQ: "20925.00"},
            position_event(MNQ, -2, "20950.00"),
            [],
            [],
            id="reversed-position-uses-its-new-average",  # the old long +2 @21000 would be -300
        ),
        pytest.param(
            [(MNQ, 4, "21000.00")],
            {MNQ: "20962.50"},
            position_event(MNQ, 4),
            [("close", MNQ, 4)],
            ["MNQ unrealized -300.00 <= -300.00"],
            id="position-grows-into-the-limit",
        ),
        pytest.param([(MNQ, 2, "21000.00")], {}, position_event(MNQ, 2), [], [], id="quote-gap-no-mark"),
        pytest.param(
            [(UNKNOWN, 2, "100.00")],
            {UNKNOWN: "1.00"},
            quote_event(UNKNOWN, "1.00"),
            [],
            [],
            id="no-tick-spec-skipped",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "20900.00", ES: "5000.00"},
            quote_event(ES, "5000.00"),
            [],
            [],
            id="quote-of-a-contract-not-held",
        ),
        pytest.param(
            [(MNQ, 2, "21000.00")],
            {MNQ: "20900.00"},
            position_event(MNQ, 0),
            [],
            [],
            id="position-event-of-a-flat-contract",
        ),
    ],
)
def test_daily_unrealized_loss(held, marks, event, expected, reasons) -> None:
    st = state(*held, marks=marks)
    if isinstance(event, PositionUpdated) and event.position.size == 0:
        st.apply_position(event.position)
    decisions = daily_unrealized_loss.evaluate(config(), st, event, NOON)
    assert cuts(decisions) == expected
    assert [d.reason for d in decisions] == reasons
    assert all(d.lock is None and d.rule == "RULE-004" for d in decisions)


def test_startup_closes_every_losing_position_and_skips_unquoted_ones() -> None:
    st = state(
        (MNQ, 2, "21000.00"), (NQ, -1, "21000.00"), (ES, 1, "6000.00"), (UNKNOWN, 1, "1.00"),
        marks={MNQ: "20900.00", NQ: "21020.00"},
    )  # fmt: skip
    decisions = daily_unrealized_loss.evaluate(config(), st, Evaluate(NOON, st.account_id, "startup"), NOON)
    assert cuts(decisions) == [("close", NQ, 1), ("close", MNQ, 2)]  # by contract id; ES has no quote
    assert [d.reason for d in decisions] == [
        "NQ unrealized -400.00 <= -300.00",
        "MNQ unrealized -400.00 <= -300.00",
    ]


def test_decision_state_carries_the_figures() -> None:
    st = state((MNQ, 2, "21000.00"), marks={MNQ: "20925.00"})
    [decision] = daily_unrealized_loss.evaluate(config(), st, quote_event(MNQ, "20925.00"), NOON)
    assert decision.state == {
        "contract_id": MNQ,
        "size": "2",
        "avg_price": "21000.00",
        "mark": "20925.00",
        "unrealized": "-300.00",
        "limit": "-300.00",
    }


def test_rule_004_4_the_close_realizes_the_loss_and_rule_003_locks() -> None:
    """RULE-004.4: RULE-003 -500 without unrealized, realized -400; RULE-004 closes MNQ at -300
    (no lock of its own); the closing fill makes -700 and RULE-003 locks."""
    rule_003 = DailyRealizedLossConfig.model_validate(
        {"enabled": True, "limit": -500.0, "include_unrealized": False}
    )
    st = state((MNQ, 2, "21000.00"), marks={MNQ: "20925.00"}, realized_gross="-400")
    quote = quote_event(MNQ, "20925.00")
    assert daily_realized_loss.evaluate(rule_003, st, quote, NOON) == []  # -400: unrealized not counted
    [cut] = daily_unrealized_loss.evaluate(config(), st, quote, NOON)
    assert cuts([cut]) == [("close", MNQ, 2)]
    assert cut.lock is None
    closing = fill(7, MNQ, OrderSide.SELL, 2, "20925.00", pnl="-300.00")
    st.apply_fill(closing, count_as_trade=False)
    st.apply_position(Position(st.account_id, MNQ, 0, Decimal(0), NOON))
    [lock] = daily_realized_loss.evaluate(rule_003, st, fill_event(closing), NOON)
    assert lock.reason == "daily P&L -700.00 <= -500.00"
    assert lock.lock is not None and lock.lock.kind == "hard"


def test_triggers_are_quotes_positions_and_evaluations() -> None:
    assert daily_unrealized_loss.triggers(config()) == {QuoteReceived, PositionUpdated, Evaluate}


def test_headroom_is_the_worst_known_position_distance_to_the_limit() -> None:
    """The engine skips quotes that move the account by less than this (none can breach)."""
    st = state(
        (MNQ, 2, "21000.00"), (ES, 1, "6000.00"), (NQ, -1, "21000.00"), marks={MNQ: "20962.50", ES: "5999.00"}
    )
    assert daily_unrealized_loss.headroom(config(), st) == Decimal(
        "150"
    )  # MNQ -150 vs ES -12.50; NQ unquoted
    assert daily_unrealized_loss.headroom(config(), state((MNQ, 2, "21000.00"))) is None
