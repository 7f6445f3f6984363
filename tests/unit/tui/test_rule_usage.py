"""engine/usage.py: each rule's figure on the status screen, and the 80 % / breach colour thresholds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from factories import ES, MNQ, NOON, fill, order, state
from risk_manager.config.risk import RiskConfig
from risk_manager.domain import OrderSide, OrderType
from risk_manager.engine.usage import Usage, level_of, rule_usage


def usage(rules: dict[str, Any], st: Any = None) -> list[Usage]:
    return rule_usage(RiskConfig.model_validate({"rules": rules}), st or state(), NOON)


def one(rules: dict[str, Any], st: Any = None) -> Usage:
    [figure] = usage(rules, st)
    return figure


@pytest.mark.parametrize(
    ("ratio", "breached", "level"),
    [
        pytest.param("0.79", False, "ok", id="79%-green"),
        pytest.param("0.8", False, "warn", id="80%-yellow"),
        pytest.param("1", False, "warn", id="100%-of-a-count-is-not-a-breach"),
        pytest.param("1", True, "breached", id="100%-breached-red"),
        pytest.param("0.1", True, "breached", id="locked-red-whatever-the-ratio"),
        pytest.param(None, False, "ok", id="no-measure"),
    ],
)
def test_level_thresholds(ratio: str | None, breached: bool, level: str) -> None:
    assert level_of(None if ratio is None else Decimal(ratio), breached) == level


@pytest.mark.parametrize(
    ("realized", "level"),
    [("-395", "ok"), ("-400", "warn"), ("-499.99", "warn"), ("-500", "breached")],
    ids=["79%", "80%", "99.99%", "100%-inclusive"],
)
def test_daily_loss_figure_and_colour(realized: str, level: str) -> None:
    figure = one({"daily_realized_loss": {"enabled": True, "limit": -500}}, state(realized_gross=realized))
    assert figure.rule == "RULE-003" and figure.label == "Daily loss"
    assert figure.text == f"{Decimal(realized):.2f} / -500.00"
    assert figure.level == level


def test_daily_loss_counts_unrealized_and_fees_as_the_rule_does() -> None:
    st = state((MNQ, 2, "21000"), marks={MNQ: "20950"}, realized_gross="-100", fees="20")
    figure = one({"daily_realized_loss": {"enabled": True, "limit": -500}}, st)
    assert (figure.current, figure.limit, figure.ratio) == ("-320.00", "-500.00", 0.64)
    assert figure.text == "-320.00 / -500.00"
    assert figure.level == "ok"


def test_a_profit_is_no_use_of_the_loss_limit_and_a_lock_is_red() -> None:
    rules = {"daily_realized_loss": {"enabled": True, "limit": -500}}
    assert one(rules, state(realized_gross="250")).ratio == 0.0
    locked = state(realized_gross="-10", held_locks={("RULE-003", "account")})
    assert one(rules, locked).level == "breached"


@pytest.mark.parametrize(
    ("positions", "text", "level"),
    [
        ([(MNQ, 3, "21000")], "3/5", "ok"),  # 60 %
        ([(MNQ, 3, "21000"), (ES, -1, "6000")], "4/5", "warn"),  # gross: 80 %
        ([(MNQ, 5, "21000")], "5/5", "warn"),  # at the limit: counts are strict
        ([(MNQ, 6, "21000")], "6/5", "breached"),
    ],
)
def test_max_contracts(positions: list[tuple[str, int, str]], text: str, level: str) -> None:
    figure = one({"max_contracts": {"enabled": True, "limit": 5}}, state(*positions))
    assert (figure.rule, figure.label) == ("RULE-001", "Max contracts")
    assert (figure.text, figure.level) == (text, level)


def test_max_contracts_net_nets_long_against_short() -> None:
    st = state((MNQ, 3, "21000"), (ES, -1, "6000"))
    figure = one({"max_contracts": {"enabled": True, "limit": 5, "count_type": "net"}}, st)
    assert (figure.label, figure.text, figure.ratio) == ("Max contracts (net)", "2/5", 0.4)


def test_per_instrument_shows_the_symbol_nearest_its_limit() -> None:
    rules = {"max_contracts_per_instrument": {"enabled": True, "limits": {"MNQ": 4, "ES": 1}}}
    assert one(rules, state((MNQ, 2, "21000"), (ES, 1, "6000"))).text == "ES 1/1"
    assert one(rules).text == "none held"
    unlisted = one(rules, state(("CON.F.US.RTY.H26", 1, "2000")))
    assert (unlisted.text, unlisted.level) == ("RTY 1/0", "breached")  # unlisted: blocked (limit 0)


def test_position_loss_and_profit_take_the_worst_and_the_best_position() -> None:
    st = state((MNQ, 2, "21000"), (ES, 1, "6000"), marks={MNQ: "20900", ES: "6010"})
    loss, profit = usage(
        {
            "daily_unrealized_loss": {"enabled": True, "limit": -500},
            "max_unrealized_profit": {"enabled": True, "target": 500},
        },
        st,
    )
    assert (loss.text, loss.level) == ("MNQ -400.00 / -500.00", "warn")
    assert (profit.text, profit.level) == ("ES 500.00 / 500.00", "breached")  # inclusive target
    unmarked = one({"daily_unrealized_loss": {"enabled": True, "limit": -300}}, state((MNQ, 1, "21000")))
    assert (unmarked.text, unmarked.current) == ("— / -300.00", None)  # no quote yet: unknown


def test_trade_frequency_has_one_figure_per_window() -> None:
    trades = {
        1: NOON - timedelta(seconds=30),
        2: NOON - timedelta(seconds=10),
        3: NOON - timedelta(minutes=5),
    }
    rules = {"trade_frequency_limit": {"enabled": True, "limits": {"per_minute": 3, "per_hour": 10}}}
    minute, hour = usage(rules, state(trades=trades))
    assert (minute.label, minute.text, minute.level) == ("Trades/min", "2/3", "ok")
    assert (hour.label, hour.text, hour.level) == ("Trades/hour", "3/10", "ok")
    cooling = usage(rules, state(trades=trades, held_locks={("RULE-006", "account")}))
    assert [f.level for f in cooling] == ["breached", "breached"]


def test_loss_cooldown_sums_an_orders_partial_exits_against_the_first_tier() -> None:
    st = state()
    for fill_id, pnl in ((1, "-50"), (2, "-40")):
        st.apply_fill(fill(fill_id, MNQ, OrderSide.SELL, 1, "21000", pnl=pnl, fees="1", order_id=7),
                      count_as_trade=False)  # fmt: skip
    tiers = [{"loss_amount": -300, "duration": "30m"}, {"loss_amount": -100, "duration": "5m"}]
    figure = one({"cooldown_after_loss": {"enabled": True, "tiers": tiers}}, st)
    assert (figure.text, figure.ratio, figure.level) == ("worst exit -92.00 / -100.00", 0.92, "warn")


def test_grace_warns_while_a_position_has_no_full_stop() -> None:
    rules = {"no_stop_loss_grace": {"enabled": True, "grace_period_seconds": 10}}
    bare = state((MNQ, 2, "21000"))
    assert (one(rules, bare).text, one(rules, bare).level) == ("1 unprotected (10s grace)", "warn")
    stop = order(9, MNQ, OrderSide.SELL, 2, type=OrderType.STOP, stop="20990", price=None)
    bare.apply_order(stop)
    assert (one(rules, bare).text, one(rules, bare).level) == ("all protected", "ok")


def test_session_broker_blocks_and_management() -> None:
    rules = {
        "session_block_outside": {"enabled": True, "session": {"start": "09:30", "end": "16:00"}},
        "auth_loss_guard": {"enabled": True},
        "symbol_blocks": {"enabled": True, "blocked_symbols": ["RTY", "M2K"]},
        "trade_management": {"enabled": True, "auto_stop_loss": {"enabled": True, "ticks": 40},
                             "trailing_stop": {"enabled": True, "activation_ticks": 40, "trail_ticks": 20}},
    }  # fmt: skip
    calm = {f.rule: (f.text, f.level) for f in usage(rules)}
    assert calm == {
        "RULE-009": ("open", "ok"),
        "RULE-010": ("canTrade", "ok"),
        "RULE-011": ("RTY, M2K", "ok"),
        "RULE-012": ("stop 40t, trail 40/20t", "ok"),
    }
    st = state(("CON.F.US.RTY.H26", 1, "2000"), held_locks={("RULE-009", "account"), ("RULE-010", "account")})
    st.can_trade = False
    stormy = {f.rule: (f.text, f.level) for f in usage(rules, st)}
    assert stormy["RULE-009"] == ("closed", "breached")
    assert stormy["RULE-010"] == ("canTrade false", "breached")
    assert stormy["RULE-011"] == ("RTY, M2K (held: RTY)", "breached")


def test_profit_target_and_rule_order() -> None:
    rules = {
        "daily_realized_profit": {"enabled": True, "target": 1000},
        "max_contracts": {"enabled": True, "limit": 5},
        "daily_realized_loss": {"enabled": False, "limit": -500},
    }
    figures = usage(rules, state(realized_gross="850"))
    assert [f.rule for f in figures] == ["RULE-001", "RULE-013"]  # SPEC §3 order, disabled left out
    assert (figures[1].text, figures[1].level) == ("850.00 / 1000.00", "warn")
