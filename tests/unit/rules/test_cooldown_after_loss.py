"""RULE-007 Cooldown After Loss: the Given/When/Then of SPEC §3 and the edges.

Each case folds a sequence of MES fills into a fresh account state the way the engine
does (``apply_fill``) and evaluates the rule after each one, at the fill's own time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from factories import MES, fill, fill_event, state
from risk_manager.config.risk import CooldownAfterLossConfig
from risk_manager.domain import ActionKind, Decision, Evaluate, FillReceived, OrderSide
from risk_manager.ledger import AccountState
from risk_manager.rules import cooldown_after_loss

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00:00 New York (EDT)
SPEC_TIERS = [(-100, "5m"), (-200, "15m"), (-300, "30m")]


def config(tiers: list[tuple[float, str]] | None = None) -> CooldownAfterLossConfig:
    body = [{"loss_amount": float(amount), "duration": duration} for amount, duration in tiers or SPEC_TIERS]
    return CooldownAfterLossConfig.model_validate({"enabled": True, "tiers": body})


def at(seconds: float) -> datetime:
    """``seconds`` after 10:00:00 New York."""
    return T0 + timedelta(seconds=seconds)


class Step(NamedTuple):
    """One MES fill at ``seconds`` past 10:00:00; ``pnl`` None = an opening fill."""

    seconds: float
    order_id: int
    pnl: str | None
    fees: str = "0"
    side: OrderSide = OrderSide.SELL
    size: int = 1
    voided: bool = False


def exit_(seconds: float, order_id: int, pnl: str, fees: str = "0", **kw: object) -> Step:
    return Step(seconds, order_id, pnl, fees, **kw)  # type: ignore[arg-type]


def run(cfg: CooldownAfterLossConfig, steps: list[Step], st: AccountState | None = None,
        now: datetime | None = None) -> list[tuple[datetime, Decision]]:  # fmt: skip
    st = st or state()
    out: list[tuple[datetime, Decision]] = []
    for number, step in enumerate(steps, start=1):
        f = fill(number, MES, step.side, step.size, "6000", pnl=step.pnl, fees=step.fees,
                 order_id=step.order_id, voided=step.voided, at=at(step.seconds))  # fmt: skip
        st.apply_fill(f, count_as_trade=True)
        out.extend((f.at, d) for d in cooldown_after_loss.evaluate(cfg, st, fill_event(f), now or f.at))
    return out


def summary(decisions: list[tuple[datetime, Decision]]) -> list[tuple[datetime, str, datetime | None]]:
    return [(when, d.reason, d.lock.until if d.lock else None) for when, d in decisions]


def minutes(seconds: float, plus: int) -> datetime:
    return at(seconds) + timedelta(minutes=plus)


@pytest.mark.parametrize(
    ("cfg", "steps", "includes_fees", "expected"),
    [
        pytest.param(
            config(),
            [exit_(60, 1, "-150")],
            True,
            [(at(60), "loss -150.00 <= -100.00: cooldown 5m", minutes(60, 5))],
            id="RULE-007.1-150",
        ),
        pytest.param(
            config(),
            [exit_(60, 1, "-350")],
            True,
            [(at(60), "loss -350.00 <= -300.00: cooldown 30m", minutes(60, 30))],
            id="RULE-007.1-350",
        ),
        pytest.param(config(), [exit_(60, 1, "-80")], True, [], id="RULE-007.1-80"),
        pytest.param(config(), [exit_(60, 1, "120")], True, [], id="RULE-007.1+120"),
        pytest.param(
            config(),
            [exit_(60, 1, "-60"), exit_(61, 1, "-60")],
            True,
            [(at(61), "loss -120.00 <= -100.00: cooldown 5m", minutes(61, 5))],
            id="RULE-007.2",
        ),
        pytest.param(
            config(),
            [exit_(60, 1, "-95", "6.00")],
            True,
            [(at(60), "loss -101.00 <= -100.00: cooldown 5m", minutes(60, 5))],
            id="RULE-007.3",
        ),
        pytest.param(config(), [exit_(60, 1, "-95", "6.00")], False, [], id="fees-off-gross-only"),
        pytest.param(
            config(),
            [exit_(60, 1, "-100")],
            True,
            [(at(60), "loss -100.00 <= -100.00: cooldown 5m", minutes(60, 5))],
            id="exactly-at-tier-inclusive",
        ),
        pytest.param(config(), [exit_(60, 1, "-99.99")], True, [], id="one-cent-short-of-tier"),
        pytest.param(
            config(),
            [exit_(60, 1, "-99.995")],
            True,
            [(at(60), "loss -100.00 <= -100.00: cooldown 5m", minutes(60, 5))],
            id="half-up-cents",
        ),
        pytest.param(
            config([(-300, "30m"), (-100, "5m"), (-200, "15m")]),
            [exit_(60, 1, "-250")],
            True,
            [(at(60), "loss -250.00 <= -200.00: cooldown 15m", minutes(60, 15))],
            id="deepest-tier-whatever-the-list-order",
        ),
        pytest.param(
            config(),
            [exit_(60, 1, "-60"), exit_(61, 2, "-60")],
            True,
            [],
            id="different-orders-do-not-add-up",
        ),
        pytest.param(
            config(),
            [exit_(60, 1, "-150"), exit_(61, 1, "-100")],
            True,
            [
                (at(60), "loss -150.00 <= -100.00: cooldown 5m", minutes(60, 5)),
                (at(61), "loss -250.00 <= -200.00: cooldown 15m", minutes(61, 15)),
            ],
            id="partials-deepen-to-a-longer-tier",
        ),
        pytest.param(
            config(),
            [exit_(60, 1, "-60", "0.37"), exit_(61, 1, "-39.26", "0.37")],
            True,
            [(at(61), "loss -100.00 <= -100.00: cooldown 5m", minutes(61, 5))],
            id="partials-fees-add-up",
        ),
        pytest.param(
            config(), [Step(0, 1, None, "0.37", OrderSide.BUY)], True, [], id="opening-fill-has-no-pnl"
        ),
        pytest.param(
            # long 1, one sell of 3: closes 1 at -150 and opens short 2 (an exit and an entry)
            config(),
            [Step(0, 1, None, "0", OrderSide.BUY), exit_(60, 2, "-150", size=3)],
            True,
            [(at(60), "loss -150.00 <= -100.00: cooldown 5m", minutes(60, 5))],
            id="reversal-fill",
        ),
        pytest.param(config(), [exit_(60, 1, "-150", voided=True)], True, [], id="voided-fill"),
        pytest.param(
            config(),
            [exit_(60, 1, "-60", voided=True), exit_(61, 1, "-60")],
            True,
            [],
            id="voided-partial-left-out",
        ),
    ],
)
def test_cooldown_after_loss(cfg, steps, includes_fees, expected) -> None:
    st = state()
    st.includes_fees = includes_fees
    assert summary(run(cfg, steps, st)) == expected


def test_breach_flattens_with_a_cooldown_from_the_fill_time() -> None:
    [(_, decision)] = run(config(), [exit_(60, 7, "-350", "1.00")], now=at(60.4))
    assert decision.rule == "RULE-007"
    assert [a.kind for a in decision.actions] == [ActionKind.CANCEL_ALL, ActionKind.CLOSE_ALL]
    assert decision.lock is not None
    assert (decision.lock.kind, decision.lock.scope, decision.lock.until) == (
        "cooldown",
        "account",
        minutes(60, 30),
    )
    assert decision.state == {
        "order_id": "7",
        "loss": "-351.00",
        "loss_amount": "-300.00",
        "duration": "30m",
        "includes_fees": "true",
    }


def test_daemon_close_counts() -> None:
    """SPEC §1 Decision: daemon closes' losses count for RULE-007."""
    st = state()
    st.daemon_orders.add(9)
    assert summary(run(config(), [exit_(60, 9, "-200")], st)) == [
        (at(60), "loss -200.00 <= -200.00: cooldown 15m", minutes(60, 15))
    ]


