"""The dead-man watchdog for real: the gateway simulator, a real DB with a heartbeat, real REST calls.

The watchdog's clock is a ManualClock (heartbeat age and market hours); the ProjectX client
and the simulator keep real time. The simulator is inspected through /sim/state only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from process_harness import wait_for, write_config
from risk_manager.broker.projectx.client import ProjectXClient
from risk_manager.config.accounts import AccountEntry
from risk_manager.config.risk import WatchdogConfig
from risk_manager.gateway import RunningGateway, running_gateway
from risk_manager.schedule import ExchangeCalendar, ManualClock
from risk_manager.service.watchdog import Flattener, Verdict, Watchdog, globex_open
from risk_manager.store import Store, to_iso

TUESDAY_NOON = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 12:00 New York: Globex open
SATURDAY_NOON = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)  # weekend: closed
CALENDAR = ExchangeCalendar()


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        pytest.param(TUESDAY_NOON, True, id="weekday-midday"),
        pytest.param(datetime(2026, 3, 10, 21, 30, tzinfo=UTC), False, id="daily-halt-17:30-ET"),
        pytest.param(datetime(2026, 3, 10, 22, 30, tzinfo=UTC), True, id="evening-session-18:30-ET"),
        pytest.param(SATURDAY_NOON, False, id="saturday"),
        pytest.param(datetime(2026, 3, 15, 23, 0, tzinfo=UTC), True, id="sunday-19:00-ET"),
        pytest.param(datetime(2026, 3, 13, 21, 30, tzinfo=UTC), False, id="friday-after-17:00-ET"),
        pytest.param(datetime(2025, 12, 25, 16, 0, tzinfo=UTC), False, id="christmas"),
    ],
)
def test_market_hours_follow_the_globex_week(at: datetime, is_open: bool) -> None:
    assert globex_open(CALENDAR)(at) is is_open


def beat(database: Path, at: datetime) -> None:
    with Store.open(database) as store:
        store.set_meta("heartbeat_at", to_iso(at))


class Desk:
    """The trader's hands on the simulator, and the watchdog under test."""

    def __init__(
        self, gw: RunningGateway, http: httpx.AsyncClient, database: Path, clock: ManualClock
    ) -> None:
        self.gw, self.http, self.database, self.clock = gw, http, database, clock
        client = ProjectXClient(gw.url, "demo", "demo")
        self.client = client
        settings = WatchdogConfig(stale_seconds=15, flatten_on_stale=True)
        flattener = Flattener(client, [AccountEntry(id=1), AccountEntry(id=2)])
        self.watchdog = Watchdog(database, settings, globex_open(CALENDAR), flattener, clock=clock)

    async def sim(self, path: str, body: dict[str, Any]) -> None:
        reply = await self.http.post(f"/sim/{path}", json=body)
        assert reply.status_code < 300, reply.text

    async def exposure(self) -> dict[int, tuple[int, int]]:
        """Per account: (open positions, working orders)."""
        state = (await self.http.get("/sim/state")).json()
        return {
            a["id"]: (len(a["positions"]), sum(o["status"] in (1, 6, 8) for o in a["orders"]))
            for a in state["accounts"]
        }

    async def open_positions(self) -> str:
        contracts = (await self.http.get("/sim/state")).json()["contracts"]
        mnq = next(c["id"] for c in contracts if ".MNQ." in c["id"])
        await self.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
        for account in (1, 2):
            await self.sim("trade", {"accountId": account, "contractId": mnq, "side": 0, "size": 2})
        await self.sim("trade", {"accountId": 1, "contractId": mnq, "type": 1, "side": 0, "size": 1,
                                 "limitPrice": 20900.0})  # fmt: skip
        assert await self.exposure() == {1: (1, 1), 2: (1, 0)}
        return mnq


