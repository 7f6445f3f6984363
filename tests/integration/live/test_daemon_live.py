"""The daemon against the gateway simulator over real sockets on 127.0.0.1 (issue 5).

The trader trades through the simulator's /sim API (as by hand on the platform); the
daemon sees it on the hubs and enforces through REST. What the simulator ends up with,
and what the daemon wrote to its database, are checked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from risk_manager.config.loader import load_config_set
from risk_manager.daemon.daemon import Daemon
from risk_manager.gateway import RunningGateway, client_gateway_config, running_gateway
from risk_manager.store import Store

WAIT = 10.0
RULES = {
    "max_contracts": {"enabled": True, "limit": 2},
    "daily_realized_loss": {"enabled": True, "limit": -100.0, "include_unrealized": True},
}


def write_config(config_dir: Path, gw: RunningGateway, rules: dict[str, Any]) -> None:
    config_dir.mkdir(parents=True)
    accounts = {
        "version": 1,
        "gateway": client_gateway_config(gw.url),
        "accounts": [{"id": 1, "label": "one"}, {"id": 2, "label": "two"}],
    }  # fmt: skip
    (config_dir / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    (config_dir / "risk_config.yaml").write_text(yaml.safe_dump({"version": 1, "rules": rules}))


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


class Trader:
    """The trader's hands and eyes on the simulator: /sim to trade, REST to look."""

    def __init__(self, gw: RunningGateway, http: httpx.AsyncClient) -> None:
        self.gw, self.http = gw, http
        self.token = ""

    async def login(self) -> None:
        reply = await self.http.post("/api/Auth/loginKey", json={"userName": "demo", "apiKey": "demo"})
        self.token = reply.json()["token"]

    async def api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await self.http.post(
            f"/api/{path}", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        data: dict[str, Any] = reply.json()
        return data

    async def sim(self, path: str, body: dict[str, Any]) -> Any:
        """The trader's own hands (and the test's control of the market)."""
        reply = await self.http.post(f"/sim/{path}", json=body)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None

    async def contract(self, symbol: str) -> str:
        found = await self.api("Contract/search", {"searchText": symbol, "live": False})
        return str(next(c["id"] for c in found["contracts"] if c["id"].split(".")[3] == symbol))

    async def account(self, account_id: int) -> dict[str, Any]:
        """The simulator's own view: /sim/state does not count against the gateway's rate limit,
        which the daemon shares (polling /api here would starve it)."""
        state = (await self.http.get("/sim/state")).json()
        return dict(next(a for a in state["accounts"] if a["id"] == account_id))

    async def position(self, account: int, contract_id: str) -> int:
        positions = (await self.account(account))["positions"]
        sizes = [
            p["size"] * (1 if p["type"] == 1 else -1) for p in positions if p["contractId"] == contract_id
        ]
        return sizes[0] if sizes else 0

    async def open_orders(self, account: int) -> list[dict[str, Any]]:
        return [o for o in (await self.account(account))["orders"] if o["status"] in (1, 6, 8)]


def run_live(
    tmp_path: Path, scenario: Callable[[Daemon, Trader], Awaitable[None]], rules: dict[str, Any] = RULES
) -> None:
    async def main() -> None:
        async with running_gateway(port=0, accounts=2, seed=1, quote_rate=0) as gw:
            write_config(tmp_path / "config", gw, rules)
            daemon = Daemon(load_config_set(tmp_path / "config"), tmp_path / "data")
            task = asyncio.create_task(daemon.run())
            async with httpx.AsyncClient(base_url=gw.url, timeout=5.0) as http:
                trader = Trader(gw, http)
                await trader.login()

                async def connected() -> bool:
                    if task.done():
                        task.result()
                    hub = daemon.user_hub
                    return daemon.engine is not None and hub is not None and hub.is_connected

                await until(connected, "the daemon connected")
                try:
                    await scenario(daemon, trader)
                finally:
                    daemon.stop.request(0)
                    assert await asyncio.wait_for(task, WAIT) == 0

    asyncio.run(main())


def test_breaches_are_enforced_end_to_end_and_recorded(tmp_path: Path) -> None:
    async def scenario(daemon: Daemon, trader: Trader) -> None:
        mnq = await trader.contract("MNQ")
        await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
        # RULE-001: 3 MNQ on a limit of 2 -> the daemon sells one back.
        await trader.sim("trade", {"accountId": 1, "contractId": mnq, "type": 2, "side": 0, "size": 3})

        async def trimmed() -> bool:
            return await trader.position(1, mnq) == 2

        await until(trimmed, "RULE-001 sold one back")
        # RULE-003: 2 MNQ falling 100 points is -400.00 unrealized, past -100: flatten and lock.
        await trader.sim("quote", {"contractId": mnq, "lastPrice": 20900.0})

        async def flat() -> bool:
            return await trader.position(1, mnq) == 0

        await until(flat, "RULE-003 flattened")
        # Locked: a new limit order from the trader is cancelled as soon as it appears.
        await trader.sim("trade", {"accountId": 1, "contractId": mnq, "type": 1, "side": 0, "size": 1,
                                   "limitPrice": 20800.0})  # fmt: skip

        async def cancelled() -> bool:
            return await trader.open_orders(1) == []

        await until(cancelled, "lockout mode cancelled the order")
        # Account 2 was never touched.
        assert await trader.position(2, mnq) == 0

    run_live(tmp_path, scenario)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        [lock] = store.active_lockouts()
        store_rows = store.enforcement_rows(limit=None)
        actions = [(r.rule_id, r.action, r.result) for r in store_rows]
        meta = store.meta()
    assert (lock.account_id, lock.rule_id, lock.kind) == (1, "RULE-003", "hard")
    assert ("RULE-001", "reduce", "OK") in actions
    assert ("RULE-003", "close_all", "OK") in actions
    assert ("RULE-003", "cancel_order", "OK") in actions, actions
    assert meta["connection"] == "DISCONNECTED" and "heartbeat_at" in meta
    accounts = json.loads(meta["snapshot"])["accounts"]
    assert [a["id"] for a in accounts] == [1, 2]


async def breach_max_contracts(trader: Trader, account: int = 1) -> str:
    """The trader buys 3 MNQ on a limit of 2; returns the contract."""
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    await trader.sim("trade", {"accountId": account, "contractId": mnq, "type": 2, "side": 0, "size": 3})
    return mnq


async def trimmed_to(trader: Trader, contract_id: str, size: int, account: int = 1) -> None:
    async def check() -> bool:
        return await trader.position(account, contract_id) == size

    await until(check, f"position {size}")


def test_a_fill_missed_while_the_socket_was_down_is_enforced_after_the_resync(tmp_path: Path) -> None:
    async def scenario(daemon: Daemon, trader: Trader) -> None:
        assert daemon.user_hub is not None
        before = daemon.user_hub.connections
        await trader.sim("drop", {})
        mnq = await breach_max_contracts(trader)  # happens while the daemon is disconnected

        async def reconnected() -> bool:
            assert daemon.user_hub is not None
            return daemon.user_hub.connections > before and daemon.user_hub.is_connected

        await until(reconnected, "the hub reconnected")
        await trimmed_to(trader, mnq, 2)

    run_live(tmp_path, scenario)


def test_a_malformed_event_is_skipped_and_enforcement_goes_on(tmp_path: Path) -> None:
    async def scenario(daemon: Daemon, trader: Trader) -> None:
        await trader.sim("malformed", {"kind": "payload"})
        mnq = await breach_max_contracts(trader)
        await trimmed_to(trader, mnq, 2)
        assert daemon.user_hub is not None and sum(daemon.user_hub.malformed.values()) >= 1

    run_live(tmp_path, scenario)


def test_a_close_refused_twice_by_the_gateway_succeeds_on_the_third_attempt(tmp_path: Path) -> None:
    async def scenario(daemon: Daemon, trader: Trader) -> None:
        await trader.sim("fail", {"endpoint": "Position/partialCloseContract", "times": 2, "status": 500})
        mnq = await breach_max_contracts(trader)
        await trimmed_to(trader, mnq, 2)

    run_live(tmp_path, scenario)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        rows = [(r.rule_id, r.action, r.result) for r in store.enforcement_rows(limit=None)]
    assert ("RULE-001", "reduce", "OK") in rows


def test_an_expired_token_is_renewed_and_enforcement_goes_on(tmp_path: Path) -> None:
    async def scenario(daemon: Daemon, trader: Trader) -> None:
        await trader.sim("expire-tokens", {})
        await trader.login()  # the trader's own session expired too
        mnq = await breach_max_contracts(trader)
        await trimmed_to(trader, mnq, 2)

    run_live(tmp_path, scenario)


def test_cooldown_and_automation_categories_live(tmp_path: Path) -> None:
    """RULE-007 (timer-cooldown) and RULE-012 (automation) against the simulator."""
    rules = {
        "cooldown_after_loss": {"enabled": True, "tiers": [{"loss_amount": -10.0, "duration": "5m"}]},
        "trade_management": {"enabled": True, "auto_stop_loss": {"enabled": True, "ticks": 40}},
    }

    async def scenario(daemon: Daemon, trader: Trader) -> None:
        mnq = await trader.contract("MNQ")
        await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
        await trader.sim("trade", {"accountId": 2, "contractId": mnq, "type": 2, "side": 0, "size": 1})

        async def stop_placed() -> bool:
            orders = await trader.open_orders(2)
            return any(
                o["type"] == 4 and o["stopPrice"] == 20990.0 and o["customTag"].startswith("RM-")
                for o in orders
            )

        await until(stop_placed, "RULE-012 placed the auto stop")
        # the market falls through the daemon's stop: stopped out at 20990.00, -20.00 and fees;
        # a daemon close's loss counts for RULE-007 (SPEC §1), which cools the account down
        await trader.sim("quote", {"contractId": mnq, "lastPrice": 20985.0})

        async def cooled() -> bool:
            assert daemon.engine is not None
            return ("RULE-007", "account") in daemon.engine.states[2].held_locks and await trader.open_orders(
                2
            ) == []

        await until(cooled, "RULE-007 cooldown with every order cancelled")
        assert await trader.position(2, mnq) == 0

    run_live(tmp_path, scenario, rules)
    with Store.open(tmp_path / "data" / "risk_manager.db", read_only=True) as store:
        [lock] = store.active_lockouts()
    assert (lock.rule_id, lock.kind, lock.account_id) == ("RULE-007", "cooldown", 2)


def test_the_broker_disabling_trading_flattens_and_locks_until_it_is_back(tmp_path: Path) -> None:
    """RULE-010 live: canTrade false -> flatten + broker lock; true -> unlocked."""
    rules = {"auth_loss_guard": {"enabled": True, "poll_interval_seconds": 30}}

    async def scenario(daemon: Daemon, trader: Trader) -> None:
        assert daemon.engine is not None
        state = daemon.engine.states[1]
        mnq = await breach_max_contracts(trader)  # no max_contracts here: just a position of 3
        await trimmed_to(trader, mnq, 3)
        await trader.sim("account", {"accountId": 1, "canTrade": False})
        await trimmed_to(trader, mnq, 0)

        async def locked() -> bool:
            return ("RULE-010", "account") in state.held_locks

        await until(locked, "RULE-010 locked")
        await trader.sim("account", {"accountId": 1, "canTrade": True})

        async def unlocked() -> bool:
            return not state.held_locks

        await until(unlocked, "RULE-010 released")

    run_live(tmp_path, scenario, rules)


async def _buy(trader: Trader, contract: str, size: int, account: int = 1) -> None:
    await trader.sim(
        "trade", {"accountId": account, "contractId": contract, "type": 2, "side": 0, "size": size}
    )


async def _rule_002(daemon: Daemon, trader: Trader) -> None:
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    await _buy(trader, mnq, 3)
    await trimmed_to(trader, mnq, 2)


async def quoted(daemon: Daemon, contract_id: str) -> None:
    """The daemon follows the contract's quotes (a hub sends no snapshot: only later quotes count)."""

    async def subscribed() -> bool:
        return daemon.market_hub is not None and contract_id in daemon.market_hub.contracts

    await until(subscribed, "quotes followed")
    await asyncio.sleep(0.1)  # the subscription reaches the simulator


async def _rule_004(daemon: Daemon, trader: Trader) -> None:
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    await _buy(trader, mnq, 1)
    await trimmed_to(trader, mnq, 1)
    await quoted(daemon, mnq)
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 20950.0})  # -100.00 on one position
    await trimmed_to(trader, mnq, 0)


