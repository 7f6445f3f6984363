"""RULE-003 Daily Realized Loss: the Given/When/Then of SPEC §3 and the edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import DAY_END, MNQ, NOON, fill, fill_event, position_event, quote_event, state
from risk_manager.config.risk import DailyRealizedLossConfig
from risk_manager.domain import ActionKind, OrderSide
from risk_manager.rules import daily_realized_loss


def config(limit: str = "-500", include_unrealized: bool = True) -> DailyRealizedLossConfig:
    return DailyRealizedLossConfig.model_validate(
        {"enabled": True, "limit": float(limit), "include_unrealized": include_unrealized}
    )


A_FILL = fill_event(fill(1, MNQ, OrderSide.SELL, 1, "21000", pnl="-100"))


@pytest.mark.parametrize(
    ("gross", "fees", "position", "mark", "include", "event", "reason"),
    [
        pytest.param("-550", "0", None, None, True, A_FILL, "daily P&L -550.00 <= -500.00", id="RULE-003.1"),
        pytest.param(
            "-300",
            "0",
            (MNQ, 2, "21000"),
            "20950",
            True,
            quote_event(MNQ, "20950"),
            "daily P&L -500.00 <= -500.00",
            id="RULE-003.2-inclusive",
        ),
        pytest.param("-300", "0", (MNQ, 2, "21000"), "20800", False, A_FILL, None, id="RULE-003.3"),
        pytest.param(
            "-490", "12", None, None, True, A_FILL, "daily P&L -502.00 <= -500.00", id="RULE-003.4-fees"
        ),
        pytest.param("-499.99", "0", None, None, True, A_FILL, None, id="one-cent-inside"),
        pytest.param(
            "-499.995", "0", None, None, True, A_FILL, "daily P&L -500.00 <= -500.00", id="half-up-cents"
        ),
        pytest.param(
            "-300",
            "0",
            (MNQ, -2, "21000"),
            "21050",
            True,
            quote_event(MNQ, "21050"),
            "daily P&L -500.00 <= -500.00",
            id="short-position-unrealized",
        ),
        pytest.param(
            "-450",
            "0",
            (MNQ, 2, "21000"),
            None,
            True,
            position_event(MNQ, 2),
            None,
            id="no-quote-yet-unrealized-unknown",
        ),
    ],
)
def test_daily_realized_loss(gross, fees, position, mark, include, event, reason) -> None:
    st = state(
        *([position] if position else []),
        marks={MNQ: mark} if mark else None,
        realized_gross=gross,
        fees=fees,
    )
    decisions = daily_realized_loss.evaluate(config(include_unrealized=include), st, event, NOON)
    assert [d.reason for d in decisions] == ([reason] if reason else [])


def test_breach_flattens_and_locks_until_the_reset() -> None:
    st = state(realized_gross="-550")
    [decision] = daily_realized_loss.evaluate(config(), st, A_FILL, NOON)
    assert [a.kind for a in decision.actions] == [ActionKind.CANCEL_ALL, ActionKind.CLOSE_ALL]
    assert decision.lock is not None
    assert (decision.lock.kind, decision.lock.scope, decision.lock.until) == ("hard", "account", DAY_END)
    assert decision.state["realized"] == "-550.00"


def test_no_second_breach_while_locked() -> None:
    st = state(realized_gross="-800", held_locks={("RULE-003", "account")})
    assert daily_realized_loss.evaluate(config(), st, A_FILL, NOON) == []


def test_pnl_without_fees_when_configured() -> None:
    st = state(realized_gross="-490", fees="12")
    st.includes_fees = False
    assert daily_realized_loss.evaluate(config(), st, A_FILL, NOON) == []
    assert st.realized_pnl == Decimal("-490")


def test_quotes_and_positions_trigger_only_with_unrealized() -> None:
    from risk_manager.domain import Evaluate, FillReceived, PositionUpdated, QuoteReceived

    assert daily_realized_loss.triggers(config(include_unrealized=False)) == {FillReceived, Evaluate}
    assert daily_realized_loss.triggers(config()) == {FillReceived, Evaluate, QuoteReceived, PositionUpdated}
