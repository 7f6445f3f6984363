"""The admin's break-glass on the engine (SPEC §4.6) and config taking effect between events (§4.7)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import START, Run

from risk_manager.config.risk import RulesConfig
from risk_manager.engine.admin import Refused, admin_reset_day, admin_unlock, reconfigure
from risk_manager.store import Store

RULES: dict[str, Any] = {
    "daily_realized_loss": {"enabled": True, "limit": -500.0, "include_unrealized": False},
    "auth_loss_guard": {"enabled": True},
}


def lose(run: Run, seconds: float, fill_id: int = 1) -> None:
    """A round turn losing 600.00: RULE-003 locks the account."""
    run.quote(seconds - 1, 21000.0)
    run.fill(seconds, fill_id, 0, 1, 21000.0, position=1, avg=21000.0)
    run.fill(seconds, fill_id + 1, 1, 1, 20700.0, pnl=-600.0, position=0, avg=0.0)


def broker_lock(run: Run, seconds: float) -> None:
    run.send(
        seconds, "GatewayUserAccount", {"id": 7, "name": "PRAC-7", "balance": 50000.0, "canTrade": False}
    )


def held(run: Run) -> list[str]:
    return sorted(lock.rule_id for lock in run.engine.locks.active(7))


def admin_rows(path: Path) -> list[tuple[str, str | None, str]]:
    with Store.open(path / "risk_manager.db", read_only=True) as store:
        rows = store.enforcement_rows(limit=None)
    return [(r.action, r.rule_id, r.reason) for r in rows if r.action.startswith("ADMIN")]


def test_unlock_clears_what_an_admin_may_clear_and_refuses_the_rest(tmp_path: Path) -> None:
    run = Run(tmp_path, RULES)
    lose(run, 60)
    broker_lock(run, 70)
    assert held(run) == ["RULE-003", "RULE-010"]
    now = run.at(80)
    for rule in ("RULE-009", "RULE-010"):
        with pytest.raises(Refused, match=rule):
            admin_unlock(run.engine, reason="please", now=now, rule=rule)
    cleared = admin_unlock(run.engine, reason="coach agreed", now=now)  # --all
    assert [lock.rule_id for lock in cleared] == ["RULE-003"]
    assert held(run) == ["RULE-010"]  # broker state stays until canTrade comes back
    assert run.actions()[-1] == ("unlock", "RULE-003")
    run.engine.flush(now)
    assert admin_rows(tmp_path) == [("ADMIN_UNLOCK", "RULE-003", "coach agreed")]
    # P&L is unchanged: the next evaluation of RULE-003 locks again.
    run.fill(90, 10, 0, 1, 20700.0, position=1, avg=20700.0)
    assert "RULE-003" in held(run)
    run.close()


def test_allow_admin_unlock_false_refuses_unlock_and_reset_day(tmp_path: Path) -> None:
    run = Run(tmp_path, RULES, general={"allow_admin_unlock": False})
    lose(run, 60)
    with pytest.raises(Refused, match="allow_admin_unlock"):
        admin_unlock(run.engine, reason="please", now=run.at(70), rule="RULE-003")
    with pytest.raises(Refused, match="allow_admin_unlock"):
        admin_reset_day(run.engine, reason="please", now=run.at(70))
    assert held(run) == ["RULE-003"]
    run.close()


def test_reset_day_starts_a_fresh_day_that_a_restart_does_not_undo(tmp_path: Path) -> None:
    first = Run(tmp_path, RULES)
    lose(first, 60)
    assert first.engine.states[7].realized_net == -600
    cleared = admin_reset_day(first.engine, reason="fresh start", now=first.at(120))
    assert [lock.rule_id for lock in cleared] == ["RULE-003"] and held(first) == []
    assert first.engine.states[7].realized_net == 0
    first.engine.flush(first.at(120))
    first.close()
    # the journal still holds the losing fills; the restarted engine starts the day at the admin reset
    second = Run(tmp_path, RULES, start=START + timedelta(minutes=10))
    assert second.engine.states[7].realized_net == 0 and held(second) == []
    assert ("ADMIN_RESET_DAY", None, "fresh start") in admin_rows(tmp_path)
    second.close()


def test_a_normal_restart_keeps_todays_pnl(tmp_path: Path) -> None:
    """The control for the test above: without an admin reset the journal rebuilds the loss."""
    first = Run(tmp_path, RULES)
    lose(first, 60)
    first.close()
    second = Run(tmp_path, RULES, start=START + timedelta(minutes=10))
    assert second.engine.states[7].realized_net == -600
    second.close()


def test_a_lowered_limit_bites_at_once(tmp_path: Path) -> None:
    run = Run(tmp_path, {"max_contracts": {"enabled": True, "limit": 5}})
    run.quote(1, 21000.0)
    run.fill(2, 1, 0, 4, 21000.0, position=4, avg=21000.0)
    assert run.actions() == []
    config = run.engine.config_of(7)
    assert config is not None
    tighter = config.model_copy(
        update={"rules": RulesConfig.model_validate({"max_contracts": {"enabled": True, "limit": 3}})}
    )

    async def change() -> None:  # between two events, on the engine's loop
        reconfigure(run.engine, {7: tighter}, None, run.at(3))
        await run.run.settle()

    run.loop.run_until_complete(change())
    assert run.actions() == [("reduce", "RULE-001")]
    run.close()
