"""Fault: the gateway is unreachable when the daemon starts (SPEC §4.2, RULE-010's note).

The daemon keeps trying with back-off, its heartbeat says DISCONNECTED so the status
screen shows it (the daemon RUNNING, the broker DISCONNECTED), and it connects, resyncs
and enforces as soon as the gateway appears on its port.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from faultkit import MAX_TWO, free_port, live_daemon, trader_for, until, write_config
from risk_manager.gateway import running_gateway
from risk_manager.store import Store
from risk_manager.tui.frame import StatusReader


def test_the_daemon_waits_for_an_unreachable_gateway_and_connects_when_it_appears(tmp_path: Path) -> None:
    port = free_port()
    config, data = tmp_path / "config", tmp_path / "data"
    write_config(config, f"http://127.0.0.1:{port}", MAX_TWO)
    db = data / "risk_manager.db"

    def frame() -> tuple[str, str | None]:
        shown = StatusReader(db, config).read(datetime.now(UTC))
        return shown.daemon, shown.connection

    async def main() -> None:
        async with live_daemon(config, data, connect=False) as live:

            async def says_disconnected() -> bool:
                live.alive()
                if not db.exists():
                    return False
                with Store.open(db, read_only=True) as store:
                    return store.get_meta("connection") == "DISCONNECTED"

            await until(says_disconnected, "meta says DISCONNECTED while the gateway is down")
            await asyncio.sleep(1.5)  # a retry or two fail on the closed port; nothing crashes
            live.alive()
            assert live.daemon.engine is None  # nothing to enforce with before the first login
            # no heartbeat before the first login: the status says so rather than RUNNING
            assert frame() == ("STALE", "DISCONNECTED")
            async with running_gateway(port=port, accounts=2, seed=1, quote_rate=0) as gw:
                await until(live.connected, "connected once the gateway listens", timeout=15)

                async def says_connected() -> bool:
                    return frame() == ("RUNNING", "CONNECTED")

                await until(says_connected, "the status screen shows RUNNING and CONNECTED")
                async with trader_for(gw.url) as trader:
                    mnq = await trader.contract("MNQ")
                    await trader.quote(mnq, 21000.0)
                    await trader.buy(1, mnq, 3)
                    await trader.holds(1, mnq, 2, "RULE-001 enforced after the late connect")

    asyncio.run(main())
