"""RULE-008 No-Stop-Loss Grace: the Given/When/Then of SPEC §3 and the edges.

Each case gives the account (positions, working orders, running grace timers), one event
at one instant, and expects the actions and the timer changes the rule returns. Times
are New York (EDT, UTC-4): 10:00:00 is 14:00:00Z.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factories import ACCOUNT, ES, MNQ, order, order_event, position_event, state
from risk_manager.config.risk import NoStopLossGraceConfig
from risk_manager.domain import (
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
from risk_manager.rules import REGISTRY, no_stop_loss_grace
from risk_manager.schedule import grace_timer_name

BUY, SELL = OrderSide.BUY, OrderSide.SELL
STOP, STOP_LIMIT, TRAIL = OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP


def ny(clock: str) -> datetime:
    """``HH:MM:SS`` New York on 2026-03-10 (EDT) as UTC."""
    h, m, s = (int(part) for part in clock.split(":"))
    return datetime(2026, 3, 10, h + 4, m, s, tzinfo=UTC)


MNQ_GRACE, ES_GRACE = grace_timer_name(ACCOUNT, MNQ), grace_timer_name(ACCOUNT, ES)


def config(seconds: int = 10) -> NoStopLossGraceConfig:
    return NoStopLossGraceConfig.model_validate({"enabled": True, "grace_period_seconds": seconds})


def stop(order_id: int, side: OrderSide, size: int, price: str = "20990", **changes: object) -> Order:
    """A working stop order on MNQ (type 4 with a stop price unless changed)."""
    return replace(order(order_id, MNQ, side, size, type=STOP, stop=price), **changes)  # type: ignore[arg-type]


def account(
    held: list[tuple[str, int]],
    orders: list[Order] = (),
    timers: dict[str, str] | None = None,  # type: ignore[assignment]
) -> AccountState:
    st = state(*[(cid, size, "21000") for cid, size in held])
    for o in orders:
        st.apply_order(o)
    st.timers = {name: ny(at) for name, at in (timers or {}).items()}
    return st


def outcome(
    decisions: list[Decision],
) -> tuple[list[tuple[str, str | None, int | None]], dict[str, str | None]]:
    """(actions as (kind, contract, size), timer changes as name -> New York expiry or None)."""
    actions = [(a.kind.value, a.contract_id, a.size) for d in decisions for a in d.actions]
    timers = {
        t.name: None if t.expires_at is None else (t.expires_at - timedelta(hours=4)).strftime("%H:%M:%S")
        for d in decisions
        for t in d.timers
    }
    return actions, timers


def opened(size: int, at: str, contract: str = MNQ) -> PositionUpdated:
    return position_event(contract, size, at=ny(at))


def tick(at: str) -> Tick:
    return Tick(ny(at))


def cancelled(o: Order, at: str) -> OrderUpdated:
    return OrderUpdated(ny(at), replace(o, status=OrderStatus.CANCELLED))


CASES = [
    # -- SPEC §3 RULE-008 ----------------------------------------------------------------------
    pytest.param(
        [(MNQ, 1)],
        [],
        {},
        opened(1, "10:00:00"),
        [],
        {MNQ_GRACE: "10:00:10"},
        id="RULE-008.1-open-starts-grace",
    ),
    pytest.param(
        [(MNQ, 1)], [], {MNQ_GRACE: "10:00:10"}, tick("10:00:09"), [], {}, id="RULE-008.1-still-in-grace"
    ),
    pytest.param(
        [(MNQ, 1)],
        [],
        {MNQ_GRACE: "10:00:10"},
        tick("10:00:10"),
        [("close", MNQ, 1)],
        {MNQ_GRACE: None},
        id="RULE-008.1-sell-1-at-10:00:10",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, SELL, 1)],
        {MNQ_GRACE: "10:00:10"},
        order_event(stop(7, SELL, 1, created_at=ny("10:00:04"))),
        [],
        {MNQ_GRACE: None},
        id="RULE-008.2-sell-stop-at-10:00:04-cancels",
    ),
    pytest.param(
        [(MNQ, 1)], [stop(7, SELL, 1)], {}, tick("10:00:10"), [], {}, id="RULE-008.2-nothing-at-10:00:10"
    ),
    pytest.param(
        [(MNQ, 2)],
        [stop(7, SELL, 1)],
        {},
        opened(2, "10:00:00"),
        [],
        {MNQ_GRACE: "10:00:10"},
        id="RULE-008.3-long-2-sell-stop-1-unprotected",
    ),
    pytest.param(
        [(MNQ, 2)],
        [stop(7, SELL, 1)],
        {MNQ_GRACE: "10:00:10"},
        tick("10:00:10"),
        [("cancel_all", MNQ, None), ("close", MNQ, 2)],
        {MNQ_GRACE: None},
        id="RULE-008.3-long-2-closed-at-10:00:10",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, BUY, 1, price="21010")],
        {},
        opened(1, "10:00:00"),
        [],
        {MNQ_GRACE: "10:00:10"},
        id="RULE-008.3-buy-stop-on-a-long-does-not-count",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, BUY, 1, price="21010")],
        {MNQ_GRACE: "10:00:10"},
        tick("10:00:10"),
        [("cancel_all", MNQ, None), ("close", MNQ, 1)],
        {MNQ_GRACE: None},
        id="RULE-008.3-buy-stop-long-closed-at-10:00:10",
    ),
    pytest.param(
        [(MNQ, 1)],
        [],
        {},
        cancelled(stop(7, SELL, 1), "10:05:00"),
        [],
        {MNQ_GRACE: "10:05:10"},
        id="RULE-008.4-stop-cancelled-re-arms",
    ),
    pytest.param(
        [(MNQ, 1)],
        [],
        {MNQ_GRACE: "10:05:10"},
        tick("10:05:10"),
        [("close", MNQ, 1)],
        {MNQ_GRACE: None},
        id="RULE-008.4-closed-at-10:05:10",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(8, SELL, 1, price="20995")],
        {MNQ_GRACE: "10:05:10"},
        order_event(stop(8, SELL, 1, price="20995", created_at=ny("10:05:06"))),
        [],
        {MNQ_GRACE: None},
        id="RULE-008.4-re-protected-in-time",
    ),
    # -- coverage edges ------------------------------------------------------------------------
    pytest.param(
        [(MNQ, 2)],
        [stop(7, SELL, 1), stop(8, SELL, 1, price="20980")],
        {},
        opened(2, "10:00:00"),
        [],
        {},
        id="exactly-at-coverage-two-stops",
    ),
    pytest.param([(MNQ, 2)], [stop(7, SELL, 3)], {}, opened(2, "10:00:00"), [], {}, id="over-coverage"),
    pytest.param(
        [(MNQ, -2)], [stop(7, BUY, 2, price="21010")], {}, opened(-2, "10:00:00"), [], {}, id="short-buy-stop"
    ),
    pytest.param(
        [(MNQ, -2)],
        [stop(7, SELL, 2)],
        {},
        opened(-2, "10:00:00"),
        [],
        {MNQ_GRACE: "10:00:10"},
        id="short-sell-stop-does-not-count",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, SELL, 1, type=STOP_LIMIT)],
        {},
        opened(1, "10:00:00"),
        [],
        {},
        id="stop-limit-counts",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, SELL, 1, type=TRAIL, stop_price=None, trail_price=Decimal("5"))],
        {},
        opened(1, "10:00:00"),
        [],
        {},
        id="trailing-stop-with-trail-price-counts",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, SELL, 1, stop_price=None)],
        {},
        opened(1, "10:00:00"),
        [],
        {MNQ_GRACE: "10:00:10"},
        id="stop-without-a-price-does-not-count",
    ),
    pytest.param(
        [(MNQ, 1)],
        [order(7, MNQ, SELL, 1, price="21020")],
        {},
        opened(1, "10:00:00"),
        [],
        {MNQ_GRACE: "10:00:10"},
        id="a-limit-is-no-stop",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, SELL, 1, status=OrderStatus.SUSPENDED)],
        {},
        opened(1, "10:00:00"),
        [],
        {},
        id="suspended-bracket-child-counts",
    ),
    pytest.param(
        [(MNQ, 2)],
        [stop(7, SELL, 1)],
        {},
        opened(2, "10:01:00"),
        [],
        {MNQ_GRACE: "10:01:10"},
        id="growth-past-coverage",
    ),
    pytest.param(
        [(MNQ, -1)],
        [stop(7, SELL, 1)],
        {},
        opened(-1, "10:01:00"),
        [],
        {MNQ_GRACE: "10:01:10"},
        id="reversal-old-stop-now-same-side",
    ),
    # -- timers --------------------------------------------------------------------------------
    pytest.param(
        [(MNQ, 1)],
        [],
        {MNQ_GRACE: "10:00:10"},
        opened(1, "10:00:05"),
        [],
        {},
        id="running-timer-keeps-its-expiry",
    ),
    pytest.param(
        [], [], {MNQ_GRACE: "10:00:10"}, opened(0, "10:00:05"), [], {MNQ_GRACE: None}, id="flat-cancels"
    ),
    pytest.param(
        [(MNQ, 1)],
        [],
        {MNQ_GRACE: "10:00:10"},
        Evaluate(ny("10:00:06"), ACCOUNT, "startup"),
        [],
        {},
        id="restart-keeps-the-persisted-expiry",
    ),
    pytest.param(
        [(MNQ, 1)],
        [],
        {MNQ_GRACE: "10:00:10"},
        Evaluate(ny("10:02:00"), ACCOUNT, "startup"),
        [("close", MNQ, 1)],
        {MNQ_GRACE: None},
        id="restart-after-expiry-closes-at-once",
    ),
    pytest.param(
        [(MNQ, 1), (ES, -1)],
        [stop(7, SELL, 1)],
        {},
        Evaluate(ny("10:02:00"), ACCOUNT, "startup"),
        [],
        {ES_GRACE: "10:02:10"},
        id="startup-fresh-grace-for-unprotected-only",
    ),
    pytest.param(
        [(MNQ, 1)],
        [stop(7, SELL, 1)],
        {MNQ_GRACE: "10:00:10"},
        Evaluate(ny("10:00:03"), ACCOUNT, "startup"),
        [],
        {MNQ_GRACE: None},
        id="startup-protected-cancels-a-persisted-timer",
    ),
    pytest.param(
        [(ES, 1)],
        [],
        {MNQ_GRACE: "10:00:10", "expiry:101:other": "10:00:01"},
        tick("10:00:02"),
        [],
        {MNQ_GRACE: None, ES_GRACE: "10:00:12"},
        id="tick-cleans-up-a-flat-contracts-timer-and-leaves-others",
    ),
    pytest.param(
        [(MNQ, 1), (ES, 1)],
        [],
        {MNQ_GRACE: "10:00:10", ES_GRACE: "10:00:15"},
        tick("10:00:10"),
        [("close", MNQ, 1)],
        {MNQ_GRACE: None},
        id="each-position-has-its-own-timer",
    ),
]


@pytest.mark.parametrize(("held", "orders", "timers", "event", "actions", "changes"), CASES)
def test_no_stop_loss_grace(
    held: list[tuple[str, int]],
    orders: list[Order],
    timers: dict[str, str],
    event: Event,
    actions: list[tuple[str, str | None, int | None]],
    changes: dict[str, str | None],
) -> None:
    st = account(held, orders, timers)
    decisions = no_stop_loss_grace.evaluate(config(), st, event, event.at)
    plan = merge(decisions, {c: p.size for c, p in st.positions.items()}, _orders_on(st))
    assert [(a.kind.value, a.contract_id, a.size) for _, a in plan.send] == actions
    assert outcome(decisions)[1] == changes
    assert all(d.lock is None and d.rule == "RULE-008" for d in decisions)


def _orders_on(st: AccountState) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in st.orders.values():
        counts[o.contract_id] = counts.get(o.contract_id, 0) + 1
    return counts


def test_grace_period_comes_from_config() -> None:
    st = account([(MNQ, 1)])
    decisions = no_stop_loss_grace.evaluate(config(90), st, opened(1, "10:00:00"), ny("10:00:00"))
    assert outcome(decisions) == ([], {MNQ_GRACE: "10:01:30"})


def test_reasons_carry_the_numbers() -> None:
    st = account([(MNQ, 2)], [stop(7, SELL, 1)])
    started = no_stop_loss_grace.evaluate(config(), st, opened(2, "10:00:00"), ny("10:00:00"))
    assert [d.reason for d in started] == ["MNQ +2 unprotected (stops cover 1 of 2): grace 10 s"]
    st.timers = {MNQ_GRACE: ny("10:00:10")}
    closed = no_stop_loss_grace.evaluate(config(), st, tick("10:00:10"), ny("10:00:10"))
    assert [d.reason for d in closed] == [
        "MNQ +2 without a full stop loss after 10 s grace (stops cover 1 of 2)"
    ]
    assert closed[0].state == {
        "contract_id": MNQ,
        "size": "2",
        "covered": "1",
        "expired_at": "2026-03-10T14:00:10+00:00",
    }


def test_a_daemon_stop_counts_like_any_other() -> None:
    st = account([(MNQ, 1)], [stop(1000, SELL, 1, custom_tag="RM-101-1")])
    st.daemon_orders.add(1000)
    assert no_stop_loss_grace.evaluate(config(), st, opened(1, "10:00:00"), ny("10:00:00")) == []


def test_the_timer_is_persisted_under_its_spec_name_and_kind() -> None:
    st = account([(MNQ, 1)])
    [decision] = no_stop_loss_grace.evaluate(config(), st, opened(1, "10:00:00"), ny("10:00:00"))
    [change] = decision.timers
    assert (change.name, change.kind) == (f"grace:{ACCOUNT}:{MNQ}", "grace")
    assert decision.actions == ()


def test_triggers_are_position_order_tick_and_startup() -> None:
    assert no_stop_loss_grace.triggers(config()) == frozenset({PositionUpdated, OrderUpdated, Tick, Evaluate})
    assert QuoteReceived not in no_stop_loss_grace.triggers(config())
    spec = REGISTRY["RULE-008"]
    assert (spec.key, spec.evaluate) == ("no_stop_loss_grace", no_stop_loss_grace.evaluate)


def test_no_new_grace_while_a_daemon_close_is_on_its_way() -> None:
    """The close's own order event comes before its position update: no timer for 5 s."""
    st = account([(MNQ, 1)])
    st.pending_closes[MNQ] = ny("10:00:10")
    filled = OrderUpdated(
        ny("10:00:10"), order(9, MNQ, SELL, 1, type=OrderType.MARKET, status=OrderStatus.FILLED)
    )
    assert no_stop_loss_grace.evaluate(config(), st, filled, ny("10:00:10")) == []
    later = no_stop_loss_grace.evaluate(config(), st, tick("10:00:16"), ny("10:00:16"))
    assert outcome(later) == ([], {MNQ_GRACE: "10:00:26"})  # the close never came: a fresh grace
