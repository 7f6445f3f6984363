"""The metrics endpoint of a real daemon against the gateway simulator, scraped over HTTP (issue 7).

The daemon runs with ``general.metrics`` enabled on a free loopback port; the trader breaks
RULE-001 and RULE-003 through ``/sim``; the test scrapes ``/metrics`` with httpx and parses
the text format with prometheus_client's own parser, so a malformed exposition fails too.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from risk_manager.config.loader import load_config_set
from risk_manager.daemon.daemon import Daemon
from risk_manager.gateway import RunningGateway, client_gateway_config, running_gateway

WAIT = 10.0
RULES = {
    "max_contracts": {"enabled": True, "limit": 2},
    "daily_realized_loss": {"enabled": True, "limit": -100.0, "include_unrealized": True},
}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(config_dir: Path, gw: RunningGateway, metrics_port: int) -> None:
    config_dir.mkdir(parents=True)
    accounts = {"version": 1, "gateway": client_gateway_config(gw.url), "accounts": [{"id": 1}, {"id": 2}]}
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    general = {"metrics": {"enabled": True, "port": metrics_port}}
    risk = {"version": 1, "general": general, "rules": RULES}
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump(risk))


async def scrape(port: int) -> Samples:
    """Every sample of the endpoint, keyed by (name, labels)."""
    async with httpx.AsyncClient(timeout=5.0) as http:
        reply = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"timed out waiting until {what}")


async def position(http: httpx.AsyncClient, account: int) -> int:
    state = (await http.get("/sim/state")).json()
    book = next(a for a in state["accounts"] if a["id"] == account)
    return sum(p["size"] for p in book["positions"])


def test_counters_move_when_a_breach_is_enforced_and_the_port_closes_on_stop(tmp_path: Path) -> None:
    port = free_port()

    async def main() -> None:
        async with (
            running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw,
            httpx.AsyncClient(base_url=gw.url, timeout=5.0) as http,
        ):
            write_config(tmp_path / "config", gw, port)
            daemon = Daemon(load_config_set(tmp_path / "config"), tmp_path / "data")
            task = asyncio.create_task(daemon.run())
            try:
                await exercise(daemon, gw, http, port)
            finally:
                daemon.stop.request(0)
                assert await asyncio.wait_for(task, WAIT) == 0
        with pytest.raises(httpx.ConnectError):
            await scrape(port)

    asyncio.run(main())


async def exercise(daemon: Daemon, gw: RunningGateway, http: httpx.AsyncClient, port: int) -> None:
    async def sim(path: str, body: dict[str, Any]) -> None:
        reply = await http.post(f"/sim/{path}", json=body)
        assert reply.status_code < 300, reply.text

    async def heartbeat_seen() -> bool:
        hub = daemon.user_hub
        if hub is None or not hub.is_connected:
            return False
        return ("risk_manager_heartbeat_age_seconds", frozenset()) in await scrape(port)

    await until(heartbeat_seen, "the daemon connected and beat once")
    before = await scrape(port)
    assert value(before, "risk_manager_up") == 1
    assert 0 <= value(before, "risk_manager_heartbeat_age_seconds") < 3
    assert value(before, "risk_manager_hub_connected", hub="user") == 1
    assert value(before, "risk_manager_request_budget_limit") == 200
    assert value(before, "risk_manager_request_budget_used") > 0  # login, searches, the resync
    assert value(before, "risk_manager_enforcement_latency_seconds_count") == 0
    assert value(before, "process_resident_memory_bytes") > 10e6

    state = (await http.get("/sim/state")).json()
    mnq = next(c["id"] for c in state["contracts"] if c["id"].split(".")[3] == "MNQ")
    await sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    # RULE-001: 3 on a limit of 2 -> the daemon sells one back.
    await sim("trade", {"accountId": 1, "contractId": mnq, "side": 0, "size": 3})

    async def reduced() -> bool:
        counted = value(await scrape(port), "risk_manager_enforcement_actions_total",
                        rule="RULE-001", action="reduce", result="OK")  # fmt: skip
        return counted == 1 and await position(http, 1) == 2

    await until(reduced, "RULE-001's reduce was counted")
    after = await scrape(port)
    assert value(after, "risk_manager_records_total", record="reduce", rule="RULE-001") == 1
    assert value(after, "risk_manager_enforcement_latency_seconds_count") == 1
    assert 0 < value(after, "risk_manager_enforcement_latency_seconds_sum") < 5
    trades = value(after, "risk_manager_events_total", type="GatewayUserTrade")
    assert trades >= 2  # the trader's fill and the daemon's sell

    # RULE-003: 2 MNQ falling 100 points is -400.00 unrealized, past -100: flatten and lock.
    await sim("quote", {"contractId": mnq, "lastPrice": 20900.0})

    async def locked() -> bool:
        return value(await scrape(port), "risk_manager_locks_active", rule="RULE-003") == 1

    await until(locked, "RULE-003's lock showed as active")
    flattened = await scrape(port)
    assert value(flattened, "risk_manager_events_total", type="GatewayQuote") >= 1  # the 20900 quote
    assert value(flattened, "risk_manager_records_total", record="lockout", rule="RULE-003") == 1
    assert value(flattened, "risk_manager_enforcement_actions_total",
                 rule="RULE-003", action="close_all", result="OK") == 1  # fmt: skip

    # A dropped user hub reconnects, and the reconnect is counted once.
    assert value(flattened, "risk_manager_hub_reconnects_total", hub="user") == 0
    await sim("drop", {"hub": "user"})

    async def reconnected() -> bool:
        samples = await scrape(port)
        return (
            value(samples, "risk_manager_hub_reconnects_total", hub="user") == 1
            and value(samples, "risk_manager_hub_connected", hub="user") == 1
        )

    await until(reconnected, "the user hub's reconnect was counted")
    assert value(await scrape(port), "risk_manager_store_error") == 0
