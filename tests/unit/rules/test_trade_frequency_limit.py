"""RULE-006 Trade Frequency Limit: the Given/When/Then of SPEC §3 and the edges.

Each case folds a sequence of fills into a fresh account state the way the engine does
(``apply_fill``; ``counted=False`` stands for a daemon fill or a fill under a lock, which
the engine keeps out of the trades) and evaluates the rule after each one, at the
fill's own time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from factories import MNQ, fill, fill_event, state
from risk_manager.config.risk import TradeFrequencyLimitConfig
from risk_manager.domain import ActionKind, Decision, FillReceived, OrderSide
from risk_manager.ledger import AccountState
from risk_manager.rules import trade_frequency_limit

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00:00 New York (EDT)


def config(
    per_minute: int | None = 3,
    per_hour: int | None = 10,
    per_session: int | None = 40,
    cooldowns: dict[str, str] | None = None,
) -> TradeFrequencyLimitConfig:
    limits = {"per_minute": per_minute, "per_hour": per_hour, "per_session": per_session}
    body: dict[str, object] = {"enabled": True, "limits": limits}
    if cooldowns is not None:
        body["cooldowns"] = cooldowns
    return TradeFrequencyLimitConfig.model_validate(body)


def at(seconds: float) -> datetime:
    """``seconds`` after 10:00:00 New York."""
    return T0 + timedelta(seconds=seconds)


class Step(NamedTuple):
    """One fill: buy (entry) or sell ``size`` MNQ at ``seconds`` past 10:00:00."""

    seconds: float
    side: OrderSide = OrderSide.BUY
    size: int = 1
    order_id: int | None = None
    pnl: str | None = None
    counted: bool = True
    voided: bool = False


def buy(seconds: float, size: int = 1, *, order_id: int | None = None, counted: bool = True) -> Step:
    return Step(seconds, OrderSide.BUY, size, order_id, None, counted)


def sell(seconds: float, size: int = 1, *, order_id: int | None = None, pnl: str | None = "0") -> Step:
    return Step(seconds, OrderSide.SELL, size, order_id, pnl)


def entries(*seconds: float) -> list[Step]:
    return [buy(s) for s in seconds]


def run(cfg: TradeFrequencyLimitConfig, steps: list[Step], st: AccountState | None = None,
        now: datetime | None = None) -> list[tuple[datetime, Decision]]:  # fmt: skip
    """Fold each step's fill, evaluate at that fill's time; return (fill time, decision) pairs."""
    st = st or state()
    out: list[tuple[datetime, Decision]] = []
    for number, step in enumerate(steps, start=1):
        f = fill(number, MNQ, step.side, step.size, "21000", pnl=step.pnl, order_id=step.order_id,
                 voided=step.voided, at=at(step.seconds))  # fmt: skip
        st.apply_fill(f, count_as_trade=step.counted)
        out.extend((f.at, d) for d in trade_frequency_limit.evaluate(cfg, st, fill_event(f), now or f.at))
    return out


def summary(decisions: list[tuple[datetime, Decision]]) -> list[tuple[datetime, str, datetime | None]]:
    return [(when, d.reason, d.lock.until if d.lock else None) for when, d in decisions]


MINUTE_BREACH = "trades 4 > 3 per minute: cooldown 1m"


@pytest.mark.parametrize(
    ("cfg", "steps", "expected"),
    [
        pytest.param(config(), entries(0, 10, 20), [], id="RULE-006.1"),
        pytest.param(config(), entries(0, 10, 20, 45), [(at(45), MINUTE_BREACH, at(105))], id="RULE-006.2"),
        pytest.param(config(), entries(0, 10, 20, 65), [], id="RULE-006.3"),
        pytest.param(
            config(),
            [buy(0), buy(10), buy(20, order_id=30), buy(21, order_id=30), buy(22, order_id=30)],
            [],
            id="RULE-006.4",
        ),
        pytest.param(
            config(),
            # 7 trades a minute apart, then 4 inside one minute: minute 4 > 3 and hour 11 > 10.
            entries(*(60 * m for m in range(7)), 1800, 1810, 1820, 1830),
            [(at(1830), "trades 4 > 3 per minute, 11 > 10 per hour: cooldown 30m", at(1830 + 1800))],
            id="RULE-006.5",
        ),
        pytest.param(
            config(),
            [buy(0), buy(10), buy(20, order_id=30), buy(21, order_id=30), buy(22, order_id=30), buy(30)],
            [(at(30), MINUTE_BREACH, at(90))],
            id="partials-count-once-then-one-more-breaches",
        ),
        pytest.param(config(), entries(0, 10, 20, 60), [], id="boundary-exactly-60s-excluded"),
        pytest.param(
            config(),
            entries(0, 10, 20, 59.999),
            [(at(59.999), MINUTE_BREACH, at(119.999))],
            id="boundary-just-inside-60s",
        ),
        pytest.param(config(), entries(0, 0, 0), [], id="exactly-at-limit-same-instant"),
        pytest.param(
            config(),
            [buy(0, 2), sell(5), buy(10), sell(15), buy(20), sell(30), sell(40)],  # 3 entries, 4 exits
            [],
            id="exits-never-count",
        ),
        pytest.param(
            config(),
            [*entries(0, 10, 20), buy(45, counted=False)],
            [],
            id="daemon-or-locked-fill-not-a-trade",
        ),
        pytest.param(
            config(),
            # long 3, then one sell of 5: closes 3 and opens short 2, an entry: the 4th trade
            [*entries(0, 10, 20), sell(45, 5, pnl="0")],
            [(at(45), MINUTE_BREACH, at(105))],
            id="reversal-fill-is-an-entry",
        ),
        pytest.param(
            config(),
            [*entries(0, 10, 20), Step(45, voided=True)],
            [],
            id="voided-entry-not-a-trade",
        ),
        pytest.param(
            config(per_minute=None, per_hour=None, per_session=5),
            entries(*(600 * n for n in range(6))),
            [(at(3000), "trades 6 > 5 per session: cooldown 1h", at(3000 + 3600))],
            id="session-window",
        ),
        pytest.param(
            config(per_minute=3, per_hour=None, per_session=3),
            entries(0, 10, 20, 30),
            [(at(30), "trades 4 > 3 per minute, 4 > 3 per session: cooldown 1h", at(30 + 3600))],
            id="longest-breached-cooldown-minute-and-session",
        ),
        pytest.param(
            config(per_minute=None),
            entries(0, 10, 20, 30, 40),
            [],
            id="minute-window-off",
        ),
        pytest.param(
            config(cooldowns={"per_minute": "2h", "per_hour": "30m"}),
            entries(*(60 * m for m in range(7)), 1800, 1810, 1820, 1830),
            [(at(1830), "trades 4 > 3 per minute, 11 > 10 per hour: cooldown 2h", at(1830 + 7200))],
            id="longest-cooldown-whatever-the-window",
        ),
        pytest.param(
            config(),
            [*entries(0, 10), buy(20, order_id=30), buy(90, order_id=30)],
            [],
            id="later-partial-of-a-counted-order-is-no-new-trade",
        ),
    ],
)
def test_trade_frequency_limit(cfg, steps, expected) -> None:
    assert summary(run(cfg, steps)) == expected


def test_breach_flattens_with_a_cooldown_from_the_fill_time_not_now() -> None:
    st = state()
    for number, seconds in enumerate((0, 10, 20), start=1):
        st.apply_fill(fill(number, MNQ, OrderSide.BUY, 1, "21000", at=at(seconds)), count_as_trade=True)
    fourth = fill(4, MNQ, OrderSide.BUY, 1, "21000", at=at(45))
    st.apply_fill(fourth, count_as_trade=True)
    [decision] = trade_frequency_limit.evaluate(config(), st, fill_event(fourth), at(46.5))
    assert decision.rule == "RULE-006"
    assert [a.kind for a in decision.actions] == [ActionKind.CANCEL_ALL, ActionKind.CLOSE_ALL]
    assert decision.lock is not None
    assert (decision.lock.kind, decision.lock.scope, decision.lock.until) == ("cooldown", "account", at(105))
    assert decision.state == {
        "at": at(45).isoformat(),
        "cooldown": "1m",
        "per_minute": "4",
        "per_minute_limit": "3",
        "per_hour": "4",
        "per_hour_limit": "10",
        "per_session": "4",
        "per_session_limit": "40",
    }


def test_no_second_breach_while_holding_the_cooldown() -> None:
    st = state(held_locks={("RULE-006", "account")})
    assert run(config(), entries(0, 10, 20, 45), st) == []


def test_another_rules_lock_does_not_stop_the_rule_from_judging_counted_trades() -> None:
    st = state(held_locks={("RULE-007", "account")})
    assert summary(run(config(), entries(0, 10, 20, 45), st)) == [(at(45), MINUTE_BREACH, at(105))]


def test_a_fill_found_late_on_resync_breaches_at_the_trade_it_pushes_over() -> None:
    """SPEC §4.2: fills found on resync count at their timestamps; :30 arrives after :45."""
    decisions = run(config(), entries(0, 10, 45, 30), now=at(50))
    assert summary(decisions) == [(at(30), MINUTE_BREACH, at(105))]
    assert decisions[0][1].state["at"] == at(45).isoformat()


def test_a_breach_found_after_its_cooldown_ended_is_history() -> None:
    assert run(config(), entries(0, 10, 20, 45), now=at(105)) == []
    assert len(run(config(), entries(0, 10, 20, 45), now=at(104))) == 1


def test_only_fills_trigger() -> None:
    assert trade_frequency_limit.triggers(config()) == {FillReceived}


def test_other_events_are_ignored() -> None:
    from risk_manager.domain import Evaluate

    assert trade_frequency_limit.evaluate(config(), state(), Evaluate(T0, 101, "startup"), T0) == []