def run_desk(tmp_path: Path, start: datetime, scenario: Any) -> None:
    async def main() -> None:
        async with (
            running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw,
            httpx.AsyncClient(base_url=gw.url, timeout=5.0) as http,
        ):
            desk = Desk(gw, http, tmp_path / "risk_manager.db", ManualClock(start))
            try:
                await scenario(desk)
            finally:
                await desk.client.aclose()

    asyncio.run(main())


def test_a_stale_heartbeat_in_market_hours_flattens_every_account_and_keeps_doing_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.open_positions()
        beat(desk.database, TUESDAY_NOON - timedelta(seconds=16))
        with caplog.at_level(logging.INFO, logger="risk_manager.watchdog"):
            assert await desk.watchdog.check() == Verdict.STALE
        assert await desk.exposure() == {1: (0, 0), 2: (0, 0)}
        alarms = [r for r in caplog.records if r.levelno == logging.CRITICAL and "STALE" in r.getMessage()]
        assert len(alarms) == 1 and "flattening every account" in alarms[0].getMessage()
        # still stale: the trader trades again -> flattened again on the next pass (its lock)
        await desk.open_positions()
        desk.clock.advance(seconds=5)
        assert await desk.watchdog.check() == Verdict.STALE
        assert await desk.exposure() == {1: (0, 0), 2: (0, 0)}
        # the heartbeat is back: the watchdog stands down and trading is left alone
        desk.clock.advance(seconds=5)
        beat(desk.database, desk.clock.now() - timedelta(seconds=1))
        await desk.open_positions()
        assert await desk.watchdog.check() == Verdict.FRESH
        assert await desk.exposure() == {1: (1, 1), 2: (1, 0)}
        assert not desk.watchdog.stale

    run_desk(tmp_path, TUESDAY_NOON, scenario)


def test_a_fresh_heartbeat_leaves_everything_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.open_positions()
        beat(desk.database, TUESDAY_NOON - timedelta(seconds=14))
        with caplog.at_level(logging.INFO, logger="risk_manager.watchdog"):
            assert await desk.watchdog.check() == Verdict.FRESH
        assert await desk.exposure() == {1: (1, 1), 2: (1, 0)}
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    run_desk(tmp_path, TUESDAY_NOON, scenario)


def test_market_closed_alerts_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(desk: Desk) -> None:
        await desk.open_positions()
        beat(desk.database, SATURDAY_NOON - timedelta(minutes=10))
        with caplog.at_level(logging.INFO, logger="risk_manager.watchdog"):
            assert await desk.watchdog.check() == Verdict.STALE_MARKET_CLOSED
        assert await desk.exposure() == {1: (1, 1), 2: (1, 0)}
        [alarm] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert "market closed: alert only" in alarm.getMessage()

    run_desk(tmp_path, SATURDAY_NOON, scenario)


def test_no_database_yet_counts_from_the_watchdogs_own_start(tmp_path: Path) -> None:
    async def scenario(desk: Desk) -> None:
        assert await desk.watchdog.check() == Verdict.FRESH  # a daemon gets stale_seconds to come up
        desk.clock.advance(seconds=16)
        assert await desk.watchdog.check() == Verdict.STALE

    run_desk(tmp_path, TUESDAY_NOON, scenario)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_the_watchdog_command_alerts_on_stderr_and_stops_on_sigterm(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    write_config(config, "http://127.0.0.1:9", [1], {}, general={"watchdog": {"stale_seconds": 5}})
    proc = subprocess.Popen(
        [sys.executable, "-m", "risk_manager", "watchdog", "--config-dir", str(config),
         "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        stderr = proc.stderr

        def alarm() -> dict[str, Any] | None:
            line = stderr.readline()
            record = json.loads(line) if line.startswith("{") else {}
            return record if record.get("event") == "watchdog_stale" else None

        record = wait_for(alarm, "the CRITICAL line", timeout=15)
        assert record["level"] == "CRITICAL"
        log = data / "logs" / "watchdog.log"
        wait_for(lambda: "watchdog_stale" in log.read_text(), "the line in watchdog.log", timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
