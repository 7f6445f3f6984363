"""A real process killed with SIGKILL mid-run loses no lockout and no fill (SPEC §4.5, §5).

The replay command runs a long scenario at a human pace against a data dir; once it
has printed its lockout, it is killed with ``kill -9``. The store is then checked, and
a fresh engine is booted on it exactly as the daemon boots after a crash.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from risk_manager.replay import ScenarioRun, load_scenario
from risk_manager.store import Store

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
MNQ = "CON.F.US.MNQ.H26"


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def losing_day(round_turns: int) -> dict[str, object]:
    """Round turns of 1 MNQ losing 50.00 each, then a long tail of quotes."""
    events: list[dict[str, object]] = []
    at = START
    for n in range(round_turns):
        for side, price, pnl in ((0, 21000.0, None), (1, 20900.0, -50.0)):
            at += timedelta(seconds=30)
            fill_id = 1000 + 2 * n + side
            events.append(
                {
                    "at": _z(at),
                    "type": "GatewayUserTrade",
                    "data": {
                        "id": fill_id,
                        "accountId": 7,
                        "contractId": MNQ,
                        "creationTimestamp": _z(at),
                        "price": price,
                        "profitAndLoss": pnl,
                        "fees": 0.37,
                        "side": side,
                        "size": 1,
                        "voided": False,
                        "orderId": fill_id,
                    },
                }
            )
            events.append(
                {
                    "at": _z(at),
                    "type": "GatewayUserPosition",
                    "data": {
                        "id": 1,
                        "accountId": 7,
                        "contractId": MNQ,
                        "creationTimestamp": _z(at),
                        "type": 0 if side else 1,
                        "size": 0 if side else 1,
                        "averagePrice": price,
                    },
                }
            )
    for n in range(2000):
        at += timedelta(seconds=1)
        events.append(
            {"at": _z(at), "type": "GatewayQuote", "contractId": MNQ, "data": {"lastPrice": 20900.0 + n % 7}}
        )
    return {
        "start": _z(START),
        "accounts": [{"id": 7, "name": "PRAC-7"}],
        "rules": {"daily_realized_loss": {"enabled": True, "limit": -500.0, "include_unrealized": False}},
        "events": events,
    }


@pytest.mark.slow
def test_kill_9_mid_run_loses_no_lockout_and_no_fill(tmp_path: Path) -> None:
    scenario = tmp_path / "day.yaml"
    scenario.write_text(yaml.safe_dump(losing_day(12)))
    data_dir = tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "risk_manager",
        "replay",
        str(scenario),
        "--json",
        "--pace",
        "0.003",
        "--data-dir",
        str(data_dir),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    printed = []
    for line in proc.stdout:
        printed.append(json.loads(line))
        if printed[-1]["action"] == "close_all":
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    lockout = next(p for p in printed if p["action"] == "lockout")
    locked_at = datetime.fromisoformat(lockout["at"].replace("Z", "+00:00"))
    with Store.open(data_dir / "risk_manager.db", read_only=True) as store:
        [lock] = store.active_lockouts(7)
        fills = store.fills(7, locked_at.date())
    assert (lock.rule_id, lock.kind, lock.reason) == ("RULE-003", "hard", lockout["reason"])
    # every fill up to the breaching one was processed before the lockout line was printed
    stored = {f.fill_id for f in fills}
    expected = {1000 + 2 * n + s for n in range(10) for s in (0, 1)}
    assert expected <= stored
    net = sum((f.pnl or Decimal(0)) - f.fees for f in fills if not f.voided)

    # a fresh engine on the same store, booted as after a crash: lock restored, P&L rebuilt
    loaded = load_scenario(scenario)
    records: list[object] = []
    run = ScenarioRun(loaded, data_dir, records.append)
    run.clock.set(locked_at + timedelta(minutes=1))
    asyncio.run(run._boot())
    assert run.engine is not None
    state = run.engine.states[7]
    assert ("RULE-003", "account") in state.held_locks
    assert state.realized_net == net
    assert not any(getattr(r, "action", "") == "lockout" for r in records)  # not re-printed
    run.close()