async def _rule_005(daemon: Daemon, trader: Trader) -> None:
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    await _buy(trader, mnq, 1)
    await trimmed_to(trader, mnq, 1)
    await quoted(daemon, mnq)
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21050.0})  # +100.00: take it
    await trimmed_to(trader, mnq, 0)


async def _rule_006(daemon: Daemon, trader: Trader) -> None:
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    for _ in range(3):  # the third entry within a minute breaks per_minute: 2
        await _buy(trader, mnq, 1)
    await trimmed_to(trader, mnq, 0)
    assert daemon.engine is not None

    async def cooling() -> bool:
        assert daemon.engine is not None
        return ("RULE-006", "account") in daemon.engine.states[1].held_locks

    await until(cooling, "RULE-006 cooldown")


async def _rule_011(daemon: Daemon, trader: Trader) -> None:
    rty = await trader.contract("RTY")
    await trader.sim("quote", {"contractId": rty, "lastPrice": 2400.0})
    await _buy(trader, rty, 1)
    await trimmed_to(trader, rty, 0)


async def _rule_009(daemon: Daemon, trader: Trader) -> None:
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})

    async def locked() -> bool:  # the window (one minute at 03:00 UTC) is closed now: locked at startup
        assert daemon.engine is not None
        return ("RULE-009", "account") in daemon.engine.states[1].held_locks

    await until(locked, "RULE-009 session lock")
    await _buy(trader, mnq, 1)
    await trimmed_to(trader, mnq, 0)


