"""Fuzz, live: the simulator sends hostile frames to the running daemon over its real sockets.

Every kind of garbage a hub could carry goes out through ``/sim/malformed``: frames that
are not JSON or nest past the recursion limit (the hub drops the connection and comes
back with a resync), and well-framed events whose payloads are wrong (skipped, one
warning each, the connection kept). The daemon stays up, its hubs keep running, and a
valid breach sent after all of it is enforced.
"""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Any

import pytest
from fuzzkit import MNQ, VALID

from faultkit import MAX_TWO, LiveDaemon, Trader, live_daemon, trader_for, until, write_config
from risk_manager.broker.projectx.signalr import encode, invocation
from risk_manager.gateway import running_gateway

ORDER, TRADE, POSITION = VALID["GatewayUserOrder"], VALID["GatewayUserTrade"], VALID["GatewayUserPosition"]

#: Well-framed events with broken payloads: (target, arguments). Each is skipped by the user hub.
BROKEN_EVENTS: list[tuple[str, list[Any]]] = [
    ("GatewayUserTrade", [{**TRADE, "id": 2**64}]),
    ("GatewayUserTrade", [{**TRADE, "creationTimestamp": "0001-01-01T00:00:00+14:00"}]),
    ("GatewayUserTrade", [{**TRADE, "creationTimestamp": "0001-01-01T00:00:00Z"}]),
    ("GatewayUserTrade", [{**TRADE, "price": math.inf}]),
    ("GatewayUserTrade", [{**TRADE, "side": 7}]),
    ("GatewayUserPosition", [{**POSITION, "size": 10**30}]),
    ("GatewayUserPosition", [{**POSITION, "averagePrice": "🚀"}]),
    ("GatewayUserPosition", [{"action": 1, "data": [[[[[[[[[[POSITION]]]]]]]]]]}]),
    ("GatewayUserOrder", [{**ORDER, "size": "two"}]),
    ("GatewayUserOrder", [None]),
    ("GatewayUserOrder", []),
    ("GatewayUserAccount", [{"id": 1, "name": "\u202e1-MIS", "balance": "lots", "canTrade": "yes"}]),
]
#: Frames the SignalR decoder refuses: the hub reconnects and resyncs.
BROKEN_FRAMES = [
    '{"type":1,"target":"GatewayUserOrder","arguments":[' + "[" * 5000 + "]" * 5000 + "]}\x1e",
    "\x1e\x1e not json at all \x1e",
    '["a", "list", "not", "an", "object"]\x1e',
]


async def send_broken_events(live: LiveDaemon, trader: Trader) -> None:
    hub = live.daemon.user_hub
    assert hub is not None
    for target, arguments in BROKEN_EVENTS:  # framed here: JSON bodies cannot carry NaN or Infinity
        await trader.sim("malformed", {"kind": "raw", "text": encode(invocation(target, *arguments))})
    quote = encode(invocation("GatewayQuote", MNQ, {"lastPrice": -math.inf, "bestBid": math.nan}))
    await trader.sim("malformed", {"kind": "raw", "hub": "market", "text": quote})

    async def all_skipped() -> bool:
        live.alive()
        return sum(hub.malformed.values()) == len(BROKEN_EVENTS)

    await until(all_skipped, "every broken event skipped by the user hub")
    assert hub.connections == 1  # a broken payload never costs the connection


async def send_broken_frames(live: LiveDaemon, trader: Trader) -> None:
    hub = live.daemon.user_hub
    assert hub is not None
    for text in BROKEN_FRAMES:
        before = hub.connections
        await trader.sim("malformed", {"kind": "raw", "text": text})

        async def back(before: int = before) -> bool:
            live.alive()
            return hub.connections > before and hub.is_connected

        await until(back, f"reconnected after {text[:30]!r}", timeout=20)
    assert hub._task is not None and not hub._task.done()  # the hub's own loop still runs


def test_the_daemon_survives_every_hostile_frame_and_enforces_the_breach_after_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="risk_manager")

    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw.url, MAX_TWO)
            daemon = live_daemon(tmp_path / "config", tmp_path / "data")
            async with daemon as live, trader_for(gw.url) as trader:
                await send_broken_events(live, trader)
                await send_broken_frames(live, trader)
                mnq = await trader.contract("MNQ")
                await trader.quote(mnq, 21000.0)
                await trader.buy(1, mnq, 3)
                await trader.holds(1, mnq, 2, "RULE-001 enforced after all the garbage")

    asyncio.run(main())
    skipped = [r for r in caplog.records if "malformed" in r.getMessage() and "skipped" in r.getMessage()]
    kinds = {t for t, _ in BROKEN_EVENTS} | {"GatewayQuote"}
    assert {r.getMessage().split()[3] for r in skipped} == kinds  # each type of event...
    assert len(skipped) == len(kinds)  # ...logged once, at its first rejection (then every 100th)
    assert all(r.exc_info is None for r in skipped)
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info is not None]
    assert tracebacks == []