def test_while_holding_its_cooldown_a_new_loss_only_moves_the_end() -> None:
    """The account is already flat and in lockout mode: no second flatten, the lock row
    goes to the engine, which keeps max(current end, new end) (LockoutBook.set_cooldown)."""
    st = state(held_locks={("RULE-007", "account")})
    [(_, decision)] = run(config(), [exit_(60, 9, "-350")], st)
    assert decision.actions == ()
    assert decision.lock is not None and decision.lock.until == minutes(60, 30)
    assert decision.reason == "loss -350.00 <= -300.00: cooldown 30m"


def test_another_rules_lock_still_flattens() -> None:
    st = state(held_locks={("RULE-006", "account")})
    [(_, decision)] = run(config(), [exit_(60, 9, "-150")], st)
    assert decision.is_flatten


def test_a_loss_whose_break_is_already_over_is_history() -> None:
    """A fill found late (resync) or repeated after the cooldown it earned has run out."""
    assert run(config(), [exit_(60, 1, "-150")], now=minutes(60, 5)) == []
    assert len(run(config(), [exit_(60, 1, "-150")], now=minutes(60, 5) - timedelta(seconds=1))) == 1


def test_a_fill_of_the_previous_trading_day_still_counts() -> None:
    """A fill the ledger keeps out of today's P&L (it belongs before the reset) is a loss all the same."""
    st = state()
    late = fill(1, MES, OrderSide.SELL, 1, "6000", pnl="-150", at=at(60))
    [decision] = cooldown_after_loss.evaluate(config(), st, fill_event(late), at(61))
    assert decision.reason == "loss -150.00 <= -100.00: cooldown 5m"


def test_only_fills_trigger() -> None:
    assert cooldown_after_loss.triggers(config()) == {FillReceived}
    assert cooldown_after_loss.evaluate(config(), state(), Evaluate(T0, 101, "startup"), T0) == []
