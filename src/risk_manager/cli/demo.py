"""``risk_manager demo``: the whole product on this machine, no credentials, no network.

Starts the gateway simulator on 127.0.0.1 and the daemon against it, with a config in a
temporary directory, then a scripted trader breaks one rule after another. Each breach
and what the daemon did about it is printed as it happens; a summary ends it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from rich.console import Console

from risk_manager.cli.options import EXIT_RUNTIME
from risk_manager.config.loader import load_config_set
from risk_manager.daemon.daemon import Daemon
from risk_manager.engine import Record
from risk_manager.gateway import RunningGateway, client_gateway_config, running_gateway
from risk_manager.replay.output import record_text

ACCOUNT = 1
RULES: dict[str, Any] = {
    "max_contracts": {"enabled": True, "limit": 3},
    "daily_realized_loss": {"enabled": True, "limit": -300.0, "include_unrealized": True},
    "no_stop_loss_grace": {"enabled": True, "grace_period_seconds": 5},
    "symbol_blocks": {"enabled": True, "blocked_symbols": ["RTY"]},
}
WAIT = 20.0


class DemoTrader:
    """A trader on the simulated platform: trades by hand (the /sim API) and moves the market."""

    def __init__(self, gw: RunningGateway, http: httpx.AsyncClient, console: Console) -> None:
        self.gw, self.http, self.console = gw, http, console

    async def sim(self, path: str, body: dict[str, Any]) -> None:
        reply = await self.http.post(f"/sim/{path}", json=body)
        reply.raise_for_status()

    async def front(self, root: str) -> str:
        state = (await self.http.get("/sim/state")).json()
        return str(next(c["id"] for c in state["contracts"] if c["id"].split(".")[3] == root))

    async def position(self, contract_id: str) -> int:
        state = (await self.http.get("/sim/state")).json()
        account = next(a for a in state["accounts"] if a["id"] == ACCOUNT)
        sizes = [
            p["size"] * (1 if p["type"] == 1 else -1)
            for p in account["positions"]
            if p["contractId"] == contract_id
        ]
        return sizes[0] if sizes else 0

    async def open_orders(self) -> int:
        state = (await self.http.get("/sim/state")).json()
        account = next(a for a in state["accounts"] if a["id"] == ACCOUNT)
        return sum(1 for o in account["orders"] if o["status"] in (1, 6, 8))

    def say(self, text: str) -> None:
        self.console.print(f"\n[bold cyan]trader:[/] {text}")

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        async with asyncio.timeout(WAIT):
            while not await check():
                await asyncio.sleep(0.05)


async def script(trader: DemoTrader) -> None:
    mnq, rty = await trader.front("MNQ"), await trader.front("RTY")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    await trader.sim("quote", {"contractId": rty, "lastPrice": 2400.0})

    trader.say("buys 5 MNQ at market (max contracts: 3)")
    await trader.sim("trade", {"accountId": ACCOUNT, "contractId": mnq, "type": 2, "side": 0, "size": 5})
    await trader.until(lambda: _equals(trader.position(mnq), 3))

    trader.say("keeps 3 MNQ without a stop (every position needs one within 5 s)")
    await trader.until(lambda: _equals(trader.position(mnq), 0))

    trader.say("buys 1 RTY (a blocked symbol)")
    await trader.sim("trade", {"accountId": ACCOUNT, "contractId": rty, "type": 2, "side": 0, "size": 1})
    await trader.until(lambda: _equals(trader.position(rty), 0))

    trader.say("buys 3 MNQ with a stop, then the market falls 60 points (daily loss limit -300.00)")
    await trader.sim("trade", {"accountId": ACCOUNT, "contractId": mnq, "type": 2, "side": 0, "size": 3})
    await trader.sim("trade", {"accountId": ACCOUNT, "contractId": mnq, "type": 4, "side": 1, "size": 3,
                               "stopPrice": 20900.0})  # fmt: skip
    for price in (20990.0, 20970.0, 20955.0, 20940.0):
        await trader.sim("quote", {"contractId": mnq, "lastPrice": price})
        await asyncio.sleep(0.3)
    await trader.until(lambda: _equals(trader.position(mnq), 0))

    trader.say("locked out until 17:00 New York, tries a limit order anyway")
    await trader.sim("trade", {"accountId": ACCOUNT, "contractId": mnq, "type": 1, "side": 0, "size": 1,
                               "limitPrice": 20900.0})  # fmt: skip
    await asyncio.sleep(0.3)
    await trader.until(lambda: _equals(trader.open_orders(), 0))


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


def _write_config(config_dir: Path, gw: RunningGateway) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    accounts = {
        "version": 1,
        "gateway": client_gateway_config(gw.url),
        "accounts": [{"id": ACCOUNT, "label": "Demo practice account"}],
    }  # fmt: skip
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts), encoding="utf-8")
    risk = {"version": 1, "general": {"protect_unlisted_accounts": False}, "rules": RULES}
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk), encoding="utf-8")


async def run_demo(console: Console, workdir: Path, *, keep_running: bool = False) -> list[Record]:
    records: list[Record] = []

    def show(record: Record) -> None:
        records.append(record)
        console.print(record_text(record), soft_wrap=True)

    async with running_gateway(port=0, accounts=2, seed=7, quote_rate=0) as gw:
        console.print(f"[dim]gateway simulator on {gw.url}; daemon data in {workdir / 'data'}[/]")
        _write_config(workdir / "config", gw)
        daemon = Daemon(load_config_set(workdir / "config"), workdir / "data", on_record=show)
        task = asyncio.create_task(daemon.run())
        async with httpx.AsyncClient(base_url=gw.url, timeout=5.0) as http:
            async with asyncio.timeout(WAIT):
                while daemon.user_hub is None or not daemon.user_hub.is_connected:
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.05)
            console.print("[green]daemon connected: watching account 1[/]")
            try:
                await script(DemoTrader(gw, http, console))
                if keep_running:
                    _explain(console, workdir, daemon.control_error)
                    daemon.install_signal_handlers()
                    await task
            finally:
                daemon.stop.request(0)
                await task
    return records


def _explain(console: Console, workdir: Path, control_error: str) -> None:
    dirs = f"--config-dir {workdir / 'config'} --data-dir {workdir / 'data'}"
    if control_error:
        console.print(f"[bold red]{control_error}[/]: risk-admin cannot reach this demo "
                      "(another daemon holds the port; stop it first)")  # fmt: skip
    console.print(
        "\n[bold]The daemon keeps running[/] (Ctrl-C stops it). In another terminal:\n"
        f"  risk-status {dirs}\n"
        f"  risk-admin init {dirs}            [dim]# the admin password, once[/]\n"
        f"  risk-admin unlock --all --reason 'demo unlock' {dirs}\n"
        f"  risk-admin rules set max_contracts limit 2 {dirs}   [dim]# tighter: at once[/]\n"
        f"  risk-admin rules set max_contracts limit 8 {dirs}   [dim]# looser: waits for the reset[/]\n"
        f"  risk-admin reset-day --reason 'demo reset' {dirs}"
    )


def demo(
    keep_running: Annotated[
        bool,
        typer.Option("--keep-running", help="After the script, keep the daemon running (Ctrl-C stops it)."),
    ] = False,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Put the demo's config/ and data/ here, fresh each run (default: a temporary dir)."
        ),
    ] = None,
) -> None:
    """Run the simulator, the daemon and a scripted trader who breaks the rules; show what happens."""
    console = Console(highlight=False)
    console.print(
        "[bold]Risk Manager demo[/]: a simulated ProjectX gateway on 127.0.0.1, no credentials needed."
    )
    if workdir is not None:  # the script expects a fresh day: an earlier demo's locks would stall it
        for part in ("config", "data"):
            shutil.rmtree(workdir / part, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="risk-manager-demo-") as tmp:
        try:
            records = asyncio.run(run_demo(console, workdir or Path(tmp), keep_running=keep_running))
        except TimeoutError as exc:
            console.print("[bold red]the demo stalled: the daemon did not react in time[/]")
            raise typer.Exit(EXIT_RUNTIME) from exc
    locks = [r for r in records if r.action in ("lockout", "cooldown")]
    actions = [r for r in records if r.action not in ("lockout", "cooldown", "unlock", "reset")]
    rules = sorted({r.rule for r in records if r.rule})
    console.print(f"\n[bold]summary:[/] {len(actions)} enforcement actions, {len(locks)} lock(s), "
                  f"rules that fired: {', '.join(rules)}")  # fmt: skip


__all__ = ["demo", "run_demo"]
