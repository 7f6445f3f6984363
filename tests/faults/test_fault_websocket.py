"""Fault: the hub WebSockets drop again and again (PROJECTX.md §4.5: drops are routine).

Each time the daemon reconnects, subscribes again and resyncs from REST, so a breach
made while it was disconnected is enforced after the resync, and one made after the
drops is enforced live. A drop in the middle of a resync must not leave the hub
holding events back forever.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from faultkit import DAILY_LOSS, MAX_TWO, LiveDaemon, Trader, live_daemon, trader_for, until, write_config
from risk_manager.gateway import running_gateway

RULES = {**MAX_TWO, **DAILY_LOSS}


async def drop_and_reconnect(live: LiveDaemon, trader: Trader, *, graceful: bool = False) -> None:
    hub = live.daemon.user_hub
    assert hub is not None
    before = hub.connections
    await trader.sim("drop", {"graceful": graceful})

    async def reconnected() -> bool:
        live.alive()
        market = live.daemon.market_hub
        return hub.connections > before and hub.is_connected and market is not None and market.is_connected

    await until(reconnected, "both hubs reconnected", timeout=20)


def test_repeated_drops_reconnect_resync_and_keep_enforcing(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, RULES)
            async with (
                live_daemon(tmp_path / "config", tmp_path / "data") as live,
                trader_for(gw.url) as trader,
            ):
                mnq = await trader.contract("MNQ")
                await trader.quote(mnq, 21000.0)
                await drop_and_reconnect(live, trader)
                hub = live.daemon.user_hub
                assert hub is not None
                before = hub.connections
                await trader.sim("drop", {})
                await trader.buy(1, mnq, 3)  # while the daemon is not connected: no event reaches it
                await until(lambda: _connected_again(live, before), "the user hub reconnected", timeout=20)
                await trader.holds(1, mnq, 2, "RULE-001 enforced from the resync after the drop")
                await drop_and_reconnect(live, trader, graceful=True)
                # after three drops, a breach is still enforced live
                await live.quoted(mnq)
                await trader.quote(mnq, 20940.0)  # 2 MNQ x -60 points = -240.00 <= -100.00
                await trader.holds(1, mnq, 0, "RULE-003 flattened after the drops")
                assert ("RULE-003", "account") in live.held_locks(1)
                assert hub.connections >= 4

    asyncio.run(main())


async def _connected_again(live: LiveDaemon, before: int) -> bool:
    live.alive()
    hub = live.daemon.user_hub
    return hub is not None and hub.connections > before and hub.is_connected


def test_a_drop_during_the_resync_neither_loses_the_breach_nor_holds_events_forever(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, MAX_TWO)
            async with (
                live_daemon(tmp_path / "config", tmp_path / "data") as live,
                trader_for(gw.url) as trader,
            ):
                hub = live.daemon.user_hub
                assert hub is not None
                mnq = await trader.contract("MNQ")
                await trader.quote(mnq, 21000.0)
                # the next resync's position snapshot is slow: the socket drops again meanwhile
                await trader.sim("delay", {"endpoint": "Position/searchOpen", "seconds": 1.5, "times": 2})
                before = hub.connections
                await trader.sim("drop", {"hub": "user"})
                await until(lambda: _connected_again(live, before), "reconnected once", timeout=20)
                await trader.buy(1, mnq, 3)
                resync = hub._resync  # the scenario needs the drop to land inside it
                assert resync is not None and not resync.done(), "the resync should still be waiting"
                await trader.sim("drop", {"hub": "user"})  # while the resync waits for Position/searchOpen
                await until(lambda: _connected_again(live, before + 1), "reconnected twice", timeout=20)
                await trader.holds(1, mnq, 2, "RULE-001 enforced after the interrupted resync", timeout=20)
                # events flow live again (nothing is held back): a new breach is seen from the hub
                await trader.buy(2, mnq, 4)
                await trader.holds(2, mnq, 2, "RULE-001 enforced live on account 2")
                # the events held during the first resync were older than the second one's snapshot:
                # replayed after it, they would undo the cut and account 1 would be cut a second time
                await asyncio.sleep(0.5)
                assert await trader.position(1, mnq) == 2, "account 1 was cut twice"
                fills = [t for t in (await trader.account(1))["trades"] if t["side"] == 1]
                assert len(fills) == 1, fills

    asyncio.run(main())
