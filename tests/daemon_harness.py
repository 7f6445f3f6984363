"""A real daemon against the gateway simulator, both on 127.0.0.1, for tests of what users touch
(the control API, risk-admin, the status screen). Nothing on the wire is faked."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from risk_manager.config.loader import load_config_set
from risk_manager.control.password import set_password
from risk_manager.daemon.daemon import Daemon
from risk_manager.gateway import RunningGateway, client_gateway_config, running_gateway

WAIT = 10.0
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until(check: Callable[[], Awaitable[bool] | bool], what: str, timeout: float = WAIT) -> None:
    async def ok() -> bool:
        result = check()
        return await result if not isinstance(result, bool) else result

    try:
        async with asyncio.timeout(timeout):
            while not await ok():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


def write_config(config_dir: Path, gw_url: str, rules: dict[str, Any], control_port: int) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    accounts = {
        "version": 1,
        "gateway": client_gateway_config(gw_url),
        "accounts": [{"id": 1, "label": "one"}, {"id": 2, "label": "two"}],
    }
    risk = {"version": 1, "general": {"control": {"port": control_port}}, "rules": rules}
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts, sort_keys=False))
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk, sort_keys=False))


@dataclass
class Live:
    gw: RunningGateway
    daemon: Daemon
    task: asyncio.Task[int]
    sim: httpx.AsyncClient
    control_url: str
    config_dir: Path
    data_dir: Path

    async def trade(self, account: int, contract_id: str, side: int, size: int) -> None:
        reply = await self.sim.post("/sim/trade", json={"accountId": account, "contractId": contract_id,
                                                       "side": side, "size": size})  # fmt: skip
        assert reply.status_code < 300, reply.text

    async def quote(self, contract_id: str, price: float) -> None:
        reply = await self.sim.post("/sim/quote", json={"contractId": contract_id, "lastPrice": price})
        assert reply.status_code < 300, reply.text

    async def state(self) -> dict[str, Any]:
        data: dict[str, Any] = (await self.sim.get("/sim/state")).json()
        return data

    async def front(self, root: str) -> str:
        contracts = (await self.state())["contracts"]
        return str(next(c["id"] for c in contracts if c["id"].split(".")[3] == root))

    async def position(self, account: int, contract_id: str) -> int:
        accounts = (await self.state())["accounts"]
        positions = next(a for a in accounts if a["id"] == account)["positions"]
        sizes = [
            p["size"] * (1 if p["type"] == 1 else -1) for p in positions if p["contractId"] == contract_id
        ]
        return sizes[0] if sizes else 0


@contextlib.asynccontextmanager
async def live_daemon(
    tmp_path: Path, rules: dict[str, Any], *, password: str | None = PASSWORD
) -> AsyncIterator[Live]:
    """The simulator, a config with a free control port, an admin password, a connected daemon."""
    port = free_port()
    async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
        config_dir, data_dir = tmp_path / "config", tmp_path / "data"
        write_config(config_dir, gw.url, rules, port)
        if password is not None:
            set_password(config_dir, password)
        daemon = Daemon(load_config_set(config_dir), data_dir)
        task = asyncio.create_task(daemon.run())
        async with httpx.AsyncClient(base_url=gw.url, timeout=5.0) as sim:
            live = Live(gw, daemon, task, sim, f"http://127.0.0.1:{port}", config_dir, data_dir)

            def connected() -> bool:
                if task.done():
                    task.result()
                hub = daemon.user_hub
                return daemon.engine is not None and hub is not None and hub.is_connected

            await until(connected, "the daemon connected")
            try:
                yield live
            finally:
                if not task.done():
                    daemon.stop.request(143)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, WAIT)
