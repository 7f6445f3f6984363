"""Fault: the clock jumps hours forward (the PC slept) or back (the OS corrected a fast clock).

Lock expiries and the daily reset are absolute UTC instants (SPEC §4.5), so a jump
forward runs every reset and expiry it passed, each recorded at its own instant, and a
jump back shortens nothing: a lock stays until its absolute end, a reset already run is
not run again, a grace timer does not fire early. Nothing crashes, and breaches after
the jump are enforced. The engine runs for real on SQLite with the simulated broker;
the injected clock is set by the test. The last test runs the daemon itself against
the simulator with a clock stepped back in the middle of a tick.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine_desk import ACCOUNT, START, Desk
from faultkit import MAX_TWO, live_daemon, trader_for, until, write_config
from risk_manager.gateway import running_gateway

RESET = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
RULES: dict[str, Any] = {
    "daily_realized_loss": {"enabled": True, "limit": -500.0, "include_unrealized": False},
    "cooldown_after_loss": {"enabled": True, "tiers": [{"loss_amount": -100.0, "duration": "30m"}]},
    "no_stop_loss_grace": {"enabled": True, "grace_period_seconds": 60},
}


@pytest.fixture
def desk(tmp_path: Path) -> Any:
    opened = Desk(tmp_path, RULES)
    yield opened
    opened.close()


def test_a_jump_of_two_days_forward_runs_each_reset_and_expiry_at_its_own_instant(desk: Desk) -> None:
    at = START + timedelta(minutes=5)
    desk.jump(at)
    desk.lose(600.0, at)  # RULE-003 hard lock until the reset, RULE-007 cooldown of 30 min
    assert {lock.rule_id for lock in desk.locks() if lock.cleared_at is None} == {"RULE-003", "RULE-007"}
    desk.records.clear()
    desk.jump(START + timedelta(days=2, hours=1))  # the machine slept through two resets
    resets = [r for r in desk.records if r.action == "reset"]
    assert [r.at for r in resets] == [RESET, RESET + timedelta(days=1)]
    cleared = {lock.rule_id: (lock.cleared_by, lock.cleared_at) for lock in desk.locks()}
    assert cleared == {"RULE-003": ("reset", RESET), "RULE-007": ("expiry", at + timedelta(minutes=30))}
    assert desk.engine.states[ACCOUNT].trading_date == (RESET + timedelta(days=2)).date()
    # the new day is live: a fresh loss is enforced as on any day
    later = START + timedelta(days=2, hours=1, minutes=1)
    desk.lose(600.0, later)
    assert ("lockout", "RULE-003") in desk.actions()


def test_a_jump_back_shortens_no_lock_and_reruns_no_reset(desk: Desk) -> None:
    after_reset = RESET + timedelta(minutes=30)
    desk.jump(after_reset)
    desk.lose(600.0, after_reset)  # locked for the new trading day, cooling down 30 min
    hard = next(lock for lock in desk.locks() if lock.rule_id == "RULE-003")
    cooldown_end = after_reset + timedelta(minutes=30)
    desk.records.clear()
    desk.jump(RESET - timedelta(hours=2))  # the OS steps the clock back 2.5 hours, across the reset
    desk.jump(RESET + timedelta(seconds=1))  # and time passes the reset instant again
    assert [r for r in desk.records if r.action in ("reset", "unlock")] == []
    held = desk.engine.states[ACCOUNT].held_locks
    assert {("RULE-003", "account"), ("RULE-007", "account")} <= held
    assert next(lock for lock in desk.locks() if lock.rule_id == "RULE-003").cleared_at is None
    # a smaller loss while the clock is behind cannot replace the cooldown with an earlier end
    behind = RESET + timedelta(seconds=2)
    desk.lose(150.0, behind)
    active = [lock for lock in desk.locks() if lock.cleared_at is None and lock.rule_id == "RULE-007"]
    assert [lock.expires_at for lock in active] == [cooldown_end]
    desk.jump(cooldown_end)
    assert ("unlock", "RULE-007") in desk.actions()
    assert hard.expires_at == RESET + timedelta(days=1)
    assert ("RULE-003", "account") in desk.engine.states[ACCOUNT].held_locks


def test_a_grace_timer_fires_at_its_absolute_expiry_whichever_way_the_clock_jumps(tmp_path: Path) -> None:
    desk = Desk(tmp_path, {"no_stop_loss_grace": {"enabled": True, "grace_period_seconds": 60}})
    try:
        opened = START + timedelta(minutes=1)
        desk.jump(opened)
        desk.trade(0, 21000.0, pnl=None, position=1, at=opened)  # unprotected: 60 s of grace
        desk.jump(opened - timedelta(hours=3))  # back: the grace is not over, however long the wait
        desk.jump(opened + timedelta(seconds=59))
        assert ("close", "RULE-008") not in desk.actions()
        desk.jump(opened + timedelta(hours=5))  # forward past it: closed at once, once
        assert desk.actions().count(("close", "RULE-008")) == 1
    finally:
        desk.close()


# -- the daemon's own loop -----------------------------------------------------------------------


class SteppedClock:
    """The system time plus an offset; ``step`` moves it after ``calls`` more readings,
    the way an NTP correction lands at any instant, here in the middle of the daemon's tick."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._pending: tuple[int, timedelta] | None = None

    def now(self) -> datetime:
        if self._pending is not None:
            calls, delta = self._pending
            if calls == 0:
                self.offset += delta
                self._pending = None
            else:
                self._pending = (calls - 1, delta)
        return datetime.now(UTC) + self.offset

    def step(self, delta: timedelta, *, calls: int) -> None:
        self._pending = (calls, delta)


def test_the_daemon_keeps_ticking_when_the_clock_steps_back_during_a_tick(tmp_path: Path) -> None:
    clock = SteppedClock()

    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, MAX_TWO)
            async with live_daemon(tmp_path / "config", tmp_path / "data", clock=clock) as live:
                engine = live.daemon.engine
                assert engine is not None
                ticks = {"n": 0}
                real_tick = engine.tick

                def counted(now: datetime) -> None:
                    ticks["n"] += 1
                    real_tick(now)

                engine.tick = counted  # type: ignore[method-assign]
                await until(lambda: _ticked(ticks, 1), "a first tick")
                await asyncio.sleep(0.5)  # between two ticks: the next reading is the next tick's first
                clock.step(-timedelta(hours=1), calls=1)
                seen = ticks["n"]
                await until(lambda: _ticked(ticks, seen + 3), "three more ticks within 5 s", timeout=5)
                async with trader_for(gw.url) as trader:
                    mnq = await trader.contract("MNQ")
                    await trader.quote(mnq, 21000.0)
                    await trader.buy(1, mnq, 3)
                    await trader.holds(1, mnq, 2, "RULE-001 enforced with the clock an hour behind")

    asyncio.run(main())


async def _ticked(ticks: dict[str, int], n: int) -> bool:
    return ticks["n"] >= n
