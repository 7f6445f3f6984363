"""The engine end to end on a real SQLite file and the simulated broker (SPEC §4.1-4.5)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from harness import START, Run

from risk_manager.broker import BrokerUnavailable
from risk_manager.domain import AccountInfo
from risk_manager.engine import Engine
from risk_manager.store import LockRow, Store, StoreFull

LOSS_LIMIT = {"daily_realized_loss": {"enabled": True, "limit": -500.0, "include_unrealized": False}}


def lose(run: Run, seconds: float = 60, fill_id: int = 1, *, open_after: bool = False) -> None:
    """A round turn losing 600.00 (1 MNQ, 1200 ticks) and, optionally, a new position left open."""
    run.quote(seconds - 1, 21000.0)
    run.fill(seconds, fill_id, 0, 1, 21000.0, position=1, avg=21000.0)
    run.fill(seconds, fill_id + 1, 1, 1, 20700.0, pnl=-600.0, position=0, avg=0.0)
    if open_after:
        run.fill(seconds, fill_id + 2, 0, 2, 20700.0, position=2, avg=20700.0)


def active_locks(path: Path) -> list[LockRow]:
    with Store.open(path / "risk_manager.db", read_only=True) as store:
        return store.active_lockouts()


def test_a_store_failure_never_stops_enforcement_and_the_lock_is_written_on_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Run(tmp_path, LOSS_LIMIT)
    # this test's ticks are milliseconds apart in real time: retry the held writes on each one
    monkeypatch.setattr("risk_manager.engine.persist.RETRY_DELAYS", (0.0,))
    real_insert = Store.insert_lockout
    disk = {"full": True}

    def flaky_insert(self: Store, row: LockRow) -> None:
        if disk["full"]:
            raise StoreFull("database or disk is full", operation="insert_lockout", path=tmp_path)
        real_insert(self, row)

    monkeypatch.setattr(Store, "insert_lockout", flaky_insert)
    lose(run)
    assert run.actions() == [("lockout", "RULE-003"), ("cancel_all", "RULE-003"), ("close_all", "RULE-003")]
    assert run.engine.store.store_error
    assert ("RULE-003", "account") in run.engine.states[7].held_locks  # held in memory, enforced
    assert active_locks(tmp_path) == []
    run.fill(120, 10, 0, 1, 20700.0, position=1, avg=20700.0)
    assert run.actions()[-1] == ("close", "RULE-003")  # lockout mode works from the lock in memory
    disk["full"] = False
    run.tick(121)
    assert not run.engine.store.store_error
    assert [lock.rule_id for lock in active_locks(tmp_path)] == ["RULE-003"]
    run.close()


def test_a_reset_missed_while_down_runs_at_startup_and_clears_the_daily_lock(tmp_path: Path) -> None:
    first = Run(tmp_path, LOSS_LIMIT)
    lose(first)
    first.close()
    assert [lock.rule_id for lock in active_locks(tmp_path)] == ["RULE-003"]
    second = Run(tmp_path, LOSS_LIMIT, start=START + timedelta(days=1))
    # SPEC §4.2: locks that expired while down are cleared first (this one ended at the reset),
    # then the missed reset runs
    assert second.actions() == [("unlock", "RULE-003"), ("reset", None)]
    assert second.records[0].extras == {"by": "expiry"}
    assert second.records[1].extras == {"trading_date": (START + timedelta(days=1)).date()}
    assert active_locks(tmp_path) == []
    second.close()


def test_a_lock_that_expired_while_down_is_cleared_by_expiry(tmp_path: Path) -> None:
    with Store.open(tmp_path / "risk_manager.db") as store:
        store.set_meta("last_reset", (START - timedelta(hours=1)).isoformat())
        store.insert_lockout(LockRow(1, 7, "RULE-007", "account", "cooldown", "loss -150.00", START,
                                     START + timedelta(minutes=5)))  # fmt: skip
    run = Run(tmp_path, LOSS_LIMIT, start=START + timedelta(hours=1))
    assert run.actions() == [("unlock", "RULE-007")]
    assert run.records[0].extras == {"by": "expiry"}
    assert run.records[0].at == START + timedelta(minutes=5)
    run.close()


def test_a_restart_keeps_the_lock_and_lockout_mode_still_closes_new_positions(tmp_path: Path) -> None:
    first = Run(tmp_path, LOSS_LIMIT)
    lose(first)
    first.close()
    second = Run(tmp_path, LOSS_LIMIT, start=START + timedelta(minutes=5))
    assert second.actions() == []  # existing locks are not re-printed
    second.fill(400, 10, 0, 1, 20700.0, position=1, avg=20700.0)
    assert second.actions() == [("close", "RULE-003")]
    second.close()


def test_the_reconciler_flattens_again_while_a_locked_account_is_still_exposed(tmp_path: Path) -> None:
    run = Run(tmp_path, {"daily_realized_loss": {"enabled": True, "limit": -500.0}})
    run.quote(1, 21000.0)
    run.fill(2, 1, 0, 2, 21000.0, position=2, avg=21000.0)
    run.run.broker.fail_next("close_position", times=3, error=BrokerUnavailable("gateway down"))
    run.quote(60, 20800.0)  # -800.00 unrealized: flatten, but every close fails
    assert ("failed", "RULE-003") in run.actions()
    assert run.engine.states[7].positions  # still exposed
    run.advance(run.at(70))
    reconcile = [r for r in run.records if r.reason.startswith("reconcile")]
    assert [r.action for r in reconcile][:2] == ["cancel_all", "close_all"]
    assert not run.engine.states[7].positions
    run.close()


def test_events_of_an_account_that_is_not_monitored_change_nothing(tmp_path: Path) -> None:
    run = Run(tmp_path, LOSS_LIMIT)
    run.run.broker.add_account(AccountInfo(999, "OTHER", Decimal(0), True))
    run.quote(1, 21000.0)
    run.fill(2, 1, 0, 9, 21000.0, position=9, avg=21000.0, account=999)
    assert 999 not in run.engine.states
    assert run.actions() == []
    run.close()


def _random_day(run: Run, seed: int) -> None:
    """Quotes on a random walk and market orders executed by the simulated broker: coherent fills."""
    rng = random.Random(seed)
    price = 21000.0
    for step in range(400):
        seconds = 10 + step
        price += rng.choice((-4, -2, -1, 0, 1, 2, 4)) * 0.25
        if rng.random() < 0.7:
            run.quote(seconds, price)
        else:
            run.trade(seconds, rng.choice((7, 8, 9)), rng.choice((0, 1)), rng.randint(1, 3))


QUOTE_RULES = {
    "daily_realized_loss": {"enabled": True, "limit": -150.0},
    "max_contracts": {"enabled": True, "limit": 4},
    "daily_unrealized_loss": {"enabled": True, "limit": -60.0},
    "max_unrealized_profit": {"enabled": True, "target": 80.0},
    "daily_realized_profit": {"enabled": True, "target": 400.0},
    "trade_management": {
        "enabled": True,
        "auto_stop_loss": {"enabled": True, "ticks": 40},
        "breakeven": {"enabled": True, "trigger_ticks": 8, "offset_ticks": 1},
        "trailing_stop": {"enabled": True, "activation_ticks": 12, "trail_ticks": 6},
    },
}


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param({k: QUOTE_RULES[k] for k in ("daily_realized_loss", "max_contracts")}, id="spine"),
        pytest.param(QUOTE_RULES, id="every-quote-rule"),
    ],
)
@pytest.mark.parametrize("seed", [3, 11, 29])
def test_skipping_quotes_by_headroom_never_changes_a_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: dict[str, Any], seed: int
) -> None:
    pruned = Run(tmp_path / "pruned", rules, accounts=(7, 8, 9))
    _random_day(pruned, seed=seed)
    pruned.close()
    monkeypatch.setattr(Engine, "_quote_room", lambda self, state: None)
    every = Run(tmp_path / "every", rules, accounts=(7, 8, 9))
    _random_day(every, seed=seed)
    every.close()
    assert len(pruned.records) > 5
    assert [(r.at, r.account_id, r.action, r.reason) for r in pruned.records] == [
        (r.at, r.account_id, r.action, r.reason) for r in every.records
    ]


def test_a_stop_whose_order_showed_up_no_longer_holds_back_the_next_placement(tmp_path: Path) -> None:
    """Placements are deduplicated only until their order shows up (found by the benchmark)."""
    rules = {"trade_management": {"enabled": True, "auto_stop_loss": {"enabled": True, "ticks": 40}}}
    run = Run(tmp_path, rules)
    run.quote(1, 21000.0)
    run.trade(2, 7, 0, 1)  # long 1: a stop is placed
    run.trade(3, 7, 1, 2)  # reversed to short 1, a second later: its stop is placed at once
    places = [r for r in run.records if r.action == "place_stop"]
    assert [r.at for r in places] == [run.at(2), run.at(3)]
    run.close()


def test_the_daemons_own_orders_are_still_its_own_after_a_restart(tmp_path: Path) -> None:
    rules = {"trade_management": {"enabled": True, "auto_stop_loss": {"enabled": True, "ticks": 40}}}
    run = Run(tmp_path, rules)
    run.quote(1, 21000.0)
    run.trade(2, 7, 0, 1)
    [stop] = [o for o in run.engine.states[7].orders.values() if o.is_stop]
    assert stop.id in run.engine.states[7].daemon_orders
    run.tick(3)  # the 1 s flush: the journal holds the order and the engine's note on it
    run.loop.run_until_complete(run.run.restart())
    assert stop.id in run.engine.states[7].daemon_orders
    run.close()