async def _rule_013(daemon: Daemon, trader: Trader) -> None:
    mnq = await trader.contract("MNQ")
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21000.0})
    await _buy(trader, mnq, 1)
    await trimmed_to(trader, mnq, 1)
    await quoted(daemon, mnq)
    await trader.sim("quote", {"contractId": mnq, "lastPrice": 21060.0})  # +120.00 floating: target 100
    await trimmed_to(trader, mnq, 0)

    async def locked() -> bool:
        assert daemon.engine is not None
        return ("RULE-013", "account") in daemon.engine.states[1].held_locks

    await until(locked, "RULE-013 lock")


def _in_window() -> bool:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return now.hour == 3 and now.minute == 0


@pytest.mark.parametrize(
    ("rules", "scenario"),
    [
        pytest.param({"max_contracts_per_instrument": {"enabled": True, "limits": {"MNQ": 2}}}, _rule_002,
                     id="RULE-002"),
        pytest.param({"daily_unrealized_loss": {"enabled": True, "limit": -100.0}}, _rule_004, id="RULE-004"),
        pytest.param({"max_unrealized_profit": {"enabled": True, "target": 100.0}}, _rule_005, id="RULE-005"),
        pytest.param({"trade_frequency_limit": {"enabled": True, "limits": {"per_minute": 2}}}, _rule_006,
                     id="RULE-006"),
        pytest.param({"session_block_outside": {"enabled": True, "session": {
            "start": "03:00", "end": "03:01", "timezone": "UTC",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}}}, _rule_009, id="RULE-009",
            marks=pytest.mark.skipif(_in_window(), reason="the test's closed window is open right now")),
        pytest.param({"symbol_blocks": {"enabled": True, "blocked_symbols": ["RTY"]}}, _rule_011,
                     id="RULE-011"),
        pytest.param({"daily_realized_profit": {"enabled": True, "target": 100.0}}, _rule_013,
                     id="RULE-013"),
    ],
)  # fmt: skip
def test_each_remaining_rule_is_enforced_live(
    tmp_path: Path, rules: dict[str, Any], scenario: Callable[[Daemon, Trader], Awaitable[None]]
) -> None:
    run_live(tmp_path, scenario, rules)
