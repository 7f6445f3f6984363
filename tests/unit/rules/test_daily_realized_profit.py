"""RULE-013 Daily Realized Profit Target: the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import DAY_END, MNQ, NOON, fill, fill_event, position_event, quote_event, state
from risk_manager.config.risk import DailyRealizedProfitConfig
from risk_manager.domain import ActionKind, Evaluate, FillReceived, OrderSide, PositionUpdated, QuoteReceived
from risk_manager.rules import daily_realized_profit

MESSAGE = "Target reached - done for today."
A_FILL = fill_event(fill(1, MNQ, OrderSide.SELL, 1, "21100", pnl="200"))


def config(
    target: str = "1000", include_unrealized: bool = True, message: str | None = MESSAGE
) -> DailyRealizedProfitConfig:
    return DailyRealizedProfitConfig.model_validate(
        {
            "enabled": True,
            "target": float(target),
            "include_unrealized": include_unrealized,
            "message": message,
        }
    )


@pytest.mark.parametrize(
    ("gross", "fees", "position", "mark", "include", "event", "reason"),
    [
        pytest.param(
            "1100", "0", None, None, True, A_FILL, f"daily P&L 1100.00 >= 1000.00: {MESSAGE}", id="RULE-013.1"
        ),
        pytest.param(
            "700",
            "0",
            (MNQ, 2, "21000"),
            "21075",
            True,
            quote_event(MNQ, "21075"),
            f"daily P&L 1000.00 >= 1000.00: {MESSAGE}",
            id="RULE-013.2-inclusive",
        ),
        pytest.param("950", "0", (MNQ, 2, "21000"), "21075", False, A_FILL, None, id="RULE-013.3"),
        pytest.param("999.99", "0", None, None, True, A_FILL, None, id="one-cent-short"),
        pytest.param(
            "999.995",
            "0",
            None,
            None,
            True,
            A_FILL,
            f"daily P&L 1000.00 >= 1000.00: {MESSAGE}",
            id="half-up-cents",
        ),
        pytest.param("1010", "12", None, None, True, A_FILL, None, id="fees-count-net-998"),
        pytest.param(
            "1100",
            "0",
            (MNQ, 2, "21000"),
            "20900",
            True,
            quote_event(MNQ, "20900"),
            None,
            id="floating-loss-pulls-below-target",
        ),
        pytest.param(
            "800",
            "0",
            (MNQ, -2, "21000"),
            "20950",
            True,
            quote_event(MNQ, "20950"),
            f"daily P&L 1000.00 >= 1000.00: {MESSAGE}",
            id="short-position-unrealized",
        ),
        pytest.param(
            "800",
            "0",
            (MNQ, 2, "21000"),
            None,
            True,
            position_event(MNQ, 2),
            None,
            id="quote-gap-unrealized-unknown",
        ),
        pytest.param("-600", "0", None, None, True, A_FILL, None, id="a-loss-never-reaches-it"),
    ],
)
def test_daily_realized_profit(gross, fees, position, mark, include, event, reason) -> None:
    st = state(*([position] if position else []), marks={MNQ: mark} if mark else None,
               realized_gross=gross, fees=fees)  # fmt: skip
    decisions = daily_realized_profit.evaluate(config(include_unrealized=include), st, event, NOON)
    assert [d.reason for d in decisions] == ([reason] if reason else [])


def test_breach_flattens_and_locks_until_the_reset_with_the_message() -> None:
    st = state(realized_gross="1100")
    [decision] = daily_realized_profit.evaluate(config(), st, A_FILL, NOON)
    assert decision.rule == "RULE-013"
    assert [a.kind for a in decision.actions] == [ActionKind.CANCEL_ALL, ActionKind.CLOSE_ALL]
    assert decision.lock is not None
    assert (decision.lock.kind, decision.lock.scope, decision.lock.until) == ("hard", "account", DAY_END)
    assert decision.state == {
        "realized": "1100.00",
        "unrealized": "0.00",
        "target": "1000.00",
        "message": MESSAGE,
    }


def test_without_a_message_the_reason_is_the_numbers() -> None:
    st = state(realized_gross="1100")
    [decision] = daily_realized_profit.evaluate(
        config(message=None, include_unrealized=False), st, A_FILL, NOON
    )
    assert decision.reason == "daily P&L 1100.00 >= 1000.00"
    assert decision.state == {"realized": "1100.00", "target": "1000.00"}


def test_a_multi_line_message_stays_on_one_line() -> None:
    st = state(realized_gross="1100")
    [decision] = daily_realized_profit.evaluate(config(message="Done.\n  Go  outside."), st, A_FILL, NOON)
    assert decision.reason == "daily P&L 1100.00 >= 1000.00: Done. Go outside."
    assert decision.state["message"] == "Done. Go outside."


def test_no_second_breach_while_locked() -> None:
    """RULE-013.4 (the rule's part): once locked it stays quiet; lockout mode closes new entries."""
    st = state(realized_gross="1500", held_locks={("RULE-013", "account")})
    assert daily_realized_profit.evaluate(config(), st, A_FILL, NOON) == []


def test_another_rules_lock_does_not_silence_it() -> None:
    st = state(realized_gross="1100", held_locks={("RULE-006", "account")})
    assert len(daily_realized_profit.evaluate(config(), st, A_FILL, NOON)) == 1


def test_gross_pnl_when_fees_are_not_included() -> None:
    st = state(realized_gross="1010", fees="12")
    st.includes_fees = False
    [decision] = daily_realized_profit.evaluate(config(), st, A_FILL, NOON)
    assert decision.reason.startswith("daily P&L 1010.00 >= 1000.00")


def test_startup_evaluation_fires() -> None:
    st = state(realized_gross="1000")
    decisions = daily_realized_profit.evaluate(config(), st, Evaluate(NOON, st.account_id, "startup"), NOON)
    assert len(decisions) == 1


def test_quotes_and_positions_trigger_only_with_unrealized() -> None:
    assert daily_realized_profit.triggers(config(include_unrealized=False)) == {FillReceived, Evaluate}
    assert daily_realized_profit.triggers(config()) == {
        FillReceived,
        Evaluate,
        QuoteReceived,
        PositionUpdated,
    }


def test_headroom_is_the_distance_to_the_target() -> None:
    """The engine skips quotes that move the P&L by less than this; none once locked or realized-only."""
    st = state((MNQ, 2, "21000"), marks={MNQ: "21050"}, realized_gross="700")
    assert daily_realized_profit.headroom(config(), st) == Decimal("100")  # 1000 - (700 + 200)
    assert daily_realized_profit.headroom(config(include_unrealized=False), st) is None
    st.held_locks.add(("RULE-013", "account"))
    assert daily_realized_profit.headroom(config(), st) is None
