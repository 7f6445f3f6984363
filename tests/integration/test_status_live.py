"""The live status screen against a real daemon: ``risk_manager run`` as its own process, the
gateway simulator on 127.0.0.1, the real database, and the Textual app driven by Pilot.

The trader loses past the daily limit; the screen shows the daemon RUNNING and the account
LOCKED with a countdown. Then the daemon is stopped (SIGTERM): the screen says NOT RUNNING,
how to start it, and still shows the lock, read from the database alone.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rich.console import Console

from risk_manager.gateway import RunningGateway, client_gateway_config, running_gateway
from risk_manager.store import DATABASE_FILENAME, Store, StoreError
from risk_manager.tui.app import StatusApp
from risk_manager.tui.frame import StatusReader

WAIT = 30.0
RULES = {
    "daily_realized_loss": {"enabled": True, "limit": -100.0},
    "max_contracts": {"enabled": True, "limit": 5},
}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX signals")]


class ShiftedClock:
    """The system clock, moved forward on demand: the daemon's heartbeat ages without a sleep."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(config_dir: Path, gw: RunningGateway) -> None:
    config_dir.mkdir()
    accounts = {"version": 1, "gateway": client_gateway_config(gw.url), "accounts": [{"id": 1}, {"id": 2}]}
    risk = {"version": 1, "general": {"control": {"port": free_port()}}, "rules": RULES}
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk))


def meta(database: Path) -> dict[str, str]:
    try:
        with Store.open(database, read_only=True) as store:
            return store.meta()
    except StoreError:  # not there yet, or the daemon is still migrating it
        return {}


def locked(database: Path) -> bool:
    try:
        with Store.open(database, read_only=True) as store:
            return any(lock.rule_id == "RULE-003" for lock in store.active_lockouts())
    except StoreError:
        return False


async def until(check: Any, what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not check():
            await asyncio.sleep(0.1)


async def trade_past_the_daily_limit(gw: RunningGateway, database: Path) -> None:
    """Buy 2 MNQ at 21000, then the market drops 100 points: -400.00 on a -100.00 limit.

    The market keeps quoting 20900 until the lock is there: the daemon subscribes to MNQ's
    quotes when it sees the position, and a single quote could come before that.
    """
    async with httpx.AsyncClient(base_url=gw.url, timeout=5.0) as http:
        token = (await http.post("/api/Auth/loginKey", json={"userName": "demo", "apiKey": "demo"})).json()[
            "token"
        ]
        found = await http.post("/api/Contract/search", json={"searchText": "MNQ", "live": False},
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        mnq = next(c["id"] for c in found.json()["contracts"] if c["id"].split(".")[3] == "MNQ")
        await http.post("/sim/quote", json={"contractId": mnq, "lastPrice": 21000.0})
        await http.post(
            "/sim/trade", json={"accountId": 1, "contractId": mnq, "type": 2, "side": 0, "size": 2}
        )
        async with asyncio.timeout(WAIT):
            while not locked(database):
                await http.post("/sim/quote", json={"contractId": mnq, "lastPrice": 20900.0})
                await asyncio.sleep(0.2)


def settled(app: StatusApp) -> bool:
    """The daemon's snapshot has the realized loss of its flatten, and the log has the flatten.

    The lock row is committed before the broker calls; the snapshot follows within a second
    and the log rows with the next flush.
    """
    frame = app.frame
    if frame is None or frame.daemon != "RUNNING" or not frame.accounts:
        return False
    realized = frame.accounts[0].realized or ""
    return realized.startswith("-") and any(a.action == "close_all" for a in frame.actions)


def screen_text(app: StatusApp) -> str:
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def test_status_screen_follows_a_real_daemon_through_a_lock_and_its_stop(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw)
            database = tmp_path / "data" / DATABASE_FILENAME
            with (tmp_path / "daemon.log").open("w") as log:
                daemon = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "risk_manager", "run",
                    "--config-dir", str(tmp_path / "config"), "--data-dir", str(tmp_path / "data"),
                    stdout=log, stderr=log,
                )  # fmt: skip
            try:
                await until(lambda: meta(database).get("connection") == "CONNECTED", "the daemon connected")
                await trade_past_the_daily_limit(gw, database)
                await watch(database, tmp_path / "config", daemon)
            finally:
                if daemon.returncode is None:
                    daemon.kill()
                    await daemon.wait()

    asyncio.run(main())


async def watch(database: Path, config_dir: Path, daemon: asyncio.subprocess.Process) -> None:
    """The trader's screen while the daemon runs, then after it stopped."""
    clock = ShiftedClock()
    app = StatusApp(StatusReader(database, config_dir, tz=UTC).read, clock, every=3600)  # ``r`` redraws
    async with app.run_test(size=(120, 60)) as pilot:
        async with asyncio.timeout(WAIT):
            while not settled(app):
                await pilot.press("r")
                await asyncio.sleep(0.1)
        await pilot.pause()
        shown = screen_text(app)
        assert "daemon RUNNING" in shown and "broker CONNECTED" in shown
        assert re.search(r"\(1\) LOCKED", shown), shown
        assert re.search(r"LOCKED until \d\d:\d\d UTC  \d\d:\d\d:\d\d", shown), shown  # a live countdown
        assert re.search(r"RULE-003 hard: daily P&L -\d+\.\d\d <= -100\.00", shown), shown
        assert re.search(r"\(2\) ACTIVE", shown), shown
        assert re.search(r"RULE-003  Daily loss +-\d+\.\d\d / -100\.00", shown), (
            shown
        )  # the daemon's usage figure
        assert "RULE-003  close_all" in shown, shown  # and its enforcement log

        before = app.redraws
        await pilot.press("r")
        assert app.redraws == before + 1

        daemon.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(daemon.wait(), WAIT) == 143
        clock.shift = timedelta(seconds=5)  # the last heartbeat is now older than 3 s
        await pilot.press("r")
        await pilot.pause()
        shown = screen_text(app)
        assert app.frame is not None and app.frame.daemon == "NOT RUNNING"
        assert "The daemon is not running" in shown and "python -m risk_manager run" in shown
        assert re.search(r"\(1\) LOCKED", shown) and "RULE-003 hard" in shown  # the lock, from the database

        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
