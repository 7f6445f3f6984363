"""Helpers for the fault tests: a real Daemon in-process against the gateway simulator on 127.0.0.1.

A uniquely named module at the root of tests/ (on the path) so the fault and fuzz tests can import it. The
trader trades through the simulator's ``/sim`` API, the test scripts faults through it
too, and the daemon sees everything over real HTTP and WebSocket connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from risk_manager.config.loader import load_config_set
from risk_manager.daemon.daemon import Daemon
from risk_manager.engine import Record
from risk_manager.gateway import client_gateway_config
from risk_manager.schedule import Clock
from risk_manager.store import DATABASE_FILENAME, Store

WAIT = 10.0
DAILY_LOSS = {"daily_realized_loss": {"enabled": True, "limit": -100.0, "include_unrealized": True}}
MAX_TWO = {"max_contracts": {"enabled": True, "limit": 2}}


def free_port() -> int:
    """A loopback port nobody listens on right now (for the daemon's control API, or a gateway to come)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    config_dir: Path, gateway_url: str, rules: dict[str, Any], accounts: tuple[int, ...] = (1, 2)
) -> None:
    """accounts.yaml and risk_config.yaml for the simulator at ``gateway_url``; a control port of its own."""
    config_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": 1,
        "gateway": client_gateway_config(gateway_url),
        "accounts": [{"id": a, "label": f"acct {a}"} for a in accounts],
    }
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(doc))
    risk = {"version": 1, "general": {"control": {"port": free_port()}}, "rules": rules}
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk))


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    """Poll ``check`` every 20 ms; fail naming ``what`` when it is not true within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:g} s: {what}") from None


class Trader:
    """The trader's hands and eyes on the simulator: /sim to trade and to script faults, /sim/state to look
    (it does not count against the gateway's rate limit, which the daemon shares)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def sim(self, path: str, body: dict[str, Any]) -> Any:
        reply = await self.http.post(f"/sim/{path}", json=body)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None

    async def state(self) -> dict[str, Any]:
        data: dict[str, Any] = (await self.http.get("/sim/state")).json()
        return data

    async def contract(self, symbol: str) -> str:
        contracts = (await self.state())["contracts"]
        return str(next(c["id"] for c in contracts if c["id"].split(".")[3] == symbol))

    async def account(self, account_id: int) -> dict[str, Any]:
        return dict(next(a for a in (await self.state())["accounts"] if a["id"] == account_id))

    async def position(self, account: int, contract_id: str) -> int:
        positions = (await self.account(account))["positions"]
        sizes = [
            p["size"] * (1 if p["type"] == 1 else -1) for p in positions if p["contractId"] == contract_id
        ]
        return sizes[0] if sizes else 0

    async def quote(self, contract_id: str, price: float) -> None:
        await self.sim("quote", {"contractId": contract_id, "lastPrice": price})

    async def buy(self, account: int, contract_id: str, size: int) -> None:
        await self.sim(
            "trade", {"accountId": account, "contractId": contract_id, "type": 2, "side": 0, "size": size}
        )

    async def holds(
        self, account: int, contract_id: str, size: int, what: str, timeout: float = WAIT
    ) -> None:
        seen: list[int] = []

        async def check() -> bool:
            seen.append(await self.position(account, contract_id))
            return seen[-1] == size

        try:
            await until(check, what, timeout)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc} (account {account} holds {seen[-1] if seen else '?'}, not {size})"
            ) from None


@dataclass
class LiveDaemon:
    """A Daemon running as a task of the test's event loop, and what it recorded."""

    daemon: Daemon
    task: asyncio.Task[int]
    records: list[Record] = field(default_factory=list)

    def alive(self) -> None:
        """Fail at once if the daemon task ended (with its exception, if any)."""
        if self.task.done():
            raise AssertionError(f"the daemon stopped: {self.task.result()!r}")

    async def connected(self) -> bool:
        """Connected and through its startup resync (meta says CONNECTED only after it): a fault
        scripted earlier would overlap the startup snapshot, a race of its own."""
        self.alive()
        hub = self.daemon.user_hub
        if self.daemon.engine is None or hub is None or not hub.is_connected:
            return False
        with Store.open(self.daemon.data_dir / DATABASE_FILENAME, read_only=True) as store:
            return store.get_meta("connection") == "CONNECTED"

    async def quoted(self, contract_id: str) -> None:
        """The daemon follows the contract's quotes (a hub sends no snapshot: only later quotes count)."""

        async def subscribed() -> bool:
            self.alive()
            hub = self.daemon.market_hub
            return hub is not None and hub.is_connected and contract_id in hub.contracts

        await until(subscribed, f"quotes of {contract_id} followed")
        await asyncio.sleep(0.1)  # the subscription reaches the simulator

    def held_locks(self, account: int) -> set[tuple[str, str]]:
        engine = self.daemon.engine
        return set() if engine is None else set(engine.states[account].held_locks)


@contextlib.asynccontextmanager
async def live_daemon(
    config_dir: Path, data_dir: Path, *, clock: Clock | None = None, connect: bool = True
) -> AsyncIterator[LiveDaemon]:
    """Run a daemon on ``config_dir`` until the block ends; it must then stop cleanly (exit 0)."""
    records: list[Record] = []
    daemon = Daemon(load_config_set(config_dir), data_dir, clock=clock, on_record=records.append)
    task = asyncio.create_task(daemon.run())
    live = LiveDaemon(daemon, task, records)
    try:
        if connect:
            await until(live.connected, "the daemon connected")
        yield live
    finally:
        daemon.stop.request(0)
        code = await asyncio.wait_for(task, WAIT)
    assert code == 0, f"the daemon exited {code}"


@contextlib.asynccontextmanager
async def trader_for(url: str) -> AsyncIterator[Trader]:
    async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
        yield Trader(http)


__all__ = [
    "DAILY_LOSS",
    "MAX_TWO",
    "WAIT",
    "LiveDaemon",
    "Trader",
    "free_port",
    "live_daemon",
    "trader_for",
    "until",
    "write_config",
]
